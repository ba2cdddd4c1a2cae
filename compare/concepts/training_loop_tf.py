"""TensorFlow's side of ``ptref/concepts/training_loop.py``: Keras ``compile``/``fit`` and ``GradientTape``."""

from __future__ import annotations

import tensorflow as tf


def line_data() -> tuple[tf.Tensor, tf.Tensor]:
    x = tf.linspace(-1.0, 1.0, 32)[:, None]
    return x, 3 * x + 2 + 0.5 * tf.sin(6 * x)


def zero_init_line() -> tf.keras.Model:
    line = tf.keras.layers.Dense(1, kernel_initializer="zeros", bias_initializer="zeros")
    return tf.keras.Sequential([tf.keras.Input(shape=(1,)), line])


def training_loop(batch_size: int = 8, epochs: int = 10) -> dict[str, object]:
    x, y = line_data()
    model = zero_init_line()
    model.compile(optimizer=tf.keras.optimizers.SGD(learning_rate=0.1), loss="mse")
    history = model.fit(
        x, y, batch_size=batch_size, epochs=epochs, shuffle=False, verbose=0
    )
    w, b = model.layers[0].get_weights()
    return {
        "updates per epoch": int(model.optimizer.iterations) // epochs,
        "loss per epoch": history.history["loss"],
        "w": float(w[0, 0]),
        "b": float(b[0]),
    }


def forgetting_zero_grad() -> dict[str, float]:
    x, y = line_data()
    model = zero_init_line()
    kernel = model.layers[0].kernel

    def gradient() -> tf.Tensor:
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(x) - y))
        return tape.gradient(loss, kernel)

    once = gradient()
    twice = once + gradient()  # accumulating is explicit in TensorFlow
    fresh = gradient()
    return {
        "dL/dw, one pass": float(once[0, 0]),
        "two passes, no zero_grad": float(twice[0, 0]),
        "zero_grad, one pass": float(fresh[0, 0]),
    }


def batch_vs_minibatch_vs_single() -> dict[str, dict]:
    sizes = {"batch": 32, "mini-batch": 8, "single": 1}
    runs = {name: training_loop(batch_size=size) for name, size in sizes.items()}
    return {
        "updates per epoch": {name: run["updates per epoch"] for name, run in runs.items()},
        "loss per epoch": {name: run["loss per epoch"] for name, run in runs.items()},
    }
