"""TensorFlow's side of ``ptref/concepts/activations.py``: ``tf.nn`` / ``tf.keras.activations`` and ``GradientTape``."""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable

import tensorflow as tf


def points() -> tf.Tensor:
    return tf.constant([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0])


def derivative(activation: Callable[[tf.Tensor], tf.Tensor], x: tf.Tensor) -> tf.Tensor:
    with tf.GradientTape() as tape:
        tape.watch(x)  # a constant is not recorded unless watched
        y = activation(x)
    return tape.gradient(y, x)  # of sum(y): a non-scalar target is summed


def sigmoid() -> dict[str, object]:
    x = points()
    s = tf.sigmoid(x)
    return {
        "σ(x)": s.numpy().tolist(),
        "σ'(x), autograd": derivative(tf.sigmoid, x).numpy().tolist(),
        "σ'(x) = σ(1 − σ)": (s * (1 - s)).numpy().tolist(),
    }


def tanh() -> dict[str, object]:
    x = points()
    t = tf.tanh(x)
    return {
        "tanh(x)": t.numpy().tolist(),
        "tanh'(x), autograd": derivative(tf.tanh, x).numpy().tolist(),
        "tanh'(x) = 1 − tanh²": (1 - t**2).numpy().tolist(),
        "2σ(2x) − 1": (2 * tf.sigmoid(2 * x) - 1).numpy().tolist(),
    }


def relu_and_leaky_relu() -> dict[str, object]:
    x = points()
    return {
        "relu(x)": tf.nn.relu(x).numpy().tolist(),
        "relu'(x), autograd": derivative(tf.nn.relu, x).numpy().tolist(),
        "leaky_relu(x), a=0.2": tf.nn.leaky_relu(x, alpha=0.2).numpy().tolist(),
        "leaky_relu'(x), autograd": derivative(lambda v: tf.nn.leaky_relu(v, 0.2), x).numpy().tolist(),
        "Keras default a: activations.leaky_relu, layers.LeakyReLU": [
            inspect.signature(tf.keras.activations.leaky_relu).parameters["negative_slope"].default,
            tf.keras.layers.LeakyReLU().negative_slope,
        ],
    }


def elu_and_selu() -> dict[str, object]:
    x = points()
    alpha, scale = 1.6732632423543772, 1.0507009873554805
    return {
        "elu(x)": tf.nn.elu(x).numpy().tolist(),
        "elu'(x), autograd": derivative(tf.nn.elu, x).numpy().tolist(),
        "elu'(x) = 1 or eˣ": tf.where(x > 0, 1.0, tf.exp(x)).numpy().tolist(),
        "selu(x)": tf.nn.selu(x).numpy().tolist(),
        "selu'(x), autograd": derivative(tf.nn.selu, x).numpy().tolist(),
        "selu'(x) = λ or λαeˣ": tf.where(x > 0, scale, scale * alpha * tf.exp(x)).numpy().tolist(),
        "selu'(0)": float(derivative(tf.nn.selu, tf.zeros(1))[0]),
    }


def gelu_exact_vs_tanh() -> dict[str, object]:
    x = points()
    grid = tf.linspace(-6.0, 6.0, 1201)
    phi = tf.exp(-(x**2) / 2) / math.sqrt(2 * math.pi)
    cdf = 0.5 * (1 + tf.math.erf(x / math.sqrt(2)))
    exact = tf.keras.activations.gelu  # approximate=False by default
    return {
        "gelu(x), exact": exact(x).numpy().tolist(),
        "gelu(x), tanh approximation": tf.keras.activations.gelu(x, approximate=True).numpy().tolist(),
        "max |exact − tanh| on [−6, 6]": float(
            tf.reduce_max(tf.abs(exact(grid) - tf.keras.activations.gelu(grid, approximate=True)))
        ),
        "gelu'(x), autograd": derivative(exact, x).numpy().tolist(),
        "gelu'(x) = Φ + xφ": (cdf + x * phi).numpy().tolist(),
        "Keras default approximate: activations.gelu, ops.gelu, tf.nn.gelu": [
            inspect.signature(f).parameters["approximate"].default
            for f in (tf.keras.activations.gelu, tf.keras.ops.gelu, tf.nn.gelu)
        ],
    }


def softplus_and_swish() -> dict[str, object]:
    x = points()
    s = tf.sigmoid(x)
    return {
        "softplus(x)": tf.nn.softplus(x).numpy().tolist(),
        "softplus'(x), autograd": derivative(tf.nn.softplus, x).numpy().tolist(),
        "silu(x)": tf.nn.silu(x).numpy().tolist(),
        "silu'(x), autograd": derivative(tf.nn.silu, x).numpy().tolist(),
        "silu'(x) = σ(1 + x(1 − σ))": (s * (1 + x * (1 - s))).numpy().tolist(),
    }


def vanishing_gradient_chain() -> dict[str, object]:
    x = tf.constant(0.0)
    factors = []
    with tf.GradientTape() as tape:
        tape.watch(x)
        h = x
        for _ in range(10):
            factors.append(float(tf.sigmoid(h) * (1 - tf.sigmoid(h))))
            h = tf.sigmoid(h)
    dh_dx = tape.gradient(h, x)

    def chain(activation: Callable[[tf.Tensor], tf.Tensor], start: float) -> float:
        v = tf.constant(start)
        with tf.GradientTape() as tape:
            tape.watch(v)
            out = v
            for _ in range(10):
                out = activation(out)
        return float(tape.gradient(out, v))

    return {
        "σ' of layer 1..10": factors,
        "dh/dx, autograd": float(dh_dx),
        "product of the σ'": math.prod(factors),
        "bound 0.25¹⁰": 0.25**10,
        "tanh chain from x=0": chain(tf.tanh, 0.0),
        "tanh chain from x=1": chain(tf.tanh, 1.0),
        "relu chain from x=1": chain(tf.nn.relu, 1.0),
    }
