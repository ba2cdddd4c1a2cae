"""TensorFlow's side of ``ptref/concepts/adaptive_optimizers.py``: the adaptive ``tf.keras.optimizers``."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from ptref.concepts.lesson import load_twin

# the gradients and ``follow`` of the optimizers lesson's TensorFlow side (compare/concepts/optimizers_tf.py)
shared = load_twin("optimizers")
W0, LR, follow = shared.W0, shared.LR, shared.follow
keras = tf.keras


def adagrad() -> dict[str, object]:
    return {
        "keras.optimizers.Adagrad": follow(keras.optimizers.Adagrad(learning_rate=LR)),
        "keras.optimizers.Adagrad(a₀ = 0)": follow(
            keras.optimizers.Adagrad(learning_rate=LR, initial_accumulator_value=0.0)
        ),
    }


def adadelta() -> dict[str, object]:
    return {"keras.optimizers.Adadelta": follow(keras.optimizers.Adadelta(learning_rate=1.0))}


def rmsprop() -> dict[str, object]:
    rmsprop = keras.optimizers.RMSprop(learning_rate=LR, rho=0.9, epsilon=0.01)
    return {"keras.optimizers.RMSprop": follow(rmsprop)}


def adam() -> dict[str, object]:
    return {
        "keras.optimizers.Adam": follow(keras.optimizers.Adam(learning_rate=LR)),
        "keras.optimizers.Adam(amsgrad)": follow(keras.optimizers.Adam(learning_rate=LR, amsgrad=True)),
    }


def adam_as_a_text_prints_it() -> dict[str, object]:
    adam_path = follow(keras.optimizers.Adam(learning_rate=LR, beta_2=0.9))
    return {
        "keras.optimizers.Adam(beta_2=0.9)": adam_path,
        "first step ÷ α, Adam": ((W0 - np.array(adam_path[0])) / LR).tolist(),
    }


def adamax() -> dict[str, object]:
    return {"keras.optimizers.Adamax": follow(keras.optimizers.Adamax(learning_rate=LR))}


def nadam() -> dict[str, object]:
    return {"keras.optimizers.Nadam": follow(keras.optimizers.Nadam(learning_rate=LR))}
