"""Multilayer perceptron: Dense layers on the flattened 28×28 image (the course's softmax network), and softmax
regression, the MLP without hidden layers.

TensorFlow course original (Keras, 669,706 parameters)::

    model = Sequential([
        Dense(512, activation="relu", input_shape=(784,)),
        Dense(512, activation="relu"),
        Dense(10, activation="softmax"),
    ])

PyTorch twin: ``nn.Sequential(Flatten, Linear(784, 512), ReLU, Linear(512, 512), ReLU, Linear(512, 10))``;
the softmax lives in the loss (see :mod:`ptref.models.classifier`). Keras's ``Dense`` is ``nn.Linear``
with the kernel stored transposed (``[in, out]`` vs ``[out, in]``); the parameter counts are equal.

Softmax regression, TensorFlow original (TF1, "MNIST for ML beginners"; 7,850 parameters)::

    W = tf.Variable(tf.zeros([784, 10])); b = tf.Variable(tf.zeros([10]))
    y = tf.nn.softmax(tf.matmul(x, W) + b)
    cross_entropy = tf.reduce_mean(-tf.reduce_sum(y_ * tf.log(y), axis=1))

Keras: ``Sequential([Dense(10, activation="softmax", input_shape=(784,))])``. PyTorch twin: ``MLP(hidden_sizes=[])``,
i.e. ``nn.Linear(784, 10)`` and ``F.cross_entropy`` on its logits; :class:`SoftmaxRegression` is that, by name.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ptref.models.classifier import ImageClassifier, Init, activation_class, resolve_preset
from ptref.nn import Dense

# Hidden layer sizes of the MLPs in the course and its seeds.
PRESETS: dict[str, list[int]] = {
    "course": [512, 512],  # the course's chapter 5 network (97.86% test accuracy in 5 epochs, full MNIST)
    "seed": [128, 64],  # the PyTorch seed's 784-128-64-10 with Normalize((0.5,), (0.5,))
    "simplenet": [64],  # the Keras seed's SimpleNet: Dense(64, relu) -> Dense(10)
}


class MLP(ImageClassifier):
    """``Flatten → [Linear → activation → Dropout] × len(hidden_sizes) → Linear(num_classes)``.

    Args:
        hidden_sizes: a preset name (``course`` 512-512, ``seed`` 128-64, ``simplenet`` 64) or a list of
            hidden layer sizes; ``[]`` is softmax regression.
        activation: one of :data:`~ptref.models.classifier.ACTIVATIONS`.
        dropout: rate of a Dropout after each hidden activation (Keras ``Dropout(rate)``); 0 = none.
        in_features: inputs per image (28·28).
        num_classes, init, learning_rate: see :class:`~ptref.models.classifier.ImageClassifier`.
    """

    def __init__(
        self,
        hidden_sizes: str | list[int] = "course",
        activation: str = "relu",
        dropout: float = 0.0,
        in_features: int = 784,
        num_classes: int = 10,
        init: Init = "torch",
        learning_rate: float = 1e-3,
    ) -> None:
        super().__init__(num_classes=num_classes, init=init, learning_rate=learning_rate)
        self.example_input_array = torch.zeros(1, in_features)  # lets the model summary show layer shapes

    def build_network(self) -> nn.Module:
        sizes = resolve_preset(self.hparams.hidden_sizes, PRESETS, "MLP")
        return dense_stack(
            self.hparams.in_features, sizes, self.hparams.num_classes, self.hparams.activation, self.hparams.dropout
        )


class SoftmaxRegression(MLP):
    """``p(class | x) = softmax(W·x + b)``, ``W`` of shape ``[num_classes, in_features]``: ``MLP(hidden_sizes=[])``.

    Args: those of :class:`MLP` but ``hidden_sizes`` (none), ``activation`` and ``dropout`` (nothing to act on).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(hidden_sizes=[], **kwargs)

    def build_network(self) -> nn.Module:
        # Not MLP's: built from the CLI, the hyperparameters are the arguments given, and hidden_sizes is none.
        return dense_stack(self.hparams.in_features, [], self.hparams.num_classes)


def dense_stack(
    in_features: int, hidden_sizes: list[int], num_classes: int, activation: str = "relu", dropout: float = 0.0
) -> nn.Sequential:
    """``Flatten → [Linear → activation → Dropout] × len(hidden_sizes) → Linear(num_classes)``; each ``Linear`` a
    :class:`ptref.nn.Dense` (computed by oneDNN on CPU, as TensorFlow's ``Dense``)."""
    activation_layer = activation_class(activation)
    layers: list[nn.Module] = [nn.Flatten()]
    width = in_features
    for size in hidden_sizes:
        layers += [Dense(width, size), activation_layer()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        width = size
    layers.append(Dense(width, num_classes))
    return nn.Sequential(*layers)
