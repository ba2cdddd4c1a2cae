"""The Keras side of ``ptref bench``: the course's models trained with ``model.fit``, timed per epoch.

Run by ``ptref bench`` in its own process (``python -m ptref.bench_keras ...``), so TensorFlow never
shares an interpreter with ptref's training (nor fights it over threads), and prints one JSON line::

    {"epoch_seconds": [...], "samples": 6000}

The models are the course's Keras code; the data are the same first ``n`` MNIST digits ptref trains on,
normalized up front as the course does (``x.astype("float32") / 255``).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import torch._dynamo  # noqa: E402,F401  (must precede TensorFlow: the other order aborts in LLVM)

from ptref.data.idx import find_idx_pair, read_images_and_labels  # noqa: E402


def course_model(workflow: str, keras):  # noqa: ANN001, ANN201 - keras is the imported module
    """The course's Keras model of ``workflow`` (softmax / mlp / cnn), compiled as the course does."""
    layers = keras.layers
    if workflow == "softmax":
        stack = [keras.Input((784,)), layers.Dense(10, activation="softmax")]
    elif workflow == "mlp":
        stack = [keras.Input((784,)), layers.Dense(512, activation="relu"), layers.Dense(512, activation="relu"),
                 layers.Dense(10, activation="softmax")]
    else:
        stack = [keras.Input((28, 28, 1)), layers.Conv2D(32, 3, activation="relu"),
                 layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2), layers.Dropout(0.25),
                 layers.Flatten(), layers.Dense(128, activation="relu"), layers.Dropout(0.5),
                 layers.Dense(10, activation="softmax")]
    model = keras.Sequential(stack)
    model.compile(loss="categorical_crossentropy", optimizer=keras.optimizers.Adam(1e-3), metrics=["accuracy"])
    return model


def house_price_model(keras):  # noqa: ANN001, ANN201
    """``Dense(1)`` on 2 z-scored features, plain gradient descent, lr 0.01 (the course's TF1 graph in Keras)."""
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, kernel_initializer="zeros")])
    model.compile(loss="mse", optimizer=keras.optimizers.SGD(0.01))
    return model


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ptref.bench_keras", description=__doc__)
    parser.add_argument("workflow", choices=("softmax", "mlp", "cnn", "house_price"))
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--n", type=int, default=6000)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    import keras
    import numpy as np

    import_seconds = time.perf_counter() - started
    keras.utils.set_random_seed(0)
    if args.workflow == "house_price":
        table = np.loadtxt(args.data_dir, delimiter=",")
        z = ((table - table.mean(0)) / table.std(0, ddof=1)).astype("float32")
        x, y = z[:, :-1], z[:, -1:]
        model, batch_size = house_price_model(keras), len(x)
    else:
        images, labels = read_images_and_labels(*find_idx_pair([Path(args.data_dir)], "t10k"))
        x = images[: args.n].numpy().astype("float32") / 255
        x = x.reshape(-1, 784) if args.workflow != "cnn" else x.reshape(-1, 28, 28, 1)
        y = keras.utils.to_categorical(labels[: args.n].numpy(), 10)
        model, batch_size = course_model(args.workflow, keras), args.batch_size

    epoch_seconds: list[float] = []

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):  # noqa: ANN001
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):  # noqa: ANN001
            epoch_seconds.append(time.perf_counter() - self.start)

    fit_start = time.perf_counter()
    model.fit(x, y, batch_size=batch_size, epochs=args.epochs, shuffle=True, verbose=0, callbacks=[EpochTimer()])
    fit_seconds = time.perf_counter() - fit_start
    print(json.dumps({"epoch_seconds": epoch_seconds, "samples": len(x), "import_seconds": import_seconds,
                      "fit_seconds": fit_seconds, "keras": keras.__version__}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
