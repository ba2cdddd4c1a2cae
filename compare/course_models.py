"""The course's own Keras models, at the course's sizes, compiled as the course compiles them.

:mod:`compare.workflows` holds small twins of these for the parity checks (and switches TensorFlow's oneDNN off
for their tolerances); these are the full-size models the course trains, with TensorFlow's defaults left as they
are, which is what the benchmark times against ptref (``benchmarks/bench_keras.py``).
"""

from __future__ import annotations

from typing import Any

from ptref.parity.tf import import_keras

COURSE_MODELS = ("softmax", "mlp", "cnn", "house_price")


def course_model(name: str) -> Any:
    """The compiled Keras model of a course workflow (``softmax``, ``mlp``, ``cnn``, ``house_price``).

    The MNIST models take Adam 1e-3 and ``categorical_crossentropy`` (ptref's ``mnist_*_t10k.yaml``); house price
    is ``Dense(1)`` from zeros on the 2 z-scored features with plain gradient descent, lr 0.01 (the course's TF1
    graph written in Keras).
    """
    keras = import_keras()
    layers = keras.layers
    if name == "house_price":
        model = keras.Sequential([keras.Input((2,)), layers.Dense(1, kernel_initializer="zeros")])
        model.compile(loss="mse", optimizer=keras.optimizers.SGD(0.01))
        return model
    if name == "softmax":
        stack = [keras.Input((784,)), layers.Dense(10, activation="softmax")]
    elif name == "mlp":
        stack = [keras.Input((784,)), layers.Dense(512, activation="relu"), layers.Dense(512, activation="relu"),
                 layers.Dense(10, activation="softmax")]
    elif name == "cnn":
        stack = [keras.Input((28, 28, 1)), layers.Conv2D(32, 3, activation="relu"),
                 layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2), layers.Dropout(0.25),
                 layers.Flatten(), layers.Dense(128, activation="relu"), layers.Dropout(0.5),
                 layers.Dense(10, activation="softmax")]
    else:
        raise ValueError(f"unknown course model {name!r}; models: {', '.join(COURSE_MODELS)}")
    model = keras.Sequential(stack)
    model.compile(loss="categorical_crossentropy", optimizer=keras.optimizers.Adam(1e-3), metrics=["accuracy"])
    return model
