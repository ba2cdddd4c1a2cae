"""The losses lesson (PyTorch side) against the formulas written out in float64 NumPy.

Tolerance unless stated: rtol 1e-6 and atol 1e-7. The lesson computes in float32 (a rounding is 6e-8 relative)
and each value takes a handful of roundings; the absolute part covers values near 0.
"""

from __future__ import annotations

import numpy as np
import pytest

from ptref.concepts import losses

RTOL, ATOL = 1e-6, 1e-7


def f64(tensor) -> np.ndarray:
    """A tensor's float32 values as float64: the reference starts from exactly the inputs the lesson used."""
    return tensor.numpy().astype(np.float64)


def close(actual, expected, rtol: float = RTOL, atol: float = ATOL) -> None:
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), expected, rtol=rtol, atol=atol)


def test_mse_is_the_mean_of_squared_errors_and_the_function_is_per_sample() -> None:
    values = losses.mean_squared_error()
    y_true, y_pred = (f64(t) for t in losses.regression_batch())
    squared = (y_pred - y_true) ** 2
    for key in ("by hand", "MeanSquaredError()", "torch: F.mse_loss"):
        close(values[key], squared.mean())
    close(values["per sample: mse"], squared.mean(axis=-1))


def _huber(e: np.ndarray, delta: float = 1.0) -> np.ndarray:
    return np.where(np.abs(e) <= delta, e**2 / 2, delta * np.abs(e) - delta**2 / 2)


def test_one_outlier_inflates_mse_far_more_than_huber_and_mae() -> None:
    values = losses.outlier_sensitivity()
    y_true, y_pred = (f64(t).ravel() for t in losses.outlier_batch())
    e = y_pred - y_true
    # per-element loss and its derivative with respect to the prediction
    formulas = {
        "MSE": (e**2, 2 * e),
        "MAE": (np.abs(e), np.sign(e)),
        "Huber (δ=1)": (_huber(e), np.clip(e, -1.0, 1.0)),
    }
    for name, (loss, grad) in formulas.items():
        close(values[name]["loss"], loss.mean())
        close(values[name]["loss without the outlier"], loss[:-1].mean())
        close(values[name]["outlier's gradient ÷ a typical one"], abs(grad[-1] / grad[0]))
    growth = {name: v["loss"] / v["loss without the outlier"] for name, v in values.items()}
    assert growth["MSE"] > growth["Huber (δ=1)"] > growth["MAE"]


def test_best_constants_are_the_mean_the_median_and_huber_between() -> None:
    values = losses.best_constant()
    data = np.array(values["data"])
    candidates = np.linspace(0.0, 10.0, 201)
    error = data[None, :] - candidates[:, None]
    best = {
        "MSE": candidates[np.argmin((error**2).mean(1))],
        "MAE": candidates[np.argmin(np.abs(error).mean(1))],
        "Huber (δ=1)": candidates[np.argmin(_huber(error).mean(1))],
    }
    # the candidates are float32 (spacing 5e-7 at 10): argmin picks the same one, within that rounding
    close(list(values["best c"].values()), list(best.values()), rtol=0, atol=1e-6)
    assert (values["mean"], values["median"]) == (np.mean(data), np.median(data)) == (8.0, 4.0)
    # Huber's M-estimate solves Σ clip(xᵢ − c, −1, 1) = 0: 22 − 5c = 0 for c in [4, 5]
    assert np.sum(np.clip(data - 4.4, -1, 1)) == pytest.approx(0.0, abs=1e-12)


def _bce(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def test_binary_crossentropy_is_minus_the_mean_log_likelihood() -> None:
    values = losses.binary_crossentropy()
    y, p = (f64(t).ravel() for t in losses.binary_batch())
    for key in ("by hand", "BinaryCrossentropy()", "torch: F.binary_cross_entropy"):
        close(values[key], _bce(y, p).mean())
    close(values["per sample: binary_crossentropy"], _bce(y, p))


def test_log_loss_without_its_minus_is_negative_and_rewards_wrong_predictions() -> None:
    values = losses.log_loss_sign_error()
    y, p = (f64(t).ravel() for t in losses.binary_batch())
    text = np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    close(values["text's formula"], text)
    close(values["correct (with the minus)"], -text)
    close(values["text's formula, wrong predictions"], np.mean(y * np.log(1 - p) + (1 - y) * np.log(p)))
    # d/dp₁ of the mean over 4 samples, y₁ = 1
    close(values["text's dL/dp₁ (descent lowers p₁)"], 1 / (4 * p[0]))
    close(values["correct dL/dp₁ (descent raises p₁)"], -1 / (4 * p[0]))
    assert values["text's formula, wrong predictions"] < values["text's formula"] < 0


def test_cross_entropy_from_logits_equals_it_from_sigmoid_probabilities() -> None:
    values = losses.from_logits()
    y = np.array([1.0, 0.0, 1.0, 0.0])
    z = np.array([2.0, -1.0, 0.5, 3.0])
    expected = _bce(y, 1 / (1 + np.exp(-z))).mean()
    for key in ("from logits", "stable formula by hand", "torch: F.binary_cross_entropy_with_logits"):
        close(values[key], expected)
    # sigmoid(z) is rounded to float32 before its log: 6e-8 relative on p, 1e-7 relative on the loss at most
    close(values["from sigmoid(z)"], expected, rtol=3e-7)


def test_certain_predictions_give_inf_and_nan_unless_clipped() -> None:
    values = losses.probability_exactly_0_or_1()
    as_written = np.array(values["formula as written"])
    assert np.isinf(as_written[:2]).all() and np.isnan(as_written[2])
    # Keras clips p into [1e-7, 1 − 1e-7] in float32, where 1 − 1e-7 rounds to 1 − 2⁻²³
    upper = np.float64(np.float32(1 - np.float32(1e-7)))
    assert upper == 1 - 2.0**-23
    lower = np.float64(np.float32(1e-7))
    close(values["Keras (clipped at 1e-7)"], [-np.log(1 - upper), -np.log(lower), -np.log(upper)])
    close(values["torch: F.binary_cross_entropy"], [100.0, 100.0, 0.0])  # torch clamps each log at −100
    tail = np.log1p(np.exp(-30.0))  # log(1 + e^(−|z|)) of the stable formula
    close(values["from logits ±30"], [30 + tail, 30 + tail, tail])


def test_categorical_crossentropy_four_ways_and_keras_renormalizing() -> None:
    values = losses.categorical_crossentropy()
    z = np.array([[1.0, 3.0, 0.2], [2.0, 0.5, 1.0]])
    log_p = z - np.log(np.exp(z).sum(1, keepdims=True))
    expected = -np.mean(log_p[[0, 1], [1, 2]])
    for key in ("by hand", "CategoricalCrossentropy()", "from logits", "sparse labels, from logits",
                "torch: F.cross_entropy"):
        close(values[key], expected)
    close(values["p summing to 0.9"], -np.log(np.float64(np.float32(0.5)) / np.float64(np.float32(0.9))), rtol=3e-7)


def test_reductions_sum_mean_and_sample_weight() -> None:
    values = losses.sum_vs_mean_reduction()
    y_true, y_pred = (f64(t) for t in losses.regression_batch())
    per_sample = ((y_pred - y_true) ** 2).mean(-1)
    close(values["per sample (reduction none)"], per_sample)
    close(values["Keras sum"], per_sample.sum())
    close(values["Keras sum, batch repeated twice"], 2 * per_sample.sum())
    close(values["Keras mean (sum_over_batch_size)"], per_sample.mean())
    close(values["Keras mean, batch repeated twice"], per_sample.mean())
    close(values["sample_weight (1, 0)"], per_sample[0] / 2)  # divided by N = 2, not by Σw = 1
    close(values["sum over every element"], ((y_pred - y_true) ** 2).sum())
