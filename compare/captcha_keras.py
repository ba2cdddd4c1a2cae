"""The course's captcha reader in Keras (the Functional model as the course wrote it, Keras 3 APIs), twin of
:mod:`ptref.models.captcha`; also a script that trains it on ptref's generated captchas and prints its accuracies.

    python compare/captcha_keras.py              # the course run: adam, binary CE, batch 100, 10 epochs
    python compare/captcha_keras.py --loss per_head_cross_entropy  # four outputs, sparse categorical CE each (summed)

The data are ptref's :class:`~ptref.data.captcha.CaptchaDataModule` set (same seed: the same images as
``ptref fit --config experiments/captcha.yaml``), converted as the course does: grayscale /255 ``(N, 60, 160, 1)``
and the 40-vector targets.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere in the checkout

from ptref.parity.tf import import_keras  # the one TensorFlow bootstrap

keras = import_keras()
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import torch  # noqa: E402

from ptref.data.captcha import CaptchaDataModule, grayscale, one_hot  # noqa: E402
from ptref.models.captcha import CaptchaCNN  # noqa: E402
from ptref.nn import conv_kernel_to_torch, dense_kernel_to_linear  # noqa: E402


def captcha_model(num_chars: int = 10, length: int = 4, height: int = 60, width: int = 160, dropout: float = 0.25,
                  concatenate: bool = True) -> keras.Model:
    """The course's model; ``concatenate=False`` keeps the heads as ``length`` outputs (for per-head losses)."""
    inputs = keras.Input(shape=(height, width, 1))
    x = keras.layers.Conv2D(32, (3, 3), activation="relu", name="conv1")(inputs)
    x = keras.layers.Conv2D(32, (3, 3), activation="relu", name="conv2")(x)
    x = keras.layers.MaxPooling2D(pool_size=(2, 2), padding="same")(x)
    x = keras.layers.Conv2D(64, (3, 3), activation="relu", name="conv3")(x)
    x = keras.layers.MaxPooling2D(pool_size=(2, 2), padding="same")(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dropout(dropout)(x)
    heads = [keras.layers.Dense(num_chars, activation="softmax", name=f"c{i + 1}")(x) for i in range(length)]
    outputs = keras.layers.Concatenate()(heads) if concatenate else heads
    return keras.Model(inputs=inputs, outputs=outputs)


def transfer(keras_model: keras.Model, model: CaptchaCNN) -> CaptchaCNN:
    """Copy the Keras weights into ``model``: conv kernels HWIO → OIHW, Dense kernels transposed (the Flatten is
    channels-last on both sides, :class:`ptref.nn.FlattenChannelsLast`)."""
    with torch.no_grad():
        for name in ("conv1", "conv2", "conv3"):
            kernel, bias = keras_model.get_layer(name).get_weights()
            getattr(model, name).weight.copy_(conv_kernel_to_torch(torch.from_numpy(kernel)))
            getattr(model, name).bias.copy_(torch.from_numpy(bias))
        for i, head in enumerate(model.heads):
            kernel, bias = keras_model.get_layer(f"c{i + 1}").get_weights()
            head.weight.copy_(dense_kernel_to_linear(torch.from_numpy(kernel)))
            head.bias.copy_(torch.from_numpy(bias))
    return model


def keras_gradients_in_torch_layout(keras_model: keras.Model, gradients: list) -> list[np.ndarray]:
    """Keras gradients (order of ``trainable_weights``) → arrays in the order and layout of
    ``CaptchaCNN.parameters()``."""
    by_name = {variable.path: np.asarray(g) for variable, g in zip(keras_model.trainable_weights, gradients)}
    heads = sorted(name.split("/")[0] for name in by_name if name.startswith("c") and name.endswith("/kernel")
                   and name[1:].split("/")[0].isdigit())
    arrays = []
    for name in ("conv1", "conv2", "conv3", *sorted(heads, key=lambda head: int(head[1:]))):
        kernel, bias = by_name[f"{name}/kernel"], by_name[f"{name}/bias"]
        arrays += [kernel.transpose(3, 2, 0, 1) if kernel.ndim == 4 else kernel.T, bias]
    return arrays


def course_arrays(data: CaptchaDataModule, split: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The course's inputs: grayscale /255 ``(N, H, W, 1)``, 40-vectors, and the character indices."""
    images, labels = getattr(data, f"{split}_set").tensors
    x = grayscale(images).permute(0, 2, 3, 1).numpy()
    return x, one_hot(labels, len(data.hparams.charset)).numpy(), labels.numpy()


def fit(model: keras.Model, x: np.ndarray, targets: np.ndarray | list[np.ndarray], batch_size: int, epochs: int,
        seed: int, **fit_options) -> keras.callbacks.History:
    """``model.fit`` with a new order of the examples every epoch (the ``DataLoader(shuffle=True)`` of ptref).

    Keras's ``fit(x, y, shuffle=True)`` on arrays draws each epoch's permutation inside a ``tf.data`` pipeline
    that ``fit`` iterates anew every epoch; once ``keras.utils.set_random_seed`` has set the global seed, every
    epoch redraws it from the same seed and visits the examples in the *same* order
    (``compare/test_captcha_parity_tf.py`` shows it). A ``Dataset.shuffle(..., reshuffle_each_iteration=True)``
    draws a new order per epoch from ``seed``. ``targets``: one array, or one per output.
    """
    labels = tuple(targets) if isinstance(targets, list) else targets
    dataset = tf.data.Dataset.from_tensor_slices((x, labels))
    dataset = dataset.shuffle(len(x), seed=seed, reshuffle_each_iteration=True).batch(batch_size)
    return model.fit(dataset, epochs=epochs, shuffle=False, **fit_options)  # the dataset shuffles itself


def accuracies(probabilities: np.ndarray, labels: np.ndarray, num_chars: int) -> dict[str, float]:
    """Per-character and whole-captcha accuracy of 40-vectors against character indices."""
    read = probabilities.reshape(len(labels), -1, num_chars).argmax(axis=-1)
    return {"char_acc": float((read == labels).mean()), "captcha_acc": float((read == labels).all(axis=1).mean())}


def main() -> None:
    parser = argparse.ArgumentParser(description="Train the course's Keras captcha model on ptref's generated set.")
    parser.add_argument("--loss", default="binary_crossentropy",
                        choices=["binary_crossentropy", "mean_squared_error", "poisson", "per_head_cross_entropy"])
    parser.add_argument("--optimizer", default="adam")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch_size", type=int, default=100)
    parser.add_argument("--seed", type=int, default=42, help="Keras's seed (weights, dropout, shuffling)")
    parser.add_argument("--data_seed", type=int, default=42)
    parser.add_argument("--n_train", type=int, default=3956)
    parser.add_argument("--n_test", type=int, default=954)
    parser.add_argument("--cache_dir", default="data/captcha")
    args = parser.parse_args()
    data = CaptchaDataModule(cache_dir=args.cache_dir, seed=args.data_seed, n_train=args.n_train, n_test=args.n_test)
    data.prepare_data()
    data.setup("fit")
    (x_train, y_train, i_train), (x_test, y_test, i_test) = course_arrays(data, "train"), course_arrays(data, "test")
    keras.utils.set_random_seed(args.seed)
    per_head = args.loss == "per_head_cross_entropy"
    model = captcha_model(concatenate=not per_head)
    if per_head:  # Keras sums the losses of a model's outputs, as CaptchaCNN's per-head loss does
        model.compile(optimizer=args.optimizer, loss=["sparse_categorical_crossentropy"] * 4)
        targets, validation = list(i_train.T), (x_test, list(i_test.T))
    else:
        # The course's "accuracy" was tf.keras 2's binary accuracy (picked from the loss); Keras 3 picks categorical
        # accuracy for a 40-wide output, so the course's metric is named explicitly.
        model.compile(optimizer=args.optimizer, loss=args.loss, metrics=["binary_accuracy"])
        targets, validation = y_train, (x_test, y_test)
    fit(model, x_train, targets, args.batch_size, args.epochs, args.seed, validation_data=validation, verbose=2)
    probabilities = model.predict(x_test, batch_size=args.batch_size, verbose=0)
    if per_head:
        probabilities = np.concatenate(probabilities, axis=1)
    binary = float(((probabilities > 0.5) == (y_test > 0.5)).mean())
    scores = {**accuracies(probabilities, i_test, 10), "binary_acc": binary}
    print("keras test: " + ", ".join(f"{name} {value:.4f}" for name, value in scores.items()))


if __name__ == "__main__":
    main()
