"""The batch_norm lesson with TensorFlow live: Keras's ``BatchNormalization`` and ptref's / torch's, step by step.

Tolerance, every comparison: rtol 1e-6, atol 1e-6. Both sides compute in float32 on 4 rows of values ≤ 7: a
mean, a variance over 4 terms and a division, each rounding by ~6e-8 relative, summed in different orders
(Keras's ``moments`` and torch's kernels): a few ulps, ~5e-7 relative at most. The absolute part (1e-6, a few
ulps of outputs of size ~1) covers outputs that are 0 and means that cancel to ~3e-8.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

from ptref.concepts import lesson

TOL = {"rtol": 1e-6, "atol": 1e-6}


@functools.cache
def ran() -> dict[str, tuple[dict, dict]]:
    """``step -> (TensorFlow values, PyTorch values)``; fails if TensorFlow did not run."""
    steps, status = lesson.run_lesson("batch_norm")
    assert status.startswith("TensorFlow: running live"), status
    pairs = {}
    for step in steps:
        if not step.is_helper:
            assert step.tf.values is not None, f"batch_norm.{step.name}: {step.tf.note}"
            pairs[step.name] = (step.tf.values, step.torch.values)
    return pairs


@pytest.mark.parametrize(
    "step",
    [
        "training_vs_inference",
        "errata_text_example_is_inference",
        "moving_statistics_momentum",
        "biased_vs_unbiased_variance",
    ],
)
def test_keras_and_ptref_batch_normalization_return_the_same_values(step: str) -> None:
    tf_values, torch_values = ran()[step]
    assert set(tf_values) <= set(torch_values), step  # torch's own BatchNorm1d is shown beside them
    for key, value in tf_values.items():
        np.testing.assert_allclose(torch_values[key], value, **TOL, err_msg=f"{step}: {key}")


@pytest.mark.parametrize("mode", ["inference", "training"])
def test_torch_batchnorm1d_with_kerass_epsilon_equals_keras(mode: str) -> None:
    tf_values, torch_values = ran()["training_vs_inference"]
    np.testing.assert_allclose(
        torch_values[f"torch BatchNorm1d(eps=1e-3), {mode}: y"], tf_values[f"{mode}: y"], **TOL, err_msg=mode
    )


def test_the_texts_keras_call_returns_0_9995_x_not_a_normalized_x() -> None:
    tf_values, _ = ran()["errata_text_example_is_inference"]
    np.testing.assert_allclose(tf_values["y / x"], np.full(8, tf_values["1 / sqrt(1 + 1e-3)"]), **TOL)
    corrected = np.array(tf_values["training mode: y"])
    np.testing.assert_allclose(corrected.mean(0), [0.0, 0.0], **TOL)


def test_torch_momentum_0_01_is_kerass_0_99_and_torchs_default_moves_10x_faster() -> None:
    tf_values, torch_values = ran()["moving_statistics_momentum"]
    keras = np.array(tf_values["moving mean per batch, Keras momentum 0.99"])
    np.testing.assert_allclose(torch_values["moving mean per batch, torch momentum 0.01"], keras, **TOL)
    torch_default = np.array(torch_values["moving mean per batch, torch momentum 0.1"])
    # after one batch from 0: 0.1·μ against 0.01·μ, exactly 10× in exact arithmetic; float32 ulps only
    np.testing.assert_allclose(torch_default[0], 10 * keras[0], **TOL)


def test_keras_moving_variance_is_1_over_m_torchs_running_var_1_over_m_minus_1() -> None:
    tf_values, torch_values = ran()["biased_vs_unbiased_variance"]
    np.testing.assert_allclose(tf_values["moving variance, Keras momentum 0"], tf_values["variance, 1/m"], **TOL)
    np.testing.assert_allclose(torch_values["running_var, torch momentum 1"], tf_values["variance, 1/(m-1)"], **TOL)
    np.testing.assert_allclose(tf_values["training: y"], tf_values["(x - mean) / sqrt(var 1/m + eps)"], **TOL)
    np.testing.assert_allclose(
        torch_values["torch inference on the same batch: y"],
        tf_values["the text's (x - mean) / sqrt(var 1/(m-1) + eps)"],
        **TOL,
    )
