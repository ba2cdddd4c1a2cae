"""TensorFlow's side of ``ptref/concepts/batch_norm.py``: ``keras.layers.BatchNormalization``, step for step."""

from __future__ import annotations

import tensorflow as tf


def batch(shift: float = 0.0) -> tf.Tensor:
    return tf.constant([[1.0, -1.0], [2.0, 1.0], [3.0, 3.0], [6.0, 5.0]]) + shift


def training_vs_inference() -> dict[str, object]:
    x = batch()
    layer = tf.keras.layers.BatchNormalization()
    inference = layer(x, training=False)
    training = layer(x, training=True)
    mean, variance = tf.nn.moments(training, axes=[0])
    return {
        "inference: y": inference.numpy().tolist(),
        "training: y": training.numpy().tolist(),
        "training: mean of y": mean.numpy().tolist(),
        "training: (1/m) variance of y": variance.numpy().tolist(),
    }


def errata_text_example_is_inference() -> dict[str, object]:
    x = batch()
    as_in_the_text = tf.keras.layers.BatchNormalization()(x)
    corrected = tf.keras.layers.BatchNormalization()(x, training=True)
    return {
        "the text's call: y": as_in_the_text.numpy().tolist(),
        "y / x": tf.reshape(as_in_the_text / x, [-1]).numpy().tolist(),
        "1 / sqrt(1 + 1e-3)": (1 + 1e-3) ** -0.5,
        "training mode: y": corrected.numpy().tolist(),
    }


def moving_statistics_momentum() -> dict[str, object]:
    layer = tf.keras.layers.BatchNormalization()  # momentum=0.99
    means = []
    for shift in (0.0, 1.0, 2.0):
        layer(batch(shift), training=True)
        means.append(layer.moving_mean.numpy().tolist())
    return {"moving mean per batch, Keras momentum 0.99": means}


def biased_vs_unbiased_variance() -> dict[str, object]:
    x = batch()
    m = x.shape[0]
    mean, var_m = tf.nn.moments(x, axes=[0])
    var_m1 = var_m * m / (m - 1)
    layer = tf.keras.layers.BatchNormalization(momentum=0.0)
    training = layer(x, training=True)
    inference = layer(x, training=False)
    return {
        "variance, 1/m": var_m.numpy().tolist(),
        "variance, 1/(m-1)": var_m1.numpy().tolist(),
        "training: y": training.numpy().tolist(),
        "(x - mean) / sqrt(var 1/m + eps)": ((x - mean) / tf.sqrt(var_m + 1e-3)).numpy().tolist(),
        "the text's (x - mean) / sqrt(var 1/(m-1) + eps)": ((x - mean) / tf.sqrt(var_m1 + 1e-3)).numpy().tolist(),
        "moving variance, Keras momentum 0": layer.moving_variance.numpy().tolist(),
        "inference on the same batch: y": inference.numpy().tolist(),
    }
