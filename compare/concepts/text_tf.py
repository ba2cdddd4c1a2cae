"""TensorFlow's side of ``ptref/concepts/text.py``: ``TextVectorization``, ``pad_sequences``, Keras Embedding + LSTM."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

CORPUS = ["The movie was great!", "The plot was dull, the acting great.", "Great fun"]


def keras_weights(vocab_size: int = 10, embedding_dim: int = 4, units: int = 3, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    lstm = [(embedding_dim, 4 * units), (units, 4 * units), (4 * units,)]
    shapes = [(vocab_size, embedding_dim), *lstm, (units, 1), (1,)]
    return [rng.normal(0.0, 0.5, shape).astype(np.float32) for shape in shapes]


def classifier(vocab_size: int = 10, embedding_dim: int = 4, units: int = 3, mask_zero: bool = False) -> tf.keras.Model:
    return tf.keras.Sequential(
        [
            tf.keras.Input(shape=(None,), dtype="int32"),
            tf.keras.layers.Embedding(vocab_size, embedding_dim, mask_zero=mask_zero),
            tf.keras.layers.LSTM(units),
            tf.keras.layers.Dense(1, activation="sigmoid"),
        ]
    )


def load_keras_weights(model: tf.keras.Model, weights: list[np.ndarray]) -> tf.keras.Model:
    model.set_weights(weights)
    return model


def classify(model: tf.keras.Model, ids: tf.Tensor) -> tf.Tensor:
    return model(ids)


def vocabulary_and_token_ids() -> dict[str, object]:
    vectorize = tf.keras.layers.TextVectorization(ragged=True)
    vectorize.adapt(CORPUS)
    return {
        "vocabulary": vectorize.get_vocabulary(),
        "ids": vectorize(CORPUS).to_list(),
        "unseen word": int(vectorize(["boring"])[0][0]),
    }


def padding_and_truncation() -> dict[str, object]:
    sequences = [[2, 5, 3], [2, 7, 3, 2, 8, 9, 4], [4, 6]]
    pad = tf.keras.utils.pad_sequences
    return {
        "pre (Keras default), maxlen 5": pad(sequences, maxlen=5).tolist(),
        "post (torch default), maxlen 5": pad(sequences, maxlen=5, padding="post").tolist(),
    }


def embedding_lookup() -> dict[str, object]:
    embedding = tf.keras.layers.Embedding(10, 4)
    embedding.build((None, None))
    embedding.set_weights([np.arange(40.0).reshape(10, 4) / 10])
    ids = tf.constant([[0, 0, 2, 5, 3], [4, 6, 0, 0, 0]])
    vectors = embedding(ids)
    one_hot = tf.one_hot(ids, 10)
    return {
        "ids shape": ids.shape.as_list(),
        "embedded shape": vectors.shape.as_list(),
        "vector of id 5": vectors[0, 3].numpy().tolist(),
        "equals one_hot @ table": bool(tf.reduce_all(vectors == one_hot @ embedding.embeddings)),
    }


def embedding_lstm_classifier() -> dict[str, object]:
    model = load_keras_weights(classifier(), keras_weights())
    ids = tf.constant([[0, 0, 2, 5, 3], [2, 7, 3, 2, 8], [0, 0, 0, 4, 6]])
    embedded = model.layers[0](ids)
    last_state = model.layers[1](embedded)
    return {
        "shapes: ids, embedded, last state": [s.shape.as_list() for s in (ids, embedded, last_state)],
        "P(positive)": classify(model, ids)[:, 0].numpy().tolist(),
    }


def masking_padded_steps() -> dict[str, object]:
    read = load_keras_weights(classifier(), keras_weights())
    skipped = load_keras_weights(classifier(mask_zero=True), keras_weights())
    ids = tf.constant([[2, 5, 3, 0, 0], [2, 7, 3, 2, 8], [4, 6, 0, 0, 0]])
    return {
        "lengths": tf.reduce_sum(tf.cast(ids != 0, tf.int32), axis=1).numpy().tolist(),
        "P(positive), padding read": classify(read, ids)[:, 0].numpy().tolist(),
        "P(positive), padding skipped": classify(skipped, ids)[:, 0].numpy().tolist(),
    }
