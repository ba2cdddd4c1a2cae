"""The errata lesson with TensorFlow live: each text's code fails (or misleads) as reported, each corrected version
gives the same numbers in TensorFlow and PyTorch.

Tolerances: integers and values rounded identically in both frameworks are compared exactly; other float32
results get rtol 1e-5 plus atol 1e-6 (same formulas, float32 in both; this suite runs TensorFlow with oneDNN
on, whose reordered sums move results by ~1e-7 relative, and the cancelling sums here reach ~2.4e-7 absolute).
"""

from __future__ import annotations

import numpy as np
import pytest

from compare.test_concepts_tf import ran as ran_lesson

RTOL, ATOL = 1e-5, 1e-6


def ran() -> dict[str, tuple[dict, dict]]:
    """``step -> (TensorFlow values, PyTorch values)`` of the errata lesson; fails if TensorFlow did not run."""
    return ran_lesson("errata")


@pytest.mark.parametrize(
    ("step", "error"),
    [
        ("session_in_tf2", "AttributeError: module 'tensorflow' has no attribute 'Session'"),
        ("sparse_matmul", "AttributeError: module 'tensorflow._api.v2.sparse' has no attribute 'matmul'"),
        ("clipping_callback", "AttributeError: 'SGD' object has no attribute 'get_gradients'"),
        ("numpy_regression", "NameError: name 'x' is not defined"),
    ],
)
def test_the_texts_code_raises_in_tensorflow_2(step: str, error: str) -> None:
    tf_values, _ = ran()[step]
    assert tf_values["text"] == error


def test_the_texts_transposed_product_is_refused_for_its_shapes() -> None:
    tf_values, _ = ran()["backprop_transposes"]
    message = "InvalidArgumentError: Matrix size-incompatible: In[0]: [3,1], In[1]: [2,3]"
    assert tf_values["text: δ·Xᵀ"].startswith(message)


@pytest.mark.parametrize("step", ["session_in_tf2", "sparse_matmul"])
def test_corrected_values_are_equal_exactly(step: str) -> None:
    tf_values, torch_values = ran()[step]
    assert tf_values["corrected"] == torch_values["corrected"]  # small integers and exact sums
    if step == "session_in_tf2":
        assert tf_values["tf.compat.v1.Session"] == tf_values["corrected"] == 5


def test_clipnorm_step_agrees() -> None:
    tf_values, torch_values = ran()["clipping_callback"]
    for key in ("w", "b"):
        np.testing.assert_allclose(tf_values["corrected"][key], torch_values["corrected"][key], rtol=RTOL, atol=ATOL)


@pytest.mark.parametrize(
    "step",
    ["batch_norm_inference", "numpy_regression", "log_loss_sign", "decay_schedule_labels",
     "adam_beta2_and_bias_correction", "adadelta_formula", "backprop_transposes"],
)
def test_text_and_corrected_numbers_agree_across_frameworks(step: str) -> None:
    tf_values, torch_values = ran()[step]
    for key, value in torch_values.items():
        if isinstance(value, str):  # an error message: each framework words its own
            continue
        if key in tf_values:
            np.testing.assert_allclose(tf_values[key], value, rtol=RTOL, atol=ATOL, err_msg=f"{step}: {key}")
        else:
            assert key == "F.binary_cross_entropy", key
    if step == "log_loss_sign":
        assert tf_values["keras binary_crossentropy"] == pytest.approx(tf_values["corrected"], rel=RTOL, abs=ATOL)


def test_keras_batch_norm_called_plainly_returns_0_9995_x() -> None:
    tf_values, _ = ran()["batch_norm_inference"]
    np.testing.assert_allclose(tf_values["text / x"], 1 / np.sqrt(1.001), rtol=RTOL, atol=ATOL)


def test_both_device_orders_pick_the_same_device_here() -> None:
    tf_values, torch_values = ran()["device_order"]
    assert "CPU" in tf_values["devices found"] and tf_values["placed on"].startswith("/job:")
    assert torch_values["text picks here"] == torch_values["ptref picks here"]
