"""ptref.losses against NumPy written here from the Keras formulas.

Sources: keras/src/losses/losses.py and keras/src/backend/tensorflow/nn.py.

Inputs are float64 (the classes get ``dtype="float64"``: their default is float32, Keras's floatx), so a correct
formula agrees to ~1e-15; rtol 1e-10 with atol 1e-12 only absorbs rounding. Every wrong
convention tested here (divisor, clipping, smoothing, renormalization, rank alignment) moves the loss by > 1e-3.
TensorFlow itself is the reference in compare/test_losses_tf.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ptref.losses as losses

EPS = 1e-7
rng = np.random.default_rng(0)
B, C = 6, 4
WEIGHTS = np.array([0.5, 2.0, 0.0, 1.0, 3.0, 0.25])
F64 = "float64"


def t(x) -> torch.Tensor:
    return torch.as_tensor(np.asarray(x, dtype=np.float64))


def close(actual: torch.Tensor, expected) -> None:
    np.testing.assert_allclose(actual.numpy(), expected, rtol=1e-10, atol=1e-12)


def keras_mean(per_sample, w=None):
    """sum_over_batch_size: sum(w * l) / number of per-sample losses, whatever the weights."""
    w = np.ones_like(per_sample) if w is None else w
    return (w * per_sample).sum() / per_sample.size


def probabilities(shape):
    """Random probabilities with exact 0s and 1s and values within 1e-9 of them."""
    p = rng.uniform(size=shape)
    flat = p.reshape(-1)
    flat[:4] = [0.0, 1.0, 1e-9, 1 - 1e-9]
    return p


def test_mse_aligns_b_against_b1_instead_of_broadcasting_to_bxb():
    y, p = rng.normal(size=B), rng.normal(size=(B, 1))
    close(losses.mean_squared_error(t(y), t(p)), (y - p[:, 0]) ** 2)
    close(losses.MeanSquaredError(dtype=F64)(t(y), t(p)), np.mean((y - p[:, 0]) ** 2))


def test_sample_weight_divides_by_batch_size_not_by_weight_sum():
    y, p = rng.normal(size=(B, 3)), rng.normal(size=(B, 3))
    per_sample = np.mean((y - p) ** 2, axis=-1)
    close(losses.MeanSquaredError(dtype=F64)(t(y), t(p), t(WEIGHTS)), keras_mean(per_sample, WEIGHTS))
    close(losses.MeanSquaredError("sum", dtype=F64)(t(y), t(p), t(WEIGHTS)), (WEIGHTS * per_sample).sum())
    close(losses.MeanSquaredError("none", dtype=F64)(t(y), t(p), t(WEIGHTS)), WEIGHTS * per_sample)
    close(
        losses.MeanSquaredError("mean_with_sample_weight", dtype=F64)(t(y), t(p), t(WEIGHTS)),
        (WEIGHTS * per_sample).sum() / WEIGHTS.sum(),
    )


def test_poisson_takes_a_rate_not_a_log_rate():
    y, p = rng.poisson(2.0, size=(B, 3)), rng.uniform(0.0, 4.0, size=(B, 3))
    close(losses.poisson(t(y), t(p)), np.mean(p - y * np.log(p + EPS), axis=-1))


@pytest.mark.parametrize("delta", [1.0, 2.0])
def test_huber_is_quadratic_inside_delta_and_linear_outside(delta):
    y, p = rng.normal(size=(B, 3)), 3 * rng.normal(size=(B, 3))
    e = np.abs(p - y)
    per = np.where(e <= delta, 0.5 * e**2, delta * e - 0.5 * delta**2)
    close(losses.Huber(delta, dtype=F64)(t(y), t(p)), keras_mean(per.mean(axis=-1)))


@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
def test_binary_crossentropy_clips_probabilities_at_1e_7(label_smoothing):
    y, p = rng.integers(0, 2, size=(B, 3)).astype(float), probabilities((B, 3))
    ys = y * (1 - label_smoothing) + 0.5 * label_smoothing
    q = np.clip(p, EPS, 1 - EPS)
    per = -(ys * np.log(q) + (1 - ys) * np.log(1 - q)).mean(axis=-1)
    close(losses.binary_crossentropy(t(y), t(p), label_smoothing=label_smoothing), per)


def test_binary_crossentropy_from_logits_is_stable_for_large_logits():
    y, z = rng.integers(0, 2, size=(B, 3)).astype(float), 50 * rng.normal(size=(B, 3))
    per = (np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))).mean(axis=-1)
    close(losses.BinaryCrossentropy(from_logits=True, dtype=F64)(t(y), t(z), t(WEIGHTS)), keras_mean(per, WEIGHTS))


@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
def test_categorical_crossentropy_renormalizes_then_clips(label_smoothing):
    y = np.eye(C)[rng.integers(0, C, size=B)]
    p = probabilities((B, C)) * 1.7  # rows do not sum to 1
    ys = y * (1 - label_smoothing) + label_smoothing / C
    q = np.clip(p / p.sum(axis=-1, keepdims=True), EPS, 1 - EPS)
    close(losses.categorical_crossentropy(t(y), t(p), label_smoothing=label_smoothing), -(ys * np.log(q)).sum(axis=-1))


def test_categorical_crossentropy_from_logits():
    y, z = np.eye(C)[rng.integers(0, C, size=B)], 10 * rng.normal(size=(B, C))
    log_softmax = z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
    close(losses.CategoricalCrossentropy(from_logits=True, dtype=F64)(t(y), t(z)),
          keras_mean(-(y * log_softmax).sum(axis=-1)))


def test_sparse_categorical_crossentropy_on_probabilities_renormalizes_the_clipped_values():
    y, p = rng.integers(0, C, size=(B, 1)), probabilities((B, C))
    q = np.clip(p, EPS, 1 - EPS)
    per = -np.log(q[np.arange(B), y[:, 0]]) + np.log(q.sum(axis=-1))
    close(losses.SparseCategoricalCrossentropy(dtype=F64)(t(y), t(p), t(WEIGHTS)), keras_mean(per, WEIGHTS))


def test_sparse_categorical_crossentropy_ignore_class_shrinks_the_divisor():
    y, z = rng.integers(0, C, size=B), rng.normal(size=(B, C))
    y[[1, 4]] = -1
    per = np.log(np.exp(z).sum(axis=-1)) - z[np.arange(B), np.maximum(y, 0)]
    valid = y != -1
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1, dtype=F64)(torch.as_tensor(y), t(z))
    close(loss, per[valid].sum() / valid.sum())


def test_log_loss_is_tf1_log_loss_averaged_over_nonzero_weights():
    y, p = rng.integers(0, 2, size=(B, 3)).astype(float), probabilities((B, 3))
    per = -y * np.log(p + EPS) - (1 - y) * np.log(1 - p + EPS)
    close(losses.log_loss(t(y), t(p)), per.mean())
    w = WEIGHTS[:, None]
    close(losses.log_loss(t(y), t(p), weights=t(w)), (w * per).sum() / (np.count_nonzero(w) * 3))


def test_loss_names_resolve_like_keras_losses_get():
    assert losses.get("mse") is losses.mean_squared_error
    assert isinstance(losses.get("Hinge"), losses.Hinge)
    with pytest.raises(ValueError, match="could not interpret loss identifier"):
        losses.get("hinge_loss")
