"""ptref.losses beside keras.losses (and TF1's log_loss) on the same float32 inputs.

Probabilities include exact 0 and 1 and values within 1e-9 of them, where clipping decides the result.
Inputs are NumPy arrays, i.e. genuine probabilities for Keras (no hidden-logits shortcut).

Tolerance: rtol 1e-6 with atol 1e-6, in float32: a few ulps of losses up to ~16 (= -log 1e-7), summed over the
batch in a different order. Any convention difference (divisor, clipping, smoothing) is >= 1e-3.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
import torch

import ptref.losses as losses

B, C = 32, 5
rng = np.random.default_rng(0)


def probabilities(shape) -> np.ndarray:
    p = rng.uniform(size=shape)
    p.reshape(-1)[:6] = [0.0, 1.0, 1e-9, 1 - 1e-9, 1e-7, 0.5]
    return p.astype(np.float32)


Y_BIN = rng.integers(0, 2, size=(B, 3)).astype(np.float32)
P_BIN = probabilities((B, 3))
Y_INT = rng.integers(0, C, size=B)
Y_ONEHOT = np.eye(C, dtype=np.float32)[Y_INT]
P_CAT = probabilities((B, C))
LOGITS = (8 * rng.standard_normal((B, C))).astype(np.float32)
LOGITS_BIN = (8 * rng.standard_normal((B, 3))).astype(np.float32)
Y_REAL = rng.standard_normal((B, 3)).astype(np.float32)
P_REAL = (3 * rng.standard_normal((B, 3))).astype(np.float32)
COUNTS = rng.poisson(2.0, size=(B, 3)).astype(np.float32)
RATES = rng.uniform(0.0, 4.0, size=(B, 3)).astype(np.float32)
WEIGHTS = rng.uniform(0.0, 3.0, size=B).astype(np.float32)
WEIGHTS[:4] = 0.0

# name -> (loss class name, constructor kwargs, y_true, y_pred); both libraries use the same class names
CASES = {
    "mse": ("MeanSquaredError", {}, Y_REAL, P_REAL),
    "mse-B-vs-B1": ("MeanSquaredError", {}, Y_REAL[:, 0], P_REAL[:, :1]),
    "poisson": ("Poisson", {}, COUNTS, RATES),
    "huber-delta2": ("Huber", {"delta": 2.0}, Y_REAL, P_REAL),
    "bce": ("BinaryCrossentropy", {}, Y_BIN, P_BIN),
    "bce-smoothing": ("BinaryCrossentropy", {"label_smoothing": 0.1}, Y_BIN, P_BIN),
    "bce-logits": ("BinaryCrossentropy", {"from_logits": True}, Y_BIN, LOGITS_BIN),
    "cce": ("CategoricalCrossentropy", {}, Y_ONEHOT, P_CAT),
    "cce-smoothing-logits": (
        "CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.2}, Y_ONEHOT, LOGITS
    ),
    "scce": ("SparseCategoricalCrossentropy", {}, Y_INT, P_CAT),
    "scce-logits-B1-labels": ("SparseCategoricalCrossentropy", {"from_logits": True}, Y_INT[:, None], LOGITS),
    "scce-ignore-class": ("SparseCategoricalCrossentropy", {"from_logits": True, "ignore_class": 0}, Y_INT, LOGITS),
}


def close(ours: torch.Tensor, keras_value) -> None:
    np.testing.assert_allclose(ours.numpy(), np.asarray(keras_value), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none", "mean_with_sample_weight"])
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_loss_matches_keras(case, weighted, reduction):
    name, kwargs, y_true, y_pred = CASES[case]
    weight = WEIGHTS if weighted else None
    expected = getattr(keras.losses, name)(**kwargs, reduction=reduction)(y_true, y_pred, sample_weight=weight)
    ours = getattr(losses, name)(**kwargs, reduction=reduction)
    close(ours(torch.from_numpy(np.asarray(y_true)), torch.from_numpy(y_pred),
               None if weight is None else torch.from_numpy(weight)), expected)


@pytest.mark.parametrize("name", ["mean_squared_error", "binary_crossentropy", "categorical_crossentropy", "poisson"])
def test_loss_function_is_keras_per_sample_function(name):
    y_true, y_pred = {"mean_squared_error": (Y_REAL, P_REAL), "binary_crossentropy": (Y_BIN, P_BIN),
                      "categorical_crossentropy": (Y_ONEHOT, P_CAT), "poisson": (COUNTS, RATES)}[name]
    expected = getattr(keras.losses, name)(y_true, y_pred)
    close(getattr(losses, name)(torch.from_numpy(y_true), torch.from_numpy(y_pred)), expected)


@pytest.mark.parametrize("weights", [1.0, WEIGHTS[:, None]], ids=["unweighted", "weighted"])
def test_log_loss_matches_tf1_log_loss(weights):
    expected = tf.compat.v1.losses.log_loss(Y_BIN, P_BIN, weights=weights)
    close(losses.log_loss(torch.from_numpy(Y_BIN), torch.from_numpy(P_BIN), torch.as_tensor(weights)), expected)


def test_torch_binary_cross_entropy_without_keras_clipping_fails_parity():
    expected = keras.losses.BinaryCrossentropy()(Y_BIN, P_BIN)
    native = torch.nn.functional.binary_cross_entropy(torch.from_numpy(P_BIN), torch.from_numpy(Y_BIN))
    assert abs(native.item() - float(expected)) > 1e-3
