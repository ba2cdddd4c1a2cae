"""TensorFlow's side of ``ptref/concepts/autograd.py``: ``tf.GradientTape``, step for step."""

from __future__ import annotations

import numpy as np
import tensorflow as tf


def square_derivative() -> dict[str, float]:
    x = tf.Variable(3.0)
    with tf.GradientTape() as tape:
        y = x**2
    dy_dx = tape.gradient(y, x)
    return {"y": float(y), "dy/dx": float(dy_dx)}


def persistent_tape() -> dict[str, float]:
    x = tf.Variable(3.0)
    with tf.GradientTape(persistent=True) as tape:
        y = x**2
        z = y**2
    dz_dx = tape.gradient(z, x)
    dy_dx = tape.gradient(y, x)  # only a persistent tape allows a 2nd call
    del tape
    return {"dz/dx": float(dz_dx), "dy/dx": float(dy_dx)}


def several_sources() -> dict[str, float]:
    x = tf.Variable(2.0)
    y = tf.Variable(3.0)
    with tf.GradientTape() as tape:
        f = x**2 * y + y
    df_dx, df_dy = tape.gradient(f, [x, y])
    return {"f": float(f), "df/dx": float(df_dx), "df/dy": float(df_dy)}


def second_derivative() -> dict[str, float]:
    x = tf.Variable(3.0)
    with tf.GradientTape() as outer:
        with tf.GradientTape() as inner:
            y = x**3
        dy_dx = inner.gradient(y, x)
    d2y_dx2 = outer.gradient(dy_dx, x)
    return {"dy/dx": float(dy_dx), "d2y/dx2": float(d2y_dx2)}


def worked_example() -> dict[str, float]:
    W = tf.Variable(10.0)
    b = tf.Variable(200.0)
    x, y_true = tf.constant(50.0), tf.constant(750.0)
    with tf.GradientTape() as tape:
        y = W * x + b
        L = (y - y_true) ** 2
    dL_dy, dL_dW, dL_db = tape.gradient(L, [y, W, b])  # y: an intermediate
    return {
        "y": float(y),
        "L": float(L),
        "dL/dy": float(dL_dy),
        "dL/dW": float(dL_dW),
        "dL/db": float(dL_db),
    }


def gradient_descent_step() -> dict[str, float]:
    W = tf.Variable(10.0)
    b = tf.Variable(200.0)
    with tf.GradientTape() as tape:
        L = (W * 50.0 + b - 750.0) ** 2
    dW, db = tape.gradient(L, [W, b])
    lr = 0.001
    W.assign_sub(lr * dW)
    b.assign_sub(lr * db)
    return {"W": float(W), "b": float(b)}


def two_layer_backprop_by_hand() -> dict[str, object]:
    X = tf.constant([[0.5, -1.0], [1.5, 2.0], [-0.5, 0.25]])
    Y = tf.constant([[1.0], [0.0], [0.5]])
    W1 = tf.Variable([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]])
    b1 = tf.Variable([0.0, 0.1, -0.1])
    W2 = tf.Variable([[0.7], [-0.8], [0.9]])
    b2 = tf.Variable([0.05])

    with tf.GradientTape() as tape:
        h = tf.sigmoid(X @ W1 + b1)
        y_hat = h @ W2 + b2
        L = tf.reduce_mean((y_hat - Y) ** 2)
    taped = tape.gradient(L, [W1, b1, W2, b2])

    delta2 = 2 * (y_hat - Y) / X.shape[0]
    dW2, db2 = tf.transpose(h) @ delta2, tf.reduce_sum(delta2, 0)
    delta1 = (delta2 @ tf.transpose(W2)) * h * (1 - h)
    dW1, db1 = tf.transpose(X) @ delta1, tf.reduce_sum(delta1, 0)

    by_hand = {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
    by_tape = dict(zip(by_hand, taped))
    agree = all(np.allclose(by_hand[k], by_tape[k]) for k in by_hand)
    return {
        "L": float(L),
        **{name: g.numpy().tolist() for name, g in by_hand.items()},
        "autograd agrees": agree,
    }
