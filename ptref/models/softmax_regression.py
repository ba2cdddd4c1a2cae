"""Softmax regression: one Dense layer from the 784 pixels to 10 logits (7,850 parameters).

TensorFlow original (TF1, "MNIST for ML beginners")::

    W = tf.Variable(tf.zeros([784, 10])); b = tf.Variable(tf.zeros([10]))
    y = tf.nn.softmax(tf.matmul(x, W) + b)
    cross_entropy = tf.reduce_mean(-tf.reduce_sum(y_ * tf.log(y), axis=1))

Keras: ``Sequential([Dense(10, activation="softmax", input_shape=(784,))])``.
PyTorch twin: ``nn.Linear(784, 10)`` and ``F.cross_entropy`` on its logits — an :class:`~ptref.models.MLP`
without hidden layers.
"""

from __future__ import annotations

import torch
from torch import nn

from ptref.models.classifier import ImageClassifier, Init
from ptref.models.mlp import dense_stack


class SoftmaxRegression(ImageClassifier):
    """``p(class | x) = softmax(W·x + b)``, ``W`` of shape ``[num_classes, in_features]``.

    Args:
        in_features: inputs per image (28·28).
        num_classes, init, learning_rate: see :class:`~ptref.models.classifier.ImageClassifier`.
    """

    def __init__(
        self,
        in_features: int = 784,
        num_classes: int = 10,
        init: Init = "torch",
        learning_rate: float = 1e-3,
    ) -> None:
        super().__init__(num_classes=num_classes, init=init, learning_rate=learning_rate)
        self.example_input_array = torch.zeros(1, in_features)  # lets the model summary show layer shapes

    def build_network(self) -> nn.Module:
        return dense_stack(self.hparams.in_features, [], self.hparams.num_classes)
