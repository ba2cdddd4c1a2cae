"""TensorFlow's side of ``ptref/concepts/errata.py``: the texts' code as printed, run, and corrected."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import tensorflow as tf


def raised(run: Callable[[], object]) -> str:
    try:
        run()
    except Exception as error:  # any error the text's code meets is the point of the step
        message = str(error).split("}} ", 1)[-1]  # drop TF's "{{function_node <kernel>}}" prefix
        return f"{type(error).__name__}: {message}"
    return "ran without an error"


def line_at_one() -> tf.keras.Model:
    return tf.keras.Sequential(
        [tf.keras.Input(shape=(1,)), tf.keras.layers.Dense(1, kernel_initializer="ones")]
    )


def session_in_tf2() -> dict[str, object]:
    def text() -> int:
        a, b = tf.constant(2), tf.constant(3)
        with tf.Session() as session:
            return session.run(a + b)

    graph = tf.Graph()
    with graph.as_default():
        c = tf.constant(2) + tf.constant(3)
    with tf.compat.v1.Session(graph=graph) as session:
        compat = int(session.run(c))
    eager = int(tf.constant(2) + tf.constant(3))
    return {"text": raised(text), "corrected": eager, "tf.compat.v1.Session": compat}


def sparse_matmul() -> dict[str, object]:
    sparse = tf.sparse.SparseTensor([[0, 1], [1, 0], [2, 0], [2, 3]], [1.0, 2.0, 3.0, 4.0], [3, 4])
    dense = tf.constant([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]])
    return {
        "text": raised(lambda: tf.sparse.matmul(sparse, dense)),
        "corrected": tf.sparse.sparse_dense_matmul(sparse, dense).numpy().tolist(),
    }


def clipping_callback() -> dict[str, object]:
    x, target = np.array([[10.0]]), np.array([[0.0]])
    model = line_at_one()
    model.compile(optimizer=tf.keras.optimizers.SGD(learning_rate=0.1), loss="mse")

    def clip_gradients(batch: int, logs: dict) -> None:
        gradients = model.optimizer.get_gradients(model.total_loss, model.trainable_weights)
        model.optimizer.apply_gradients(zip([tf.clip_by_norm(g, 1.0) for g in gradients], model.trainable_weights))

    clip = tf.keras.callbacks.LambdaCallback(on_batch_end=clip_gradients)
    text = raised(lambda: model.fit(x, target, epochs=1, callbacks=[clip], verbose=0))

    model = line_at_one()
    model.compile(optimizer=tf.keras.optimizers.SGD(learning_rate=0.1, clipnorm=1.0), loss="mse")
    model.fit(x, target, epochs=1, verbose=0)
    kernel, bias = model.get_weights()
    return {"text": text, "corrected": {"w": float(kernel[0, 0]), "b": float(bias[0])}}


def batch_norm_inference() -> dict[str, object]:
    x = tf.constant([[1.0], [2.0], [3.0], [4.0]])
    text = tf.keras.layers.BatchNormalization()(x)
    corrected = tf.keras.layers.BatchNormalization()(x, training=True)
    return {
        "text": tf.reshape(text, [-1]).numpy().tolist(),
        "text / x": tf.reshape(text / x, [-1]).numpy().tolist(),
        "corrected": tf.reshape(corrected, [-1]).numpy().tolist(),
    }


def numpy_regression() -> dict[str, object]:
    text = """
X = np.array([1.0, 2.0, 3.0, 4.0])
y = 2 * X
w, lr = 0.0, 0.01
for epoch in range(100):
    y_pred = w * x
    grad = np.mean(2 * (y_pred - y) * X)
    w += lr * grad
"""
    name_fixed = {"np": np}
    exec(text.replace("w * x", "w * X"), name_fixed)  # noqa: S102  (the text's own code, run as printed)

    X = tf.constant([1.0, 2.0, 3.0, 4.0])
    y = 2 * X
    w, lr = tf.Variable(0.0), 0.01
    for _ in range(100):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((w * X - y) ** 2)
        w.assign_sub(lr * tape.gradient(loss, w))
    return {
        "text": raised(lambda: exec(text, {"np": np})),  # noqa: S102
        "text, x → X (w += lr·grad)": float(name_fixed["w"]),
        "corrected (w -= lr·grad)": float(w),
    }


def log_loss_sign() -> dict[str, float]:
    y = tf.constant([1.0, 0.0, 1.0])
    p = tf.constant([0.9, 0.2, 0.6])
    text = tf.reduce_mean(y * tf.math.log(p) + (1 - y) * tf.math.log(1 - p))
    return {
        "text": float(text),
        "corrected": float(-text),
        "keras binary_crossentropy": float(tf.keras.losses.binary_crossentropy(y, p)),
    }


def decay_schedule_labels() -> dict[str, list[float]]:
    steps = range(5)
    schedules = tf.keras.optimizers.schedules
    inverse_time = schedules.InverseTimeDecay(0.1, decay_steps=1, decay_rate=0.5)
    exponential = schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    linear = schedules.PolynomialDecay(0.1, decay_steps=2, end_learning_rate=0.0, power=1.0)
    return {
        "text: α0/(1+λt), called exponential": [0.1 / (1 + 0.5 * t) for t in steps],
        "corrected: InverseTimeDecay": [float(inverse_time(t)) for t in steps],
        "ExponentialDecay (what the label means)": [float(exponential(t)) for t in steps],
        "text: linear α0 − 0.05·t": [0.1 - 0.05 * t for t in steps],
        "corrected: PolynomialDecay(power=1)": [float(linear(t)) for t in steps],
    }


def adam_beta2_and_bias_correction() -> dict[str, list[float]]:
    lr, beta1, beta2, epsilon = 0.1, 0.9, 0.9, 1e-7
    w, m, v, text = tf.constant(1.0), 0.0, 0.0, []
    for _ in range(3):
        g = 2 * w
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        w = w - lr * m / (tf.sqrt(v) + epsilon)
        text.append(float(w))

    w = tf.Variable(1.0)
    optimizer, corrected = tf.keras.optimizers.Adam(learning_rate=lr), []
    for _ in range(3):
        with tf.GradientTape() as tape:
            loss = w**2
        optimizer.apply_gradients([(tape.gradient(loss, w), w)])
        corrected.append(float(w))
    return {"text (β2 = 0.9, no bias correction)": text, "corrected (Adam)": corrected}


def adadelta_formula() -> dict[str, list[float]]:
    rho, epsilon = 0.95, 1e-7
    w, text = tf.constant(1.0, tf.float64), []
    acc_g = acc_delta = tf.constant(0.0, tf.float64)
    for _ in range(3):
        g = 2 * w
        acc_g = rho * acc_g + (1 - rho) * g**2
        delta = -tf.sqrt(acc_g + epsilon) / tf.sqrt(acc_delta + epsilon) * g
        acc_delta = rho * acc_delta + (1 - rho) * delta**2
        w = w + delta
        text.append(float(w))

    w = tf.Variable(1.0)
    optimizer, corrected = tf.keras.optimizers.Adadelta(learning_rate=1.0, rho=rho, epsilon=epsilon), []
    for _ in range(3):
        with tf.GradientTape() as tape:
            loss = w**2
        optimizer.apply_gradients([(tape.gradient(loss, w), w)])
        corrected.append(float(w))
    return {"text (ratio inverted)": text, "corrected (Adadelta)": corrected}


def backprop_transposes() -> dict[str, object]:
    X = tf.constant([[0.5, -1.0], [1.5, 2.0], [-0.5, 0.25]])
    W = tf.Variable([[0.7], [-0.8]])
    with tf.GradientTape() as tape:
        y = X @ W
        L = tf.reduce_sum(y**2)
    delta = 2 * y
    return {
        "text: δ·Xᵀ": raised(lambda: delta @ tf.transpose(X)),
        "corrected: Xᵀ·δ": (tf.transpose(X) @ delta).numpy().tolist(),
        "autograd dL/dW": tape.gradient(L, W).numpy().tolist(),
    }


def device_order() -> dict[str, object]:
    found = [device.device_type for device in tf.config.list_physical_devices()]
    return {
        "devices found": found,
        "placed on": tf.constant(1.0).device,  # TF puts ops on the first GPU by itself, else the CPU
    }
