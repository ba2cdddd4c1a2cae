"""The losses lesson: ``tf.keras.losses`` (live) and ``ptref.losses`` / ``torch.nn.functional`` give the same numbers.

Tolerance: rtol 1e-5 and atol 1e-7 (the suite's lesson tolerance): the same float32 formulas in both frameworks,
with TensorFlow's oneDNN reordering sums by ~1e-7 relative; the absolute part covers losses near 0 (1.2e-7 for a
clipped certain-and-right prediction). Keys only one framework has (``torch: ...``, ``tf: ...``) are checked
against the shared ``by hand`` / ``from logits`` value at the same tolerance.
"""

from __future__ import annotations

import numpy as np
import pytest

from compare.lesson_pairs import ran
from ptref.concepts import losses

RTOL, ATOL = 1e-5, 1e-7


def assert_pair_close(tf_values: dict, torch_values: dict) -> None:
    """Every key both sides return agrees; inf and nan must be in the same places."""
    shared = tf_values.keys() & torch_values.keys()
    assert shared == {k for k in tf_values if not k.startswith("tf: ")}
    for key in shared:
        tf_value, torch_value = tf_values[key], torch_values[key]
        if isinstance(torch_value, dict):
            assert_pair_close(tf_value, torch_value)
        else:
            np.testing.assert_allclose(tf_value, torch_value, rtol=RTOL, atol=ATOL, err_msg=key)


@pytest.mark.parametrize("step", [s.__name__ for s in losses.STEPS])
def test_keras_and_ptref_agree_on_every_value(step: str) -> None:
    assert_pair_close(*ran("losses")[step])


@pytest.mark.parametrize(
    ("step", "reference", "tf_key", "torch_key"),
    [
        ("mean_squared_error", "by hand", None, "torch: F.mse_loss"),
        ("binary_crossentropy", "by hand", None, "torch: F.binary_cross_entropy"),
        ("from_logits", "from logits", "tf: tf.nn.sigmoid_cross_entropy_with_logits",
         "torch: F.binary_cross_entropy_with_logits"),
        ("categorical_crossentropy", "by hand", "tf: tf.nn.sparse_softmax_cross_entropy_with_logits",
         "torch: F.cross_entropy"),
    ],
)
def test_each_frameworks_own_loss_gives_the_same_value(step, reference, tf_key, torch_key) -> None:
    tf_values, torch_values = ran("losses")[step]
    np.testing.assert_allclose(torch_values[torch_key], torch_values[reference], rtol=RTOL, atol=ATOL)
    if tf_key is not None:
        np.testing.assert_allclose(tf_values[tf_key], tf_values[reference], rtol=RTOL, atol=ATOL)


def test_keras_clips_certain_predictions_and_torch_clamps_the_log_at_100() -> None:
    tf_values, torch_values = ran("losses")["probability_exactly_0_or_1"]
    # −log(2⁻²³) and −log(1e-7): Keras's float32 clip bounds, in both
    for values in (tf_values, torch_values):
        np.testing.assert_allclose(values["Keras (clipped at 1e-7)"][:2], [23 * np.log(2), 16.118095], rtol=RTOL)
        assert np.isinf(values["formula as written"][:2]).all() and np.isnan(values["formula as written"][2])
    assert torch_values["torch: F.binary_cross_entropy"][:2] == [100.0, 100.0]


def test_the_texts_sign_error_gives_a_negative_loss_in_both() -> None:
    for values in ran("losses")["log_loss_sign_error"]:
        assert values["text's formula"] == -values["correct (with the minus)"] < 0
        assert values["text's formula, wrong predictions"] < values["text's formula"]
