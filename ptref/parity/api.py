"""Run the parity levels on any Keras model and torch model: :func:`compare_models` (a report) and
:func:`assert_parity` (for a user's pytest suite)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ptref.parity import engine
from ptref.parity import tolerance as T
from ptref.parity.report import ParityReport
from ptref.parity.tf import import_keras, onednn_state

LEVELS = ("forward", "gradient", "step", "trajectory", "interop")


def compare_models(
    keras_model: Any,
    torch_model: nn.Module,
    inputs: np.ndarray,
    targets: np.ndarray | None = None,
    *,
    levels: Sequence[str] = LEVELS,
    loss: Any = None,
    torch_loss: engine.TorchLoss | None = None,
    optimizer: Any = None,
    steps: int = 20,
    batch_size: int = 32,
    torch_output: Callable[[torch.Tensor], torch.Tensor] | None = None,
    tolerances: dict[str, T.Tolerance] | None = None,
    name: str = "model",
    transfer: str | None = "keras->torch",
    training_step: bool | None = None,
) -> ParityReport:
    """Compare ``keras_model`` (a ``keras.Model`` or a ``.keras``/``.h5`` path) and ``torch_model`` on ``inputs``
    (Keras's layout) at ``levels``.

    ``transfer``: ``"keras->torch"`` copies Keras's weights into the torch model first, ``"torch->keras"`` the
    other way, ``None`` compares the weights as they are. ``loss``/``optimizer``: Keras identifiers (default: the
    Keras model's compiled ones, else mean squared error and Adam); ``targets`` default to random ones of the output's
    shape (class indices for a sparse loss). ``tolerances`` overrides a level's bound by key: ``output``, ``layer``,
    ``gradient``, ``step``, ``trajectory`` (final weights), ``trajectory_loss``. Both models' weights are as given
    after the call, except for the transfer.
    """
    unknown = sorted(set(levels) - set(LEVELS))
    if unknown:
        raise ValueError(f"unknown parity levels {unknown}; levels: {', '.join(LEVELS)}")
    keras = import_keras()
    start = time.perf_counter()
    if isinstance(keras_model, (str, Path)):
        keras_model = keras.models.load_model(keras_model, compile=True)
    inputs = np.asarray(inputs)
    p = engine.pair(keras_model, torch_model, inputs, name, torch_output)
    if transfer == "keras->torch":
        p.keras_to_torch()
    elif transfer == "torch->keras":
        p.torch_to_keras()
    elif transfer is not None:
        raise ValueError(f"transfer must be 'keras->torch', 'torch->keras' or None, got {transfer!r}")
    loss = loss if loss is not None else _compiled(keras_model, "loss") or "mean_squared_error"
    optimizer = optimizer if optimizer is not None else _compiled(keras_model, "optimizer") or "adam"
    if targets is None:
        targets = random_targets(loss, np.asarray(keras_model(inputs[:1], training=False)).shape[1:], len(inputs))
    bounds = tolerances or {}
    report = ParityReport(notes=[
        f"map: {p.map_origin}; weights {transfer or 'as given'}; {len(inputs)} examples; loss {_label(loss)}, "
        f"optimizer {_label(optimizer)}",
        "Dropout: switched off in both models (rate 0) for the gradient, step and trajectory levels, since the two "
        "frameworks draw different masks; forward runs in inference mode, where Dropout is off anyway",
        f"TensorFlow oneDNN kernels: {onednn_state()} (TF_ENABLE_ONEDNN_OPTS, read once when TensorFlow is imported)",
    ])
    batch = slice(0, min(batch_size, len(inputs)))
    if "forward" in levels:
        report.checks += engine.forward(p, inputs, bounds.get("output", T.FORWARD), bounds.get("layer", T.LAYER))
    if "gradient" in levels:
        report.checks.append(engine.gradient(p, inputs[batch], targets[batch], loss, torch_loss,
                                             bounds.get("gradient")))
    if "step" in levels:
        report.checks.append(engine.step(p, inputs[batch], targets[batch], loss, optimizer, torch_loss,
                                         tolerance=bounds.get("step")))
    if "trajectory" in levels:
        report.checks += engine.trajectory(p, inputs, targets, loss, optimizer, steps, batch.stop, torch_loss,
                                           training_step, bounds.get("trajectory", T.TRAJECTORY_WEIGHTS))
        if "trajectory_loss" in bounds:
            report.checks[-2].tolerance = bounds["trajectory_loss"]
    if "interop" in levels:
        report.checks += engine.round_trip(p)
    report.seconds = time.perf_counter() - start
    return report


def assert_parity(keras_model: Any, torch_model: nn.Module, inputs: np.ndarray, targets: np.ndarray | None = None,
                  **options: Any) -> ParityReport:
    """:func:`compare_models`, raising ``AssertionError`` when a check fails; the message has one line per failing
    check, naming the level, the layer or parameter, the max abs/rel difference and the tolerance with its reason.

    Example (in a user's test)::

        from ptref.parity import assert_parity
        assert_parity(keras.models.load_model("model.keras"), MyTorchModel(), x_test[:64], y_test[:64],
                      levels=("forward", "gradient"))
    """
    report = compare_models(keras_model, torch_model, inputs, targets, **options)
    if not report.ok:
        lines = "\n".join(f"  {check.message()}" for check in report.failures)
        raise AssertionError(f"Keras and torch models differ ({len(report.failures)} of {len(report.checks)} "
                             f"checks):\n{lines}")
    return report


def random_targets(loss: Any, output_shape: tuple[int, ...], count: int, seed: int = 0) -> np.ndarray:
    """Targets for ``loss`` when none are given: class indices for a sparse categorical loss, one-hot rows for a
    categorical one, 0/1 for a binary one, standard normal values otherwise."""
    rng = np.random.default_rng(seed)
    name = _label(loss).lower()
    if "sparse" in name:
        return rng.integers(0, output_shape[-1], (count, *output_shape[:-1]))
    if "categorical" in name:
        classes = rng.integers(0, output_shape[-1], (count, *output_shape[:-1]))
        return np.eye(output_shape[-1], dtype=np.float32)[classes]
    if "binary" in name:
        return rng.integers(0, 2, (count, *output_shape)).astype(np.float32)
    return rng.standard_normal((count, *output_shape)).astype(np.float32)


def _compiled(keras_model: Any, attribute: str) -> Any:
    """The compiled loss (as an identifier) or optimizer (its config) of a Keras model, or None."""
    keras = import_keras()
    value = getattr(keras_model, attribute, None) if getattr(keras_model, "compiled", False) else None
    if value is None or isinstance(value, str):
        return value
    if attribute == "optimizer":
        return keras.optimizers.serialize(value)
    return keras.losses.serialize(value)


def _label(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("class_name", value))
    return value if isinstance(value, str) else getattr(value, "__name__", type(value).__name__)
