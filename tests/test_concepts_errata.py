"""The errata lesson's PyTorch side: each text's version shows its fault, each corrected version the right number.

References are NumPy float64 written from the formulas. Tolerances: float32 results against a float64 reference
get rtol 1e-6 plus atol 1e-7 (float32 rounding of O(1) values, a few ulps); exact where the value is a small
binary fraction. TensorFlow's side: ``compare/test_concepts_errata_tf.py``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from ptref import devices
from ptref.concepts import errata, lesson

REPO = Path(__file__).resolve().parents[1]
RTOL, ATOL = 1e-6, 1e-7


def test_errata_is_a_lesson_with_every_erratum_of_the_issue() -> None:
    assert "errata" in lesson.LESSONS
    assert [step.__name__ for step in errata.STEPS] == [
        "session_in_tf2", "sparse_matmul", "clipping_callback", "batch_norm_inference", "numpy_regression",
        "log_loss_sign", "decay_schedule_labels", "adam_beta2_and_bias_correction", "adadelta_formula",
        "backprop_transposes", "device_order",
    ]


def test_docs_page_lists_every_step() -> None:
    page = (REPO / "docs" / "errata.md").read_text(encoding="utf-8")
    for step in errata.STEPS:
        assert f"`{step.__name__}`" in page, step.__name__


def test_corrected_sparse_product_equals_the_dense_product() -> None:
    dense = np.array([[0, 1, 0, 0], [2, 0, 0, 0], [3, 0, 0, 4]], dtype=float)
    other = np.arange(1, 9, dtype=float).reshape(4, 2)
    assert errata.sparse_matmul()["corrected"] == (dense @ other).tolist()  # small integers: exact


def test_clipnorm_clips_each_gradient_to_one_before_the_step() -> None:
    values = errata.clipping_callback()
    # dL/dw = 2·(10w + b − 0)·10 = 200, dL/db = 20: each clipped to norm 1, then w −= 0.1, b −= 0.1
    for key in ("corrected", "clip_grad_norm_ per parameter"):
        assert values[key]["w"] == pytest.approx(0.9, rel=RTOL, abs=ATOL)
        assert values[key]["b"] == pytest.approx(-0.1, rel=RTOL, abs=ATOL)


def test_batch_norm_text_scales_by_0_9995_and_corrected_normalizes() -> None:
    values = errata.batch_norm_inference()
    x = np.array([1.0, 2.0, 3.0, 4.0])
    np.testing.assert_allclose(values["text / x"], 1 / np.sqrt(1 + 1e-3), rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(values["corrected"], (x - x.mean()) / np.sqrt(x.var() + 1e-3), rtol=RTOL, atol=ATOL)


def test_numpy_regression_text_raises_then_diverges_and_the_fix_reaches_two() -> None:
    values = errata.numpy_regression()
    assert values["text"] == "NameError: name 'x' is not defined"
    # w − 2 is multiplied by 1 + 0.01·15 per step from −2 (grad = 2·mean(X²)·(w − 2), mean(X²) = 7.5)
    assert values["text, x → X (w += lr·grad)"] == pytest.approx(2 - 2 * 1.15**100, rel=1e-9)
    # and by 1 − 0.15 with the sign fixed: float32 autograd, w ≈ 2 within float32 rounding
    assert values["corrected (w -= lr·grad)"] == pytest.approx(2 - 2 * 0.85**100, rel=RTOL, abs=ATOL)


def test_log_loss_text_is_the_negative_of_the_cross_entropy() -> None:
    y, p = np.array([1.0, 0.0, 1.0]), np.array([0.9, 0.2, 0.6])
    reference = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    values = errata.log_loss_sign()
    assert values["text"] == pytest.approx(-reference, rel=RTOL, abs=ATOL)
    assert values["corrected"] == pytest.approx(reference, rel=RTOL, abs=ATOL)
    assert values["F.binary_cross_entropy"] == pytest.approx(reference, rel=RTOL, abs=ATOL)


def test_the_texts_exponential_decay_is_inverse_time_and_its_linear_decay_goes_negative() -> None:
    values = errata.decay_schedule_labels()
    t = np.arange(5)
    np.testing.assert_allclose(values["corrected: InverseTimeDecay"], 0.1 / (1 + 0.5 * t), rtol=1e-12)
    np.testing.assert_allclose(values["text: α0/(1+λt), called exponential"], 0.1 / (1 + 0.5 * t), rtol=1e-12)
    np.testing.assert_allclose(values["ExponentialDecay (what the label means)"], 0.1 * 0.5**t, rtol=1e-12)
    assert min(values["text: linear α0 − 0.05·t"]) < 0
    np.testing.assert_allclose(values["corrected: PolynomialDecay(power=1)"], np.maximum(0.1 - 0.05 * t, 0),
                               rtol=1e-12, atol=1e-15)  # float64 arithmetic on 0.1 and 0.05


def adam_reference(beta2: float, bias_correction: bool, steps: int = 3) -> list[float]:
    """Adam on f(w) = w² from w = 1, lr 0.1, β1 0.9, in float64; Keras's form when bias-corrected
    (lr_t = lr·sqrt(1 − β2^t)/(1 − β1^t), ε = 1e-7 added to sqrt(v))."""
    w, m, v, path = 1.0, 0.0, 0.0, []
    for t in range(1, steps + 1):
        g = 2 * w
        m, v = 0.9 * m + 0.1 * g, beta2 * v + (1 - beta2) * g * g
        lr = 0.1 * math.sqrt(1 - beta2**t) / (1 - 0.9**t) if bias_correction else 0.1
        w -= lr * m / (math.sqrt(v) + 1e-7)
        path.append(w)
    return path


def test_adam_text_variant_and_real_adam_follow_their_formulas() -> None:
    values = errata.adam_beta2_and_bias_correction()
    np.testing.assert_allclose(values["text (β2 = 0.9, no bias correction)"], adam_reference(0.9, False),
                               rtol=RTOL, atol=ATOL)
    # Keras's Adam (and ptref's, step for step) forms 1 − β2ᵗ in float32: at t = 2, 1 − 0.998 keeps only ~4 of
    # float32's 7 digits, so the float64 reference is met to ~1e-5 relative at worst (2.8e-6 here), not to RTOL
    np.testing.assert_allclose(values["corrected (Adam)"], adam_reference(0.999, True), rtol=2e-5, atol=ATOL)


def test_adadelta_inverted_ratio_blows_up_and_the_real_rule_creeps() -> None:
    values = errata.adadelta_formula()
    rho, eps, w, acc_g, acc_d, path = 0.95, 1e-7, 1.0, 0.0, 0.0, []
    for _ in range(3):  # Zeiler's rule in float64
        g = 2 * w
        acc_g = rho * acc_g + (1 - rho) * g * g
        delta = -math.sqrt(acc_d + eps) / math.sqrt(acc_g + eps) * g
        acc_d = rho * acc_d + (1 - rho) * delta * delta
        w += delta
        path.append(w)
    np.testing.assert_allclose(values["corrected (Adadelta)"], path, rtol=RTOL, atol=ATOL)
    assert abs(values["text (ratio inverted)"][0]) > 1000  # first step: sqrt(0.2 / 1e-7)·2 ≈ 2828


def test_backprop_text_order_fails_and_x_transposed_delta_is_autograds_gradient() -> None:
    values = errata.backprop_transposes()
    assert values["text: δ·Xᵀ"].startswith("RuntimeError: mat1 and mat2 shapes cannot be multiplied")
    X = np.array([[0.5, -1.0], [1.5, 2.0], [-0.5, 0.25]])
    W = np.array([[0.7], [-0.8]])
    reference = X.T @ (2 * X @ W)
    # dW[0] = 0.05 is a float32 sum of terms up to 2.4 that cancel: their rounding (ulp ~2.4e-7) stays absolute
    np.testing.assert_allclose(values["corrected: Xᵀ·δ"], reference, rtol=RTOL, atol=1e-6)
    np.testing.assert_allclose(values["autograd dL/dW"], reference, rtol=RTOL, atol=1e-6)


@pytest.mark.parametrize(("hardware", "expected"), [({}, "cpu"), ({"cuda": True}, "cuda"), ({"mps": True}, "mps")])
def test_the_texts_device_order_and_ptrefs_pick_the_same_device(fake_hardware, hardware, expected) -> None:
    """Every combination a real machine has (no machine has both CUDA and MPS)."""
    fake_hardware(**hardware)
    values = errata.device_order()
    assert values["text picks here"] == values["ptref picks here"] == expected
    assert values["text's order"][0] == "mps" and values["ptref's order"][0] == "cuda"


def test_ptrefs_docs_say_the_pytorch_text_checks_mps_first() -> None:
    for text in ((REPO / "docs" / "devices.md").read_text(encoding="utf-8"), devices.__doc__):
        flat = " ".join(text.split())
        assert "PyTorch text checks MPS first" in flat
        assert "order of the course's seeds" not in flat and "the one the course's seeds use" not in flat
