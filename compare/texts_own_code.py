"""The course texts' own code for each workflow in ``experiments/texts/``, run on the same data: the figure to
set beside ptref's.

Each text's network is written the way the text writes it (Keras ``Sequential`` + ``compile`` + ``fit``; the
PyTorch tutorial's hand-written loop), trained on the first 8,000 t10k digits and tested on the last 2,000, as
the YAMLs are. Prints one Markdown row per workflow: the test accuracy (the y = 2x line: the learned w and b).

Run: ``PYTHONPATH=. python compare/texts_own_code.py [name ...]`` (needs TensorFlow; minutes on a CPU).
"""

from __future__ import annotations

import argparse

from ptref.parity.tf import import_keras  # the one TensorFlow bootstrap

keras = import_keras()
import numpy as np  # noqa: E402
import torch  # noqa: E402
from keras import layers  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

from ptref.data.idx import find_idx_pair, read_images_and_labels  # noqa: E402
from shared_data import shared_dataset  # noqa: E402

DATA = shared_dataset("mnist-t10k")
SEED = 42


def t10k_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """uint8 images ``[N, 28, 28]`` and labels: the first 8,000 t10k digits train, the last 2,000 test."""
    images, labels = read_images_and_labels(*find_idx_pair([DATA], "t10k"))
    images, labels = images.numpy(), labels.numpy().astype("int64")
    return images[:-2000], labels[:-2000], images[-2000:], labels[-2000:]


def keras_fit(model: keras.Model, optimizer: str | keras.optimizers.Optimizer, batch_size: int, epochs: int,
              image: bool) -> float:
    """The Keras texts' recipe: x/255, one-hot labels, categorical cross-entropy; returns the test accuracy."""
    x_train, y_train, x_test, y_test = t10k_split()
    shape = (-1, 28, 28, 1) if image else (-1, 784)
    x_train, x_test = x_train.reshape(shape).astype("float32") / 255, x_test.reshape(shape).astype("float32") / 255
    y_train, y_test = keras.utils.to_categorical(y_train, 10), keras.utils.to_categorical(y_test, 10)
    model.compile(optimizer=optimizer, loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, verbose=0)
    return model.evaluate(x_test, y_test, verbose=0)[1]


def simplenet() -> float:
    model = keras.Sequential([
        keras.Input(shape=(784,)),
        layers.Dense(64, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
    return keras_fit(model, "adam", batch_size=32, epochs=5, image=False)


def convnet() -> float:
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
    return keras_fit(model, "adam", batch_size=32, epochs=5, image=True)


def deeper_cnn_sgd() -> float:
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(32, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.MaxPooling2D((2, 2)),
        layers.Conv2D(64, (3, 3), activation="relu"),
        layers.Flatten(),
        layers.Dense(64, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])
    return keras_fit(model, "sgd", batch_size=32, epochs=10, image=True)


def pytorch_mlp() -> float:
    """The PyTorch tutorial's loop: Normalize((0.5,), (0.5,)), 784-128-64-10, Adam 1e-3, batch 64, 5 epochs."""
    x_train, y_train, x_test, y_test = t10k_split()

    def normalized(x: np.ndarray) -> torch.Tensor:  # ToTensor() then Normalize((0.5,), (0.5,))
        return (torch.from_numpy(x).float() / 255 - 0.5) / 0.5

    train = DataLoader(TensorDataset(normalized(x_train), torch.from_numpy(y_train)), batch_size=64, shuffle=True)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 64), nn.ReLU(),
                          nn.Linear(64, 10))
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    for _ in range(5):
        for images, labels in train:
            optimizer.zero_grad()
            loss = criterion(model(images), labels)
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        predicted = model(normalized(x_test)).argmax(dim=1)
    return (predicted == torch.from_numpy(y_test)).float().mean().item()


def line() -> tuple[float, float]:
    """The book's Dense(1) on y = 2x: 1,000 points x ~ U(−1, 1), SGD 0.01, 100 epochs; returns (w, b)."""
    x = np.random.default_rng(0).uniform(-1, 1, size=(1000, 1)).astype("float32")
    model = keras.Sequential([keras.Input(shape=(1,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, 2 * x, epochs=100, verbose=0)
    kernel, bias = model.get_weights()
    return float(kernel[0, 0]), float(bias[0])


WORKFLOWS = {
    "mnist_pytorch_mlp_t10k": pytorch_mlp,
    "mnist_keras_simplenet_t10k": simplenet,
    "mnist_keras_convnet_t10k": convnet,
    "mnist_deeper_cnn_sgd_t10k": deeper_cnn_sgd,
    "line_y_equals_2x": line,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help=f"any of {', '.join(WORKFLOWS)} (default: all)")
    names = parser.parse_args().names or list(WORKFLOWS)
    unknown = [name for name in names if name not in WORKFLOWS]
    if unknown:
        parser.error(f"unknown workflow(s) {', '.join(unknown)}; choose from {', '.join(WORKFLOWS)}")
    print(f"| workflow | the text's own code, seed {SEED} |\n|---|---|")
    for name in names:
        keras.utils.set_random_seed(SEED)  # seeds Python, NumPy, TensorFlow/Keras
        torch.manual_seed(SEED)
        result = WORKFLOWS[name]()
        shown = f"w = {result[0]:.4f}, b = {result[1]:.4f}" if isinstance(result, tuple) else f"{100 * result:.2f}%"
        print(f"| `{name}` | {shown} |", flush=True)


if __name__ == "__main__":
    main()
