"""The course's workflows twice: the Keras model a TensorFlow user writes, and the ptref model it maps to.

TensorFlow comes through :func:`ptref.parity.tf.import_keras` (``torch._dynamo`` first; oneDNN off unless the
environment chose), the one bootstrap of the suite.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from torch import nn

from ptref.data import HousePriceDataModule, MNISTDataModule
from ptref.models import MLP, LinearRegression, SoftmaxRegression
from ptref.models.classifier import ImageClassifier
from ptref.nn import BatchNormalization
from ptref.parity.tf import import_keras
from shared_data import shared_dataset

keras = import_keras()

MNIST_DIR = shared_dataset("mnist-t10k")
HOUSE_CSV = shared_dataset("house-price", "data1.csv")
TEST_SIZE = 2000  # the last 2,000 t10k digits test, the first 8,000 train (as experiments/mnist_*_t10k.yaml)
WORKFLOWS = ("house_price", "softmax", "mlp", "cnn", "cnn_bn")
MNIST_WORKFLOWS = ("softmax", "mlp", "cnn", "cnn_bn")


@dataclass
class Pair:
    """A Keras model and its ptref twin (weights not yet shared), with the input layout each one takes."""

    name: str
    keras_model: keras.Model
    ptref_model: nn.Module
    image: bool  # True: Keras takes NHWC images, torch NCHW; False: both take flat [B, features]

    def to_keras_input(self, x: torch.Tensor) -> np.ndarray:
        """The ptref batch as Keras wants it (NCHW → NHWC for images)."""
        return (x.permute(0, 2, 3, 1) if self.image else x).contiguous().numpy()

    @property
    def example_input(self) -> torch.Tensor:
        return torch.zeros(1, 1, 28, 28) if self.image else torch.zeros(1, 784)


def keras_model(name: str, seed: int = 0) -> keras.Model:
    """The Keras model of a workflow, written as the course writes it (Sequential, softmax output)."""
    keras.utils.set_random_seed(seed)
    layers = keras.layers
    if name == "house_price":
        return keras.Sequential([keras.Input((2,)), layers.Dense(1)])
    if name == "softmax":
        return keras.Sequential([keras.Input((784,)), layers.Dense(10, activation="softmax")])
    if name == "mlp":
        return keras.Sequential([
            keras.Input((784,)),
            layers.Dense(128, activation="relu"),
            layers.Dense(128, activation="relu"),  # square kernel: a missing transpose would go unnoticed by shapes
            layers.Dense(10, activation="softmax"),
        ])
    if name == "cnn":
        return keras.Sequential([
            keras.Input((28, 28, 1)),
            layers.Conv2D(8, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(16, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(32, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ])
    if name == "cnn_bn":
        return keras.Sequential([
            keras.Input((28, 28, 1)),
            layers.Conv2D(8, 3, use_bias=False),  # no bias before BN: its true gradient is 0 (numerics §9)
            layers.BatchNormalization(),
            layers.Activation("relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(10, activation="softmax"),
        ])
    raise ValueError(f"unknown workflow {name!r}; workflows: {WORKFLOWS}")


class SmallCNN(ImageClassifier):
    """The Keras ``cnn`` of :func:`keras_model` in torch, flattening in torch's ``(C, H, W)`` order (so the weight
    transfer must permute the Dense kernel's rows: ``compare/teeth.py`` checks that it does).

    ``Conv2d(8, 3) → ReLU → MaxPool2d(2) → Conv2d(16, 3) → ReLU → MaxPool2d(2) → Flatten → Linear(32) → ReLU →
    Linear(10)``.
    """

    def __init__(self) -> None:
        super().__init__()
        self.example_input_array = torch.zeros(1, 1, 28, 28)  # the Flatten's input shape, for the weight transfer

    def build_network(self) -> nn.Module:
        return nn.Sequential(
            nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(16 * 5 * 5, 32), nn.ReLU(), nn.Linear(32, 10),
        )


class BatchNormCNN(ImageClassifier):
    """No ptref workflow has BatchNorm yet: this one carries ptref's Keras-exact BatchNormalization.

    ``Conv2d(8, 3, bias=False) → BatchNormalization → ReLU → MaxPool2d(2) → Flatten → Linear(10)``.
    """

    def __init__(self, bn_momentum: float = 0.99) -> None:
        super().__init__()

    def build_network(self) -> nn.Module:
        return nn.Sequential(
            nn.Conv2d(1, 8, 3, bias=False), BatchNormalization(8, momentum=self.hparams.bn_momentum), nn.ReLU(),
            nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 13 * 13, 10),
        )


def ptref_model(name: str, bias_column: bool = True, bn_momentum: float = 0.99) -> nn.Module:
    """The ptref twin of :func:`keras_model` (initial weights are irrelevant: they get transferred)."""
    torch.manual_seed(0)
    if name == "house_price":
        return LinearRegression(n_features=2, bias_column=bias_column)
    if name == "softmax":
        return SoftmaxRegression()
    if name == "mlp":
        return MLP(hidden_sizes=[128, 128])
    if name == "cnn":
        return SmallCNN()
    if name == "cnn_bn":
        return BatchNormCNN(bn_momentum=bn_momentum)
    raise ValueError(f"unknown workflow {name!r}; workflows: {WORKFLOWS}")


def pair(name: str, seed: int = 0, **ptref_options) -> Pair:
    return Pair(name, keras_model(name, seed), ptref_model(name, **ptref_options), image=name in ("cnn", "cnn_bn"))


@lru_cache(maxsize=None)
def mnist_datamodule(image: bool) -> MNISTDataModule:
    """ptref's own MNIST loader on the real t10k digits: first 8,000 train, last 2,000 test, pixels / 255."""
    if not MNIST_DIR.is_dir():
        raise FileNotFoundError(
            f"{MNIST_DIR} is missing: the parity suite reads real MNIST digits (or set $PTREF_SHARED)"
        )
    datamodule = MNISTDataModule(
        data_dir=str(MNIST_DIR), train_files="t10k", test_size=TEST_SIZE, layout="image" if image else "flat"
    )
    datamodule.setup("fit")
    return datamodule


def mnist_batch(image: bool, start: int = 0, size: int = 64, split: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    """Normalized digits ``[size, ...]`` and class indices from the train (or test) split, read by ptref."""
    datamodule = mnist_datamodule(image)
    dataset = datamodule.train_set if split == "train" else datamodule.test_set
    stop = min(start + size, len(dataset))
    images, labels = zip(*(dataset[i] for i in range(start, stop)))
    return datamodule.normalize(torch.stack(images)), torch.stack(labels)


def house_price_data() -> tuple[torch.Tensor, torch.Tensor]:
    """The course's data1.csv (area, bedrooms, price), z-scored by ptref's data module: ``(X [47, 2], y [47, 1])``."""
    datamodule = HousePriceDataModule(csv_path=str(HOUSE_CSV))
    return datamodule.features, datamodule.targets


def batch_for(name: str, size: int = 64, start: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    if name == "house_price":
        return house_price_data()
    return mnist_batch(name in ("cnn", "cnn_bn"), start, size)


