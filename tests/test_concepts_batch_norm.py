"""The batch_norm lesson's PyTorch side against batch normalization's formulas in float64 NumPy.

Tolerance, every comparison: rtol 1e-6, atol 1e-6. The layers compute in float32 on values of size ≤ 7: a
mean, a variance and a division, each rounding by ~6e-8 relative (~4 ulps in all, 5e-7 relative); the absolute
part (1e-6, a few float32 ulps of the outputs' size ~1) covers outputs that are 0 and means that cancel to ~3e-8.
"""

from __future__ import annotations

import numpy as np
import pytest

from ptref.concepts import batch_norm, lesson

TOL = {"rtol": 1e-6, "atol": 1e-6}
EPS = 1e-3  # Keras's epsilon, also given to nn.BatchNorm1d in the lesson


def x(shift: float = 0.0) -> np.ndarray:
    return np.array([[1.0, -1.0], [2.0, 1.0], [3.0, 3.0], [6.0, 5.0]]) + shift


def normalized(values: np.ndarray, ddof: int) -> np.ndarray:
    """(x − μ) / √(σ² + ε), σ² = Σ (x − μ)² / (m − ddof): ddof 0 is the libraries', 1 the text's."""
    return (values - values.mean(0)) / np.sqrt(values.var(0, ddof=ddof) + EPS)


def test_batch_has_the_stated_statistics_and_no_zero() -> None:
    np.testing.assert_array_equal(batch_norm.batch().numpy(), x())
    np.testing.assert_allclose(x().var(0), [3.5, 5.0], rtol=1e-15)
    assert (x() != 0).all()


def test_training_normalizes_with_the_batch_and_inference_divides_by_sqrt_1_plus_eps() -> None:
    values = batch_norm.training_vs_inference()
    for key in ("inference: y", "torch BatchNorm1d(eps=1e-3), inference: y"):
        np.testing.assert_allclose(values[key], x() / np.sqrt(1 + EPS), **TOL, err_msg=key)
    for key in ("training: y", "torch BatchNorm1d(eps=1e-3), training: y"):
        np.testing.assert_allclose(values[key], normalized(x(), ddof=0), **TOL, err_msg=key)
    np.testing.assert_allclose(values["training: mean of y"], [0.0, 0.0], **TOL)
    np.testing.assert_allclose(values["training: (1/m) variance of y"], x().var(0) / (x().var(0) + EPS), **TOL)


def test_the_texts_call_gives_0_9995_x_and_training_mode_normalizes() -> None:
    values = batch_norm.errata_text_example_is_inference()
    factor = 1 / np.sqrt(1.001)
    assert values["1 / sqrt(1 + 1e-3)"] == pytest.approx(factor, rel=1e-15)  # a Python float
    np.testing.assert_allclose(values["the text's call: y"], factor * x(), **TOL)
    np.testing.assert_allclose(values["y / x"], np.full(8, factor), **TOL)
    np.testing.assert_allclose(values["training mode: y"], normalized(x(), ddof=0), **TOL)


def test_moving_means_follow_the_ema_with_keras_and_torch_momenta() -> None:
    values = batch_norm.moving_statistics_momentum()

    def ema(keep: float) -> list[np.ndarray]:
        moving, out = np.zeros(2), []
        for shift in (0.0, 1.0, 2.0):
            moving = keep * moving + (1 - keep) * x(shift).mean(0)
            out.append(moving)
        return out

    np.testing.assert_allclose(values["moving mean per batch, Keras momentum 0.99"], ema(0.99), **TOL)
    np.testing.assert_allclose(values["moving mean per batch, torch momentum 0.1"], ema(0.9), **TOL)
    np.testing.assert_allclose(values["moving mean per batch, torch momentum 0.01"], ema(0.99), **TOL)


def test_keras_stores_the_1_over_m_variance_and_torch_the_1_over_m_minus_1() -> None:
    values = batch_norm.biased_vs_unbiased_variance()
    np.testing.assert_allclose(values["variance, 1/m"], x().var(0), **TOL)
    np.testing.assert_allclose(values["variance, 1/(m-1)"], x().var(0, ddof=1), **TOL)
    np.testing.assert_allclose(values["moving variance, Keras momentum 0"], x().var(0), **TOL)
    np.testing.assert_allclose(values["running_var, torch momentum 1"], x().var(0, ddof=1), **TOL)
    for key in ("training: y", "(x - mean) / sqrt(var 1/m + eps)", "inference on the same batch: y"):
        np.testing.assert_allclose(values[key], normalized(x(), ddof=0), **TOL, err_msg=key)
    for key in ("the text's (x - mean) / sqrt(var 1/(m-1) + eps)", "torch inference on the same batch: y"):
        np.testing.assert_allclose(values[key], normalized(x(), ddof=1), **TOL, err_msg=key)
    # the two normalizations differ by √((σ²_(m-1) + ε) / (σ²_m + ε)) ≈ √(4/3): far beyond the tolerance
    assert not np.allclose(normalized(x(), ddof=0), normalized(x(), ddof=1), **TOL)


def test_batch_norm_is_a_lesson() -> None:
    assert "batch_norm" in lesson.LESSONS
    assert lesson.concept("batch_norm") is batch_norm
