"""Text as tensors: token ids, padding, ``[batch, sequence, embedding]``, and the course's Embedding + LSTM classifier.

A sentence becomes a list of integers (its words' places in a vocabulary); a batch of them is padded with 0 to
one length, giving ``[batch, sequence]``; an embedding table turns each id into a vector: ``[batch, sequence,
embedding]``, which an LSTM reads step by step. The course's classifier is Keras's ``Embedding → LSTM →
Dense(1, sigmoid)``; its twin is ``nn.Embedding → nn.LSTM(batch_first=True) → nn.Linear → sigmoid``, and with
Keras's weights copied in it gives Keras's outputs. TensorFlow twin: ``compare/concepts/text_tf.py``.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_sequence

CORPUS = ["The movie was great!", "The plot was dull, the acting great.", "Great fun"]
# TextVectorization's default standardize: lower case, then drop these characters
PUNCTUATION = r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']'


def keras_weights(vocab_size: int = 10, embedding_dim: int = 4, units: int = 3, seed: int = 0) -> list[np.ndarray]:
    """Weights in the order and layout ``keras_model.get_weights()`` lists them, drawn with NumPy.

    Embedding ``(vocab, dim)``; LSTM kernel ``(dim, 4u)``, recurrent kernel ``(u, 4u)``, bias ``(4u,)``; Dense
    kernel ``(u, 1)``, bias ``(1,)``.
    """
    rng = np.random.default_rng(seed)
    lstm = [(embedding_dim, 4 * units), (units, 4 * units), (4 * units,)]
    shapes = [(vocab_size, embedding_dim), *lstm, (units, 1), (1,)]
    return [rng.normal(0.0, 0.5, shape).astype(np.float32) for shape in shapes]


def classifier(vocab_size: int = 10, embedding_dim: int = 4, units: int = 3) -> nn.ModuleDict:
    """``Sequential([Embedding(vocab, dim), LSTM(units), Dense(1, "sigmoid")])`` in torch modules.

    ``nn.LSTM`` reads ``[sequence, batch, features]`` unless ``batch_first=True``; Keras always reads
    ``[batch, sequence, features]``.
    """
    return nn.ModuleDict(
        {
            "embedding": nn.Embedding(vocab_size, embedding_dim),
            "lstm": nn.LSTM(embedding_dim, units, batch_first=True),
            "dense": nn.Linear(units, 1),
        }
    )


@torch.no_grad()
def load_keras_weights(model: nn.ModuleDict, weights: list[np.ndarray]) -> nn.ModuleDict:
    """Copy Keras's weights in. Gates: Keras's column blocks ``[i, f, c, o]`` are torch's row blocks ``[i, f, g, o]``
    (the same order), so the LSTM kernels are only transposed. Keras has one bias, torch two (``b_ih + b_hh``):
    Keras's goes in ``bias_ih``, zeros in ``bias_hh``. Dense ``(u, 1)`` is ``Linear.weight (1, u)`` transposed.
    """
    embedding, kernel, recurrent, bias, dense_kernel, dense_bias = (torch.from_numpy(w) for w in weights)
    model["embedding"].weight.copy_(embedding)
    lstm = model["lstm"]
    lstm.weight_ih_l0.copy_(kernel.T)
    lstm.weight_hh_l0.copy_(recurrent.T)
    lstm.bias_ih_l0.copy_(bias)
    lstm.bias_hh_l0.zero_()
    model["dense"].weight.copy_(dense_kernel.T)
    model["dense"].bias.copy_(dense_bias)
    return model


def classify(model: nn.ModuleDict, ids: torch.Tensor, lengths: list[int] | None = None) -> torch.Tensor:
    """P(positive) for each row of ``ids [batch, sequence]``: the LSTM's last hidden state through the Dense.

    With ``lengths`` (post-padded rows), the padding is skipped, as Keras does with ``Embedding(mask_zero=True)``:
    ``pack_padded_sequence`` hands the LSTM only the real steps, and ``h_n`` is each row's state at its last one.
    """
    embedded = model["embedding"](ids)
    if lengths is not None:
        embedded = pack_padded_sequence(embedded, lengths, batch_first=True, enforce_sorted=False)
    _, (h_n, _) = model["lstm"](embedded)
    return torch.sigmoid(model["dense"](h_n[-1]))


def vocabulary_and_token_ids() -> dict[str, object]:
    """Words to ids: ``TextVectorization().adapt(corpus)`` written out.

    Lower-case, strip punctuation, split on spaces; id 0 is padding, 1 is ``[UNK]`` (a word not seen in
    ``adapt``), then the words by count, ties in reverse alphabetical order (Keras sorts by ``(count, word)``
    and reverses). torch has no tokenizer of its own: this is plain Python.
    """
    sentences = [re.sub(PUNCTUATION, "", text.lower()).split() for text in CORPUS]
    counts = Counter(word for words in sentences for word in words)
    vocabulary = ["", "[UNK]"] + sorted(counts, key=lambda word: (counts[word], word), reverse=True)
    index = {word: i for i, word in enumerate(vocabulary)}
    return {
        "vocabulary": vocabulary,
        "ids": [[index.get(word, 1) for word in words] for words in sentences],
        "unseen word": index.get("boring", 1),
    }


def padding_and_truncation() -> dict[str, object]:
    """One length per batch: Keras's ``pad_sequences`` pads and cuts at the *front* by default, torch's
    ``pad_sequence`` pads at the end (``padding_side="left"`` for Keras's default) and has no ``maxlen``
    (slice ``s[-maxlen:]`` for Keras's ``truncating="pre"``).
    """
    sequences = [[2, 5, 3], [2, 7, 3, 2, 8, 9, 4], [4, 6]]
    tensors = [torch.tensor(s[-5:]) for s in sequences]
    return {
        "pre (Keras default), maxlen 5": pad_sequence(tensors, batch_first=True, padding_side="left").tolist(),
        "post (torch default), maxlen 5": pad_sequence(tensors, batch_first=True).tolist(),
    }


def embedding_lookup() -> dict[str, object]:
    """``[batch, sequence]`` ids → ``[batch, sequence, embedding]``: row ``id`` of the table, for every id.

    A lookup is ``one_hot(ids) @ table`` without the multiply. Id 0 gets row 0 like any other: Keras skips it
    only with ``mask_zero=True``; torch's ``padding_idx=0`` instead keeps row 0 at zero and out of training.
    """
    embedding = nn.Embedding(10, 4)
    with torch.no_grad():
        embedding.weight.copy_(torch.arange(40.0).reshape(10, 4) / 10)
    ids = torch.tensor([[0, 0, 2, 5, 3], [4, 6, 0, 0, 0]])
    vectors = embedding(ids)
    one_hot = nn.functional.one_hot(ids, 10).float()
    return {
        "ids shape": list(ids.shape),
        "embedded shape": list(vectors.shape),
        "vector of id 5": vectors[0, 3].tolist(),
        "equals one_hot @ table": torch.equal(vectors, one_hot @ embedding.weight),
    }


def embedding_lstm_classifier() -> dict[str, object]:
    """The course's classifier with the same weights in both: ids → embedding → LSTM's last state → sigmoid."""
    model = load_keras_weights(classifier(), keras_weights())
    ids = torch.tensor([[0, 0, 2, 5, 3], [2, 7, 3, 2, 8], [0, 0, 0, 4, 6]])
    embedded = model["embedding"](ids)
    _, (h_n, _) = model["lstm"](embedded)  # h_n: [layers, batch, units]
    return {
        "shapes: ids, embedded, last state": [list(ids.shape), list(embedded.shape), list(h_n[-1].shape)],
        "P(positive)": classify(model, ids).squeeze(1).tolist(),
    }


def masking_padded_steps() -> dict[str, object]:
    """Padding read or skipped: ``Embedding(mask_zero=True)`` ↔ ``pack_padded_sequence`` with the lengths.

    Post-padded rows: read, the zeros' embedding moves the LSTM's state after the last word; skipped, the state
    stops at the last word. Only the row without padding is the same either way.
    """
    model = load_keras_weights(classifier(), keras_weights())
    ids = torch.tensor([[2, 5, 3, 0, 0], [2, 7, 3, 2, 8], [4, 6, 0, 0, 0]])
    lengths = (ids != 0).sum(1).tolist()
    return {
        "lengths": lengths,
        "P(positive), padding read": classify(model, ids).squeeze(1).tolist(),
        "P(positive), padding skipped": classify(model, ids, lengths).squeeze(1).tolist(),
    }


HELPERS = (keras_weights, classifier, load_keras_weights, classify)
STEPS = (
    vocabulary_and_token_ids,
    padding_and_truncation,
    embedding_lookup,
    embedding_lstm_classifier,
    masking_padded_steps,
)
