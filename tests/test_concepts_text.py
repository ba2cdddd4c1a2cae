"""The text lesson against NumPy: the vocabulary's order, padding, lookups, and the classifier's forward pass
written out in float64 from the Keras-layout weights (LSTMCell's equations, gate blocks i, f, c, o).
"""

from __future__ import annotations

import numpy as np
import torch

from ptref.concepts import text


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def _keras_lstm_classifier(weights: list[np.ndarray], ids: np.ndarray, skip_zeros: bool) -> np.ndarray:
    """Keras's Embedding → LSTM → Dense(sigmoid) in float64; ``skip_zeros``: mask_zero keeps the state over id 0."""
    embedding, kernel, recurrent, bias, dense_kernel, dense_bias = (w.astype(np.float64) for w in weights)
    units = recurrent.shape[0]
    h, c = np.zeros((len(ids), units)), np.zeros((len(ids), units))
    for t in range(ids.shape[1]):
        z = embedding[ids[:, t]] @ kernel + h @ recurrent + bias
        i, f, g, o = (z[:, k * units : (k + 1) * units] for k in range(4))
        c_new = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
        h_new = _sigmoid(o) * np.tanh(c_new)
        keep = (ids[:, t] == 0)[:, None] if skip_zeros else np.zeros((len(ids), 1), bool)
        h, c = np.where(keep, h, h_new), np.where(keep, c, c_new)
    return _sigmoid(h @ dense_kernel + dense_bias)[:, 0]


def test_vocabulary_is_padding_unknown_then_words_by_count_ties_reversed() -> None:
    shown = text.vocabulary_and_token_ids()
    vocabulary = shown["vocabulary"]
    assert vocabulary[:2] == ["", "[UNK]"]
    assert vocabulary[2:4] == ["the", "great"]  # 3 times each; "the" > "great" in reverse order
    assert set(vocabulary[2:]) == {"the", "movie", "was", "great", "plot", "dull", "acting", "fun"}
    words = [vocabulary[i] for i in shown["ids"][1]]
    assert words == ["the", "plot", "was", "dull", "the", "acting", "great"]
    assert shown["unseen word"] == 1


def test_padding_puts_zeros_before_or_after_and_cuts_the_front() -> None:
    shown = text.padding_and_truncation()
    sequences = [[2, 5, 3], [2, 7, 3, 2, 8, 9, 4], [4, 6]]
    pre = [[0] * (5 - len(s[-5:])) + s[-5:] for s in sequences]
    post = [s[-5:] + [0] * (5 - len(s[-5:])) for s in sequences]
    assert shown == {"pre (Keras default), maxlen 5": pre, "post (torch default), maxlen 5": post}


def test_embedding_is_a_row_lookup() -> None:
    shown = text.embedding_lookup()
    assert shown["ids shape"] == [2, 5] and shown["embedded shape"] == [2, 5, 4]
    np.testing.assert_allclose(shown["vector of id 5"], np.arange(20, 24) / 10, rtol=1e-7, atol=0)  # float32 of x/10
    assert shown["equals one_hot @ table"] is True


def test_classifier_matches_the_lstm_equations_in_float64() -> None:
    shown = text.embedding_lstm_classifier()
    ids = np.array([[0, 0, 2, 5, 3], [2, 7, 3, 2, 8], [0, 0, 0, 4, 6]])
    assert shown["shapes: ids, embedded, last state"] == [[3, 5], [3, 5, 4], [3, 3]]
    expected = _keras_lstm_classifier(text.keras_weights(), ids, skip_zeros=False)
    # float32 through 5 LSTM steps (~10 roundings each) against float64: 1e-6 relative is ample, 1e-7 absolute
    np.testing.assert_allclose(shown["P(positive)"], expected, rtol=1e-6, atol=1e-7)


def test_packing_skips_the_padding_as_mask_zero_does() -> None:
    shown = text.masking_padded_steps()
    ids = np.array([[2, 5, 3, 0, 0], [2, 7, 3, 2, 8], [4, 6, 0, 0, 0]])
    assert shown["lengths"] == [3, 5, 2]
    weights = text.keras_weights()
    for key, skip in (("P(positive), padding read", False), ("P(positive), padding skipped", True)):
        # as above: float32 LSTM against float64
        np.testing.assert_allclose(shown[key], _keras_lstm_classifier(weights, ids, skip), rtol=1e-6, atol=1e-7)
    read, skipped = shown["P(positive), padding read"], shown["P(positive), padding skipped"]
    assert read[1] == skipped[1] and read[0] != skipped[0] and read[2] != skipped[2]


def test_load_keras_weights_keeps_the_gate_order_and_zeroes_the_second_bias() -> None:
    weights = text.keras_weights()
    model = text.load_keras_weights(text.classifier(), weights)
    lstm = model["lstm"]
    for block in range(4):  # i, f, c/g, o: the same block of columns (Keras) and rows (torch)
        rows = slice(3 * block, 3 * (block + 1))
        assert torch.equal(lstm.weight_ih_l0[rows], torch.from_numpy(weights[1][:, rows].T.copy()))
    assert torch.equal(lstm.bias_hh_l0, torch.zeros(12))

