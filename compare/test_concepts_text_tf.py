"""The text lesson with Keras running live: the same vocabulary, ids and padding (integers: exact), and the
Embedding + LSTM classifier giving Keras's outputs once Keras's weights are copied into the torch modules.

Tolerance for the classifier: float32 through 5 LSTM steps, TensorFlow (Eigen) and ATen each rounding ~10 ops per
step, outputs ~0.6: rtol 1e-5 plus atol 1e-6 for outputs near 0.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
import torch
from compare.lesson_pairs import ran

from ptref.concepts import lesson, text

RTOL, ATOL = 1e-5, 1e-6


@pytest.mark.parametrize("step", ["vocabulary_and_token_ids", "padding_and_truncation", "embedding_lookup"])
def test_text_to_tensors_is_the_same_in_both(step: str) -> None:
    tf_values, torch_values = ran("text")[step]
    assert tf_values == torch_values  # strings, integers and tenths read from the same float32 table


@pytest.mark.parametrize("step", ["embedding_lstm_classifier", "masking_padded_steps"])
def test_classifier_outputs_agree(step: str) -> None:
    tf_values, torch_values = ran("text")[step]
    assert tf_values.keys() == torch_values.keys()
    for key, value in torch_values.items():
        if key.startswith("shapes"):
            assert tf_values[key] == value
        else:
            np.testing.assert_allclose(tf_values[key], value, rtol=RTOL, atol=ATOL, err_msg=key)


@pytest.mark.parametrize("mask_zero", [False, True])
def test_weights_copied_from_a_keras_initialized_model_give_its_outputs(mask_zero: bool) -> None:
    twin = lesson.load_twin("text")
    tf.keras.utils.set_random_seed(3)
    keras_model = twin.classifier(vocab_size=20, embedding_dim=8, units=6, mask_zero=mask_zero)
    model = text.load_keras_weights(text.classifier(20, 8, 6), keras_model.get_weights())
    ids = np.array([[5, 9, 13, 0, 0, 0], [1, 2, 3, 4, 5, 19], [7, 0, 0, 0, 0, 0]])
    lengths = [3, 6, 1] if mask_zero else None
    with torch.no_grad():
        torch_out = text.classify(model, torch.from_numpy(ids), lengths).numpy()
    np.testing.assert_allclose(twin.classify(keras_model, tf.constant(ids)).numpy(), torch_out, rtol=RTOL, atol=ATOL)
