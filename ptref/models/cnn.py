"""The course's and the seeds' convolutional networks, each written out as the ``nn.Sequential`` of its Keras code.

TensorFlow course original (Keras, 1,199,882 parameters)::

    model = Sequential([
        Conv2D(32, kernel_size=(3, 3), activation="relu", input_shape=(28, 28, 1)),
        Conv2D(64, (3, 3), activation="relu"),
        MaxPooling2D(pool_size=(2, 2)),
        Dropout(0.25),
        Flatten(),
        Dense(128, activation="relu"),
        Dropout(0.5),
        Dense(10, activation="softmax"),
    ])

PyTorch twin (:func:`course`): ``Conv2d(1, 32, 3)`` etc. on ``[B, 1, 28, 28]`` images; Keras's ``padding="valid"``
is PyTorch's default ``padding=0``, ``MaxPooling2D(2)`` is ``MaxPool2d(2)``, a ``Conv2D`` with
``activation="relu"`` is :class:`~ptref.nn.Conv2dReLU` (one oneDNN call on CPU), a ``Dense`` is
:class:`~ptref.nn.Dense` (an ``nn.Linear`` computed by oneDNN on CPU, as TensorFlow's), the softmax lives in the
loss.
``Flatten`` is :class:`~ptref.nn.FlattenChannelsLast`: it flattens in Keras's ``(h, w, c)`` order, so the first
Dense kernel is Keras's, transposed, with no row permutation (``ptref.nn.layout``), and a batch held in
channels-last memory (``ptref.callbacks.speed.ChannelsLast``) is flattened without a copy.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ptref.models.classifier import ImageClassifier, Init
from ptref.nn import Conv2dReLU, Dense, Dropout, FlattenChannelsLast


def course(num_classes: int = 10) -> nn.Sequential:
    """The course's chapter 5 CNN (the Keras code in the module docstring). 28 → 26 → 24 → pool → 12·12·64."""
    return nn.Sequential(
        Conv2dReLU(1, 32, 3),
        Conv2dReLU(32, 64, 3),
        nn.MaxPool2d(2),
        Dropout(0.25),
        FlattenChannelsLast(),
        Dense(12 * 12 * 64, 128),
        nn.ReLU(),
        Dropout(0.5),
        Dense(128, num_classes),
    )


def convnet(num_classes: int = 10) -> nn.Sequential:
    """The Keras article's ConvNet. 28 → 26 → pool 13 → 11 → pool 5·5·64. Keras::

        Sequential([Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1)), MaxPooling2D(2),
                    Conv2D(64, 3, activation="relu"), MaxPooling2D(2), Flatten(),
                    Dense(128, activation="relu"), Dense(10, activation="softmax")])
    """
    return nn.Sequential(
        Conv2dReLU(1, 32, 3),
        nn.MaxPool2d(2),
        Conv2dReLU(32, 64, 3),
        nn.MaxPool2d(2),
        FlattenChannelsLast(),
        Dense(5 * 5 * 64, 128),
        nn.ReLU(),
        Dense(128, num_classes),
    )


def deeper(num_classes: int = 10) -> nn.Sequential:
    """The seeds' deeper CNN. 28 → 26 → pool 13 → 11 → pool 5 → 3·3·64. Keras::

        Sequential([Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1)), MaxPooling2D(2),
                    Conv2D(64, 3, activation="relu"), MaxPooling2D(2), Conv2D(64, 3, activation="relu"),
                    Flatten(), Dense(64, activation="relu"), Dense(10, activation="softmax")])
    """
    return nn.Sequential(
        Conv2dReLU(1, 32, 3),
        nn.MaxPool2d(2),
        Conv2dReLU(32, 64, 3),
        nn.MaxPool2d(2),
        Conv2dReLU(64, 64, 3),
        FlattenChannelsLast(),
        Dense(3 * 3 * 64, 64),
        nn.ReLU(),
        Dense(64, num_classes),
    )


PRESETS: dict[str, Callable[[int], nn.Sequential]] = {"course": course, "convnet": convnet, "deeper": deeper}


class CNN(ImageClassifier):
    """One of the :data:`PRESETS` networks on ``[B, 1, 28, 28]`` images, ending in ``Linear(num_classes)`` logits.

    Args:
        layers: ``course`` (the course's chapter 5 CNN), ``convnet`` (the Keras article's) or ``deeper`` (the
            seeds'); another architecture is another ``ImageClassifier`` subclass with its own ``build_network``.
        num_classes, init, learning_rate: see :class:`~ptref.models.classifier.ImageClassifier`.
    """

    def __init__(self, layers: str = "course", num_classes: int = 10, init: Init = "torch",
                 learning_rate: float = 1e-3) -> None:
        if layers not in PRESETS:
            raise ValueError(f"unknown CNN preset {layers!r}; presets: {sorted(PRESETS)}")
        super().__init__(num_classes=num_classes, init=init, learning_rate=learning_rate)
        self.example_input_array = torch.zeros(1, 1, 28, 28)  # summary shapes, TensorBoard's graph

    def build_network(self) -> nn.Module:
        return PRESETS[self.hparams.layers](self.hparams.num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4:
            raise ValueError(
                f"the CNN takes images [B, C, H, W], got shape {tuple(x.shape)}; use the data layout 'image'"
            )
        return self.net(x)
