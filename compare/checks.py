"""The course's parity checks at levels 1-3 and 6, on :mod:`ptref.parity`: the pytest suite asserts on their
:class:`~ptref.parity.Check` records, ``python -m compare`` tabulates and plots them.

The TensorFlow side is the course's Keras models (:mod:`compare.workflows`), the ptref side the course's models; the
engine pairs them by layer order (:func:`ptref.parity.infer_map`) and compares outputs layer by layer, gradients and
one optimizer step, with the tolerances of :mod:`compare.tolerances`. Inputs go to the engine in Keras's layout.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from compare import workflows as W  # first: the TensorFlow bootstrap (ptref.parity.tf)
from compare.tolerances import EXACT
from ptref import interop, parity
from ptref.parity import Check, difference
from ptref.parity.tf import import_tensorflow

tf = import_tensorflow()


def course_pair(name: str, seed: int = 0, **ptref_options: Any) -> tuple[W.Pair, parity.ModelPair]:
    """A workflow's Keras and ptref models and the engine's pair of them (weights not yet shared)."""
    course = W.pair(name, seed, **ptref_options)
    x, _ = W.batch_for(name, 1)
    return course, parity.pair(course.keras_model, course.ptref_model, course.to_keras_input(x), name)


def transferred_pair(name: str, **ptref_options: Any) -> tuple[W.Pair, parity.ModelPair]:
    """A fresh pair with Keras's initial weights copied into the ptref model."""
    course, p = course_pair(name, **ptref_options)
    p.keras_to_torch()
    return course, p


def keras_loss(name: str) -> Any:
    """The Keras side's loss: the course's 1/(2m)·‖ŷ − y‖² for house prices, else sparse categorical cross-entropy
    of the softmax output (TF backend: from the hidden logits)."""
    if name == "house_price":
        return lambda y, out: 0.5 * tf.reduce_mean(tf.square(out - y))
    return "sparse_categorical_crossentropy"


def ptref_loss(name: str, model: torch.nn.Module) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The loss the ptref workflow trains on, ``(y, raw output) -> scalar``: the model's own, or cross-entropy of
    the logits."""
    if name == "house_price":
        return lambda y, out: model.loss(out, y)
    return lambda y, out: F.cross_entropy(out, y)


def batch(course: W.Pair, size: int) -> tuple[np.ndarray, np.ndarray]:
    x, y = W.batch_for(course.name, size)
    return course.to_keras_input(x), y.numpy()


# ---------------------------------------------------------------- level 1: forward, per layer
def forward(name: str, direction: str = "keras->ptref", size: int = 256) -> list[Check]:
    """Same weights, real digits (or the course's houses): outputs and every layer's output (inference mode)."""
    course, p = course_pair(name)
    if direction == "keras->ptref":
        p.keras_to_torch()
    else:  # the ptref model keeps its own (torch) initialization; Keras receives it
        if name == "house_price":
            with torch.no_grad():
                course.ptref_model.W.normal_()
        p.torch_to_keras()
    return parity.forward(p, batch(course, size)[0], what=f"outputs, weights {direction}")


# ---------------------------------------------------------------- level 2: gradients
def gradient(name: str, size: int = 64) -> Check:
    """``GradientTape`` vs autograd on the same batch and loss, per parameter (bound scaled to max |g_keras|)."""
    course, p = transferred_pair(name)
    x, y = batch(course, size)
    return parity.gradient(p, x, y, keras_loss(name), ptref_loss(name, course.ptref_model))


# ---------------------------------------------------------------- level 3: one optimizer step
KERAS_OPTIMIZERS: dict[str, dict[str, Any]] = {
    "sgd": {"learning_rate": 0.01},
    "sgd_nesterov": {"learning_rate": 0.01, "momentum": 0.9, "nesterov": True},
    "rmsprop": {},
    "adam": {},
    "adamw": {},
    "adagrad": {},
    "adadelta": {"learning_rate": 1.0},
    "adamax": {},
    "nadam": {},
}


def keras_optimizer_config(key: str) -> dict[str, Any]:
    return {"class_name": key.split("_")[0], "config": KERAS_OPTIMIZERS[key]}


def step(
    name: str,
    optimizer: str,
    size: int = 64,
    torch_optimizer: Callable[[Any], torch.optim.Optimizer] | None = None,
    what: str | None = None,
    expect_failure: bool = False,
    **ptref_options: Any,
) -> Check:
    """One step from identical weights and batch: Keras optimizer vs the ptref one built from its config
    (``torch_optimizer`` replaces it: a teeth check); BatchNorm moving statistics compared too."""
    course, p = transferred_pair(name, **ptref_options)
    x, y = batch(course, size)
    return parity.step(p, x, y, keras_loss(name), keras_optimizer_config(optimizer),
                       ptref_loss(name, course.ptref_model), torch_optimizer, what=what or
                       f"weights after one {optimizer} step", expect_failure=expect_failure)


# ---------------------------------------------------------------- level 6: ptref.interop
def round_trip(name: str) -> list[Check]:
    """``ptref.interop``: Keras → ptref → Keras and ptref → Keras → ptref, every array bit for bit."""
    course = W.pair(name)
    original = course.keras_model.get_weights()
    if name == "cnn_bn":  # give the moving statistics non-default values, so their copy is tested too
        original = [w + np.float32(0.25) * i for i, w in enumerate(original)]
        course.keras_model.set_weights(original)
    interop.load_keras_weights(course.ptref_model, course.keras_model, course.example_input)
    back = interop.ptref_arrays(course.ptref_model, course.example_input)
    first = _combine([difference(a, b) for a, b in zip(original, back)])
    state = {k: v.clone() for k, v in course.ptref_model.state_dict().items()}
    fresh = W.keras_model(name, seed=1)
    interop.to_keras(course.ptref_model, fresh, course.example_input)
    interop.load_keras_weights(course.ptref_model, fresh, course.example_input)
    second = _combine([difference(state[k].numpy(), v.numpy()) for k, v in course.ptref_model.state_dict().items()])
    return [
        Check("interop", name, "round trip Keras→ptref→Keras (ptref.interop)", *first, EXACT),
        Check("interop", name, "round trip ptref→Keras→ptref (ptref.interop)", *second, EXACT),
    ]


def file_loading(name: str, suffix: str, folder: str) -> Check:
    """Save the Keras model as ``.keras`` or ``.h5``, load the file into ptref: weights identical to the live
    model's."""
    course = W.pair(name)
    path = f"{folder}/{name}{suffix}"
    course.keras_model.save(path)
    interop.load_keras_weights(course.ptref_model, path, course.example_input)
    back = interop.ptref_arrays(course.ptref_model, course.example_input)
    abs_diff, rel_diff = _combine([difference(a, b) for a, b in zip(course.keras_model.get_weights(), back)])
    return Check("interop", name, f"weights loaded from a {suffix} file", abs_diff, rel_diff, EXACT)


def _combine(pairs: list[tuple[float, float]]) -> tuple[float, float]:
    return max((p[0] for p in pairs), default=0.0), max((p[1] for p in pairs), default=0.0)
