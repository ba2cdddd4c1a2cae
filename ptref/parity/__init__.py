"""``ptref.parity``: prove that a Keras model and a torch model compute and train the same, level by level.

    from ptref.parity import assert_parity, compare_models
    report = compare_models(keras_model, torch_model, x, y)     # forward per layer, gradients, step, trajectory,
    print(report.to_markdown())                                  # interop; report.write("out/") adds JSON + figures
    assert_parity(keras_model, torch_model, x, y)                # in a pytest suite: names the layer that parts

The torch model's ``keras_map()`` (:mod:`ptref.parity.mapping`) says which layer and weight is which; without one,
the map is inferred by layer order (:mod:`ptref.parity.infer`). Tolerances and their reasons:
:mod:`ptref.parity.tolerance`. TensorFlow is imported only inside the functions that need it
(:mod:`ptref.parity.tf`), never when this package is imported.
"""

from ptref.parity.api import LEVELS, assert_parity, compare_models, random_targets
from ptref.parity.engine import (
    ModelPair,
    forward,
    gradient,
    pair,
    round_trip,
    step,
    trajectory,
    trajectory_checks,
)
from ptref.parity.infer import infer_map
from ptref.parity.mapping import KerasMap, LayerLink, WeightLink
from ptref.parity.report import Check, ParityReport, difference
from ptref.parity.tolerance import Tolerance

__all__ = [
    "LEVELS", "Check", "KerasMap", "LayerLink", "ModelPair", "ParityReport", "Tolerance", "WeightLink",
    "assert_parity", "compare_models", "difference", "forward", "gradient", "infer_map", "pair", "random_targets",
    "round_trip", "step", "trajectory", "trajectory_checks",
]
