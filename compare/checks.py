"""The parity checks, one implementation for two front-ends: the pytest suite asserts on their
:class:`Result` records, ``ptref compare`` tabulates and plots them.

Every check builds the TensorFlow side the way a TensorFlow user writes it (Keras ``Sequential``,
``GradientTape``, ``fit``, and ``tf.compat.v1`` graph + placeholder + Session for the house-price course model),
the ptref side the way a ptref user does (the ptref model, trained by the real Lightning ``Trainer``), and
measures the difference against a tolerance from :mod:`compare.tolerances`.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from compare import workflows as W  # first: imports torch._dynamo before TensorFlow
from compare.tolerances import BATCHNORM_STEP, BATCHNORM_TRAINING, EXACT, FORWARD, GRADIENT, STEP, STEP_ADAPTIVE, Tolerance

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import torch  # noqa: E402
from torch.nn import functional as F  # noqa: E402

import ptref.optim  # noqa: E402
from ptref import interop  # noqa: E402


@dataclass
class Result:
    """One comparison: ``metric`` (max abs difference, or max ``tolerance.gap`` for "rel") vs the tolerance.

    ``expect_failure`` marks a "teeth" check: a deliberately wrong mapping, which *passes* as a teeth check when
    the parity metric exceeds the tolerance (the parity check it stands for fails).
    """

    level: str
    workflow: str
    what: str
    max_abs: float
    max_rel: float
    tolerance: Tolerance
    expect_failure: bool = False
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def metric(self) -> float:
        return self.max_abs if self.tolerance.kind == "abs" else self.max_rel

    @property
    def within(self) -> bool:
        return bool(self.metric <= self.tolerance.value)

    @property
    def ok(self) -> bool:
        """The verdict: within tolerance, or for a teeth check, outside it (the wrong mapping is caught)."""
        return self.within != self.expect_failure

    @property
    def verdict(self) -> str:
        if self.tolerance.value == float("inf"):
            return "measured"
        if self.expect_failure:
            return "caught" if self.ok else "NOT CAUGHT"
        return "pass" if self.ok else "FAIL"

    def as_dict(self) -> dict[str, Any]:
        record = asdict(self)
        record.update(metric=self.metric, verdict=self.verdict, ok=self.ok)
        return record


def difference(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """``(max |a − b|, max |a − b| / max |a|)``; the relative one is 0 when both are exactly 0."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    abs_diff = float(np.max(np.abs(a - b))) if a.size else 0.0
    scale = float(np.max(np.abs(a))) if a.size else 0.0
    return abs_diff, (abs_diff / scale if scale else abs_diff)


def combine(pairs: list[tuple[float, float]]) -> tuple[float, float]:
    return max((p[0] for p in pairs), default=0.0), max((p[1] for p in pairs), default=0.0)


# ---------------------------------------------------------------- outputs, losses, gradients of one batch
def ptref_output(pair: W.Pair, x: torch.Tensor, training: bool = False) -> torch.Tensor:
    """Probabilities (MNIST) or normalized price (house price), as the Keras model outputs them."""
    pair.ptref_model.train(training)
    output = pair.ptref_model(x)
    return output if pair.name == "house_price" else F.softmax(output, dim=1)


def ptref_loss(pair: W.Pair, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The loss the ptref workflow trains on: the course's 1/(2m)·‖ŷ − y‖², or cross-entropy of the logits."""
    model = pair.ptref_model.train()
    if pair.name == "house_price":
        return model.loss(model(x), y)
    return F.cross_entropy(model(x), y)


def keras_loss(pair: W.Pair, x: np.ndarray, y: np.ndarray) -> tf.Tensor:
    """Keras's loss on the softmax output (TF backend: computed from the hidden logits, numerics §4)."""
    output = pair.keras_model(x, training=True)
    if pair.name == "house_price":
        return 0.5 * tf.reduce_mean(tf.square(output - y))
    return tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y, output))


def transferred_pair(name: str, **ptref_options: Any) -> W.Pair:
    """A fresh pair with Keras's initial weights copied into the ptref model."""
    pair = W.pair(name, **ptref_options)
    interop.load_keras_weights(pair.ptref_model, pair.keras_model, pair.example_input)
    return pair


def keras_layout_gradients(pair: W.Pair) -> list[np.ndarray]:
    """The ptref model's ``.grad`` tensors mapped to Keras's layout, in ``trainable_weights`` order."""
    clone = copy.deepcopy(pair.ptref_model)
    for parameter, original in zip(clone.parameters(), pair.ptref_model.parameters()):
        parameter.data = original.grad.clone()
    arrays = interop.ptref_arrays(clone, pair.example_input)
    trainable = [variable.trainable for variable in pair.keras_model.weights]
    return [array for array, keep in zip(arrays, trainable) if keep]


# ---------------------------------------------------------------- level 1: forward
def forward(name: str, direction: str = "keras->ptref", size: int = 256) -> Result:
    """Same weights, real digits (or the course's houses): max |output_keras − output_ptref| (inference mode)."""
    pair = W.pair(name)
    if direction == "keras->ptref":
        interop.load_keras_weights(pair.ptref_model, pair.keras_model, pair.example_input)
    else:  # the ptref model keeps its own (torch) initialization; Keras receives it
        if name == "house_price":
            with torch.no_grad():
                pair.ptref_model.W.normal_()
        interop.to_keras(pair.ptref_model, pair.keras_model, pair.example_input)
    return _forward_result(pair, f"outputs, weights {direction}", size)


def _forward_result(pair: W.Pair, what: str, size: int = 256, expect_failure: bool = False) -> Result:
    x, _ = W.batch_for(pair.name, size)
    with torch.no_grad():
        mine = ptref_output(pair, x).numpy()
    theirs = pair.keras_model(pair.to_keras_input(x), training=False).numpy()
    abs_diff, rel_diff = difference(theirs, mine)
    return Result("forward", pair.name, what, abs_diff, rel_diff, FORWARD, expect_failure, {"examples": len(x)})


# ---------------------------------------------------------------- level 2: gradients
def gradient(name: str, size: int = 64) -> Result:
    """``GradientTape`` vs autograd on the same batch and loss, per parameter (its bound scaled to max |g_keras|)."""
    pair = transferred_pair(name)
    x, y = W.batch_for(name, size)
    ptref_loss(pair, x, y).backward()
    with tf.GradientTape() as tape:
        loss = keras_loss(pair, pair.to_keras_input(x), y.numpy())
    theirs = [g.numpy() for g in tape.gradient(loss, pair.keras_model.trainable_weights)]
    mine = keras_layout_gradients(pair)
    tolerance = BATCHNORM_TRAINING if name == "cnn_bn" else GRADIENT
    # S is the whole model's largest gradient: a parameter whose true gradient is 0 (the house-price bias on
    # centred data) holds rounding noise of the terms that cancelled, not of its own size.
    scale = max(float(np.max(np.abs(g))) for g in theirs)
    per_parameter = {
        variable.path: (difference(a, b)[0], float(np.max(tolerance.gap(b, a, scale), initial=0.0)))
        for variable, a, b in zip(pair.keras_model.trainable_weights, theirs, mine)
    }
    abs_diff, rel_diff = combine(list(per_parameter.values()))
    return Result("gradient", name, "gradients per parameter", abs_diff, rel_diff, tolerance,
                  details={"per_parameter": per_parameter})


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
ADAPTIVE = {"rmsprop", "adam", "adamw", "adagrad", "adadelta", "adamax", "nadam"}


def keras_optimizer(key: str) -> keras.optimizers.Optimizer:
    return keras.optimizers.get({"class_name": key.split("_")[0], "config": KERAS_OPTIMIZERS[key]})


def step(
    name: str,
    optimizer: str,
    size: int = 64,
    torch_optimizer: Callable[[Any], torch.optim.Optimizer] | None = None,
    what: str | None = None,
    expect_failure: bool = False,
    **ptref_options: Any,
) -> Result:
    """One step from identical weights and batch: Keras optimizer vs the ptref one built from its config.

    ``torch_optimizer`` replaces ptref's (a teeth check); the weights compared include BatchNorm moving stats.
    """
    pair = transferred_pair(name, **ptref_options)
    tf_optimizer = keras_optimizer(optimizer)
    factory = torch_optimizer or ptref.optim.get(keras.optimizers.serialize(tf_optimizer))
    torch_opt = factory(list(pair.ptref_model.parameters()))
    x, y = W.batch_for(name, size)
    ptref_loss(pair, x, y).backward()
    torch_opt.step()
    with tf.GradientTape() as tape:
        loss = keras_loss(pair, pair.to_keras_input(x), y.numpy())
    variables = pair.keras_model.trainable_weights
    tf_optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
    per_weight = {
        variable.path: difference(variable.numpy(), mine)
        for variable, mine in zip(pair.keras_model.weights, interop.ptref_arrays(pair.ptref_model, pair.example_input))
    }
    abs_diff, rel_diff = combine(list(per_weight.values()))
    tolerance = STEP_ADAPTIVE if optimizer in ADAPTIVE else STEP
    if name == "cnn_bn":
        tolerance = BATCHNORM_STEP
    return Result("step", name, what or f"weights after one {optimizer} step", abs_diff, rel_diff, tolerance,
                  expect_failure, {"per_weight": per_weight})


# ---------------------------------------------------------------- level 6: interop
def round_trip(name: str) -> list[Result]:
    """Keras → ptref → Keras and ptref → Keras → ptref: every array must come back bit for bit."""
    pair = W.pair(name)
    original = pair.keras_model.get_weights()
    if name == "cnn_bn":  # give the moving statistics non-default values, so their copy is tested too
        original = [w + np.float32(0.25) * i for i, w in enumerate(original)]
        pair.keras_model.set_weights(original)
    interop.load_keras_weights(pair.ptref_model, pair.keras_model, pair.example_input)
    back = interop.ptref_arrays(pair.ptref_model, pair.example_input)
    first = combine([difference(a, b) for a, b in zip(original, back)])
    state = {k: v.clone() for k, v in pair.ptref_model.state_dict().items()}
    fresh = W.keras_model(name, seed=1)
    interop.to_keras(pair.ptref_model, fresh, pair.example_input)
    interop.load_keras_weights(pair.ptref_model, fresh, pair.example_input)
    second = combine([difference(state[k].numpy(), v.numpy()) for k, v in pair.ptref_model.state_dict().items()])
    return [
        Result("interop", name, "round trip Keras→ptref→Keras", *first, EXACT),
        Result("interop", name, "round trip ptref→Keras→ptref", *second, EXACT),
    ]


def file_loading(name: str, suffix: str, folder: str) -> Result:
    """Save the Keras model as ``.keras`` or ``.h5``, load the file into ptref: weights identical to the live model's."""
    pair = W.pair(name)
    path = f"{folder}/{name}{suffix}"
    pair.keras_model.save(path)
    interop.load_keras_weights(pair.ptref_model, path, pair.example_input)
    back = interop.ptref_arrays(pair.ptref_model, pair.example_input)
    abs_diff, rel_diff = combine([difference(a, b) for a, b in zip(pair.keras_model.get_weights(), back)])
    return Result("interop", name, f"weights loaded from a {suffix} file", abs_diff, rel_diff, EXACT)
