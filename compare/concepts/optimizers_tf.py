"""TensorFlow's side of ``ptref/concepts/optimizers.py``: ``tf.keras.optimizers.SGD`` fed the same gradients."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import tensorflow as tf

W0 = np.array([1.0, 1.0])
GRADIENTS = np.array([[0.5, 8.0], [0.25, -4.0], [-0.5, 2.0], [0.25, 0.125]])
LR, BETA, EPS = 0.1, 0.9, 1e-7
keras = tf.keras


def follow(optimizer: keras.optimizers.Optimizer) -> list[list[float]]:
    w = tf.Variable(W0, dtype=tf.float32)
    path = []
    for g in GRADIENTS:
        optimizer.apply_gradients([(tf.constant(g, tf.float32), w)])
        path.append(w.numpy().tolist())
    return path


def fit_line(optimizer: keras.optimizers.Optimizer, batch_size: int) -> list[float]:
    x, y = (tf.constant(a, tf.float32) for a in line_data())
    w, b = tf.Variable(0.0), tf.Variable(0.0)
    for i in range(0, len(x), batch_size):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean((w * x[i : i + batch_size] + b - y[i : i + batch_size]) ** 2)
        optimizer.apply_gradients(zip(tape.gradient(loss, [w, b]), [w, b]))
    return [float(w), float(b)]


def line_data() -> tuple[np.ndarray, np.ndarray]:
    x = np.arange(-1.5, 2.5, 0.5)
    return x, 2 * x + 1


def valley(w: tf.Tensor) -> tf.Tensor:
    return (w[0] ** 2 + 10 * w[1] ** 2) / 2


def descend(optimizer: keras.optimizers.Optimizer, steps: int = 30) -> list[list[float]]:
    w = tf.Variable([-4.0, 1.5])
    path = [w.numpy().tolist()]
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = valley(w)
        optimizer.apply_gradients([(tape.gradient(loss, w), w)])
        path.append(w.numpy().tolist())
    return path


def gradient_descent_variants() -> dict[str, object]:
    sizes = {"GD": 8, "mini-batch": 4, "SGD": 1}
    return {
        "keras.optimizers.SGD": {
            name: fit_line(keras.optimizers.SGD(learning_rate=LR), size) for name, size in sizes.items()
        }
    }


def momentum() -> dict[str, object]:
    return {"keras.optimizers.SGD": follow(keras.optimizers.SGD(learning_rate=LR, momentum=BETA))}


def momentum_as_ema() -> dict[str, object]:
    alpha, beta = 0.5, 0.75
    lr = alpha * (1 - beta)
    return {
        "keras.optimizers.SGD(α(1−β), β)": follow(keras.optimizers.SGD(learning_rate=lr, momentum=beta)),
        "SGD(α, β), the naive port": follow(keras.optimizers.SGD(learning_rate=alpha, momentum=beta)),
    }


def nesterov() -> dict[str, object]:
    sgd = keras.optimizers.SGD(learning_rate=LR, momentum=BETA, nesterov=True)
    return {"keras.optimizers.SGD": follow(sgd)}


def valley_optimizers() -> dict[str, Callable[[], keras.optimizers.Optimizer]]:
    return {
        "GD": lambda: keras.optimizers.SGD(learning_rate=0.15),
        "momentum": lambda: keras.optimizers.SGD(learning_rate=0.03, momentum=0.8),
        "Nesterov": lambda: keras.optimizers.SGD(learning_rate=0.03, momentum=0.8, nesterov=True),
        "Adagrad": lambda: keras.optimizers.Adagrad(learning_rate=1.0),
        "RMSprop": lambda: keras.optimizers.RMSprop(learning_rate=0.1),
        "Adam": lambda: keras.optimizers.Adam(learning_rate=0.3),
    }


def optimizers_on_a_valley() -> dict[str, float]:
    return {name: float(valley(tf.constant(descend(make())[-1]))) for name, make in valley_optimizers().items()}
