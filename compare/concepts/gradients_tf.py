"""TensorFlow's side of ``ptref/concepts/gradients.py``: Keras deep networks, ``tf.clip_by_*``."""

from __future__ import annotations

from collections.abc import Callable

import tensorflow as tf


def deep_network(
    activation: str, initializer: str = "glorot_uniform", depth: int = 10, seed: int = 0
) -> tf.keras.Model:
    tf.keras.utils.set_random_seed(seed)
    layers = [
        tf.keras.layers.Dense(32, activation=activation, kernel_initializer=initializer)
        for _ in range(depth)
    ]
    head = tf.keras.layers.Dense(1)
    return tf.keras.Sequential([tf.keras.Input(shape=(32,)), *layers, head])


def layer_gradient_norms(
    model: tf.keras.Model, x: tf.Tensor, y: tf.Tensor
) -> list[float]:
    kernels = [layer.kernel for layer in model.layers]
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(model(x) - y))
    return [float(tf.norm(gradient)) for gradient in tape.gradient(loss, kernels)]


def random_batch(seed: int = 0) -> tuple[tf.Tensor, tf.Tensor]:
    generator = tf.random.Generator.from_seed(seed)
    return generator.normal([64, 32]), generator.normal([64, 1])


def scalar_chain(depth: int = 10) -> tf.keras.Model:
    constant = tf.keras.initializers.Constant(2.0)
    layers = [
        tf.keras.layers.Dense(1, use_bias=False, kernel_initializer=constant)
        for _ in range(depth)
    ]
    return tf.keras.Sequential([tf.keras.Input(shape=(1,)), *layers])


def train_chain(
    clip: Callable[[list[tf.Tensor]], list[tf.Tensor]] | None, steps: int = 80
) -> dict[str, object]:
    model = scalar_chain()
    optimizer = tf.keras.optimizers.SGD(learning_rate=0.01)
    x = y = tf.ones([1, 1])
    first_gradients, losses = [], []
    for _ in range(steps):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(x) - y))
        gradients = tape.gradient(loss, model.trainable_variables)
        if clip is not None:
            gradients = clip(gradients)
        if not first_gradients:
            first_gradients = [float(g[0, 0]) for g in gradients]
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        losses.append(float(loss))
    return {
        "gradient per layer, step 1": first_gradients,
        "loss, steps 1-4": losses[:4],
        "first step with loss < 0.01": next((i for i, v in enumerate(losses, 1) if v < 0.01), None),
    }


def sigmoid_gradients_vanish() -> dict[str, object]:
    x, y = random_batch()
    norms = layer_gradient_norms(deep_network("sigmoid"), x, y)
    return {"norm per layer": norms, "first / last": norms[0] / norms[-1]}


def relu_he_gradients_flow() -> dict[str, object]:
    x, y = random_batch()
    norms = layer_gradient_norms(deep_network("relu", "he_normal"), x, y)
    return {"norm per layer": norms, "first / last": norms[0] / norms[-1]}


def exploding_gradients() -> dict[str, object]:
    return train_chain(clip=None)


def clip_by_value() -> dict[str, object]:
    def clip(gradients: list[tf.Tensor]) -> list[tf.Tensor]:
        return [tf.clip_by_value(g, -5.0, 5.0) for g in gradients]

    return train_chain(clip)


def clip_by_norm() -> dict[str, object]:
    def clip(gradients: list[tf.Tensor]) -> list[tf.Tensor]:
        clipped, _norm = tf.clip_by_global_norm(gradients, 5.0)
        return clipped

    return train_chain(clip)
