"""TensorFlow's side of ``ptref/concepts/losses.py``: ``tf.keras.losses``, step for step."""

from __future__ import annotations

import tensorflow as tf


def regression_batch() -> tuple[tf.Tensor, tf.Tensor]:
    y_true = tf.constant([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    y_pred = tf.constant([[1.5, 2.0, 2.0], [4.0, 7.0, 6.5]])
    return y_true, y_pred


def outlier_batch() -> tuple[tf.Tensor, tf.Tensor]:
    y_true = tf.range(10.0)[:, None]
    errors = tf.constant([0.5, -0.5, 0.5, -0.5, 0.5, -0.5, 0.5, -0.5, 0.5, 10.0])[:, None]
    return y_true, y_true + errors


def binary_batch() -> tuple[tf.Tensor, tf.Tensor]:
    return tf.constant([[1.0], [0.0], [1.0], [0.0]]), tf.constant([[0.9], [0.2], [0.6], [0.4]])


def mean_squared_error() -> dict[str, object]:
    y_true, y_pred = regression_batch()
    return {
        "by hand": float(tf.reduce_mean((y_pred - y_true) ** 2)),
        "per sample: mse": tf.keras.losses.mse(y_true, y_pred).numpy().tolist(),
        "MeanSquaredError()": float(tf.keras.losses.MeanSquaredError()(y_true, y_pred)),
    }


def outlier_sensitivity() -> dict[str, dict[str, float]]:
    y_true, y_pred = outlier_batch()
    criteria = {
        "MSE": tf.keras.losses.MeanSquaredError(),
        "MAE": tf.keras.losses.MeanAbsoluteError(),
        "Huber (δ=1)": tf.keras.losses.Huber(delta=1.0),
    }
    result = {}
    for name, criterion in criteria.items():
        with tf.GradientTape() as tape:
            tape.watch(y_pred)
            loss = criterion(y_true, y_pred)
        grad = tape.gradient(loss, y_pred)
        without = criterion(y_true[:-1], y_pred[:-1])
        result[name] = {
            "loss": float(loss),
            "loss without the outlier": float(without),
            "outlier's gradient ÷ a typical one": float(tf.abs(grad[-1, 0] / grad[0, 0])),
        }
    return result


def best_constant() -> dict[str, object]:
    data = tf.constant([2.0, 3.0, 3.0, 4.0, 4.0, 4.0, 5.0, 5.0, 6.0, 7.0, 45.0])
    candidates = tf.linspace(0.0, 10.0, 201)
    y_true = tf.broadcast_to(data, [len(candidates), len(data)])
    y_pred = tf.broadcast_to(candidates[:, None], y_true.shape)
    per_candidate = {
        "MSE": tf.keras.losses.mse(y_true, y_pred),
        "MAE": tf.keras.losses.mae(y_true, y_pred),
        "Huber (δ=1)": tf.keras.losses.huber(y_true, y_pred, delta=1.0),
    }
    return {
        "data": data.numpy().tolist(),
        "mean": float(tf.reduce_mean(data)),
        "median": float(tf.sort(data)[len(data) // 2]),  # TF has no median op; the list is odd-sized
        "best c": {name: float(candidates[tf.argmin(loss)]) for name, loss in per_candidate.items()},
    }


def binary_crossentropy() -> dict[str, object]:
    y, p = binary_batch()
    return {
        "by hand": float(-tf.reduce_mean(y * tf.math.log(p) + (1 - y) * tf.math.log(1 - p))),
        "per sample: binary_crossentropy": tf.keras.losses.binary_crossentropy(y, p).numpy().tolist(),
        "BinaryCrossentropy()": float(tf.keras.losses.BinaryCrossentropy()(y, p)),
    }


def log_loss_sign_error() -> dict[str, float]:
    y, p = binary_batch()
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(p)
        text = tf.reduce_mean(y * tf.math.log(p) + (1 - y) * tf.math.log(1 - p))
        correct = -text
    grad_text, grad_correct = tape.gradient(text, p), tape.gradient(correct, p)
    wrong = 1 - p
    return {
        "text's formula": float(text),
        "correct (with the minus)": float(correct),
        "text's formula, wrong predictions": float(
            tf.reduce_mean(y * tf.math.log(wrong) + (1 - y) * tf.math.log(1 - wrong))
        ),
        "text's dL/dp₁ (descent lowers p₁)": float(grad_text[0, 0]),
        "correct dL/dp₁ (descent raises p₁)": float(grad_correct[0, 0]),
    }


def from_logits() -> dict[str, object]:
    y = tf.constant([[1.0], [0.0], [1.0], [0.0]])
    z = tf.constant([[2.0], [-1.0], [0.5], [3.0]])
    stable = tf.maximum(z, 0.0) - z * y + tf.math.log1p(tf.exp(-tf.abs(z)))
    # tf.sigmoid, not keras.activations.sigmoid: Keras's sigmoid tags its output with the logits, and the
    # loss would quietly use those instead of the probabilities
    return {
        "from logits": float(tf.keras.losses.BinaryCrossentropy(from_logits=True)(y, z)),
        "from sigmoid(z)": float(tf.keras.losses.BinaryCrossentropy()(y, tf.sigmoid(z))),
        "stable formula by hand": float(tf.reduce_mean(stable)),
        "tf: tf.nn.sigmoid_cross_entropy_with_logits": float(
            tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=y, logits=z))
        ),
    }


def probability_exactly_0_or_1() -> dict[str, list[float]]:
    y = tf.constant([[0.0], [1.0], [1.0]])
    p = tf.constant([[1.0], [0.0], [1.0]])
    z = tf.constant([[30.0], [-30.0], [30.0]])
    return {
        "formula as written": tf.reshape(-(y * tf.math.log(p) + (1 - y) * tf.math.log(1 - p)), [-1]).numpy().tolist(),
        "Keras (clipped at 1e-7)": tf.keras.losses.binary_crossentropy(y, p).numpy().tolist(),
        "from logits ±30": tf.keras.losses.binary_crossentropy(y, z, from_logits=True).numpy().tolist(),
    }


def categorical_crossentropy() -> dict[str, object]:
    y = tf.constant([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    labels = tf.constant([1, 2])
    z = tf.constant([[1.0, 3.0, 0.2], [2.0, 0.5, 1.0]])
    p = tf.nn.softmax(z, axis=-1)
    not_summing_to_1 = tf.constant([[0.2, 0.5, 0.2]])
    return {
        "by hand": float(-tf.reduce_mean(tf.reduce_sum(y * tf.math.log(p), axis=-1))),
        "CategoricalCrossentropy()": float(tf.keras.losses.CategoricalCrossentropy()(y, p)),
        "from logits": float(tf.keras.losses.CategoricalCrossentropy(from_logits=True)(y, z)),
        "sparse labels, from logits": float(tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, z)),
        "p summing to 0.9": float(tf.keras.losses.categorical_crossentropy(y[:1], not_summing_to_1)[0]),
        "tf: tf.nn.sparse_softmax_cross_entropy_with_logits": float(
            tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=z))
        ),
    }


def sum_vs_mean_reduction() -> dict[str, object]:
    y_true, y_pred = regression_batch()
    twice_true, twice_pred = tf.concat([y_true, y_true], 0), tf.concat([y_pred, y_pred], 0)
    keras_sum = tf.keras.losses.MeanSquaredError(reduction="sum")
    keras_mean = tf.keras.losses.MeanSquaredError()
    return {
        "per sample (reduction none)": tf.keras.losses.MeanSquaredError(reduction="none")(y_true, y_pred)
        .numpy()
        .tolist(),
        "Keras sum": float(keras_sum(y_true, y_pred)),
        "Keras sum, batch repeated twice": float(keras_sum(twice_true, twice_pred)),
        "Keras mean (sum_over_batch_size)": float(keras_mean(y_true, y_pred)),
        "Keras mean, batch repeated twice": float(keras_mean(twice_true, twice_pred)),
        "sample_weight (1, 0)": float(keras_mean(y_true, y_pred, sample_weight=tf.constant([1.0, 0.0]))),
        "sum over every element": float(tf.reduce_sum(tf.square(y_pred - y_true))),
    }
