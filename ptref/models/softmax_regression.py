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

from ptref.models.classifier import Init
from ptref.models.mlp import MLP


class SoftmaxRegression(MLP):
    """``p(class | x) = softmax(W·x + b)``, ``W`` of shape ``[num_classes, in_features]``.

    Args:
        in_features, num_classes, init, learning_rate: see :class:`~ptref.models.MLP`.
    """

    def __init__(
        self,
        in_features: int = 784,
        num_classes: int = 10,
        init: Init = "torch",
        learning_rate: float = 1e-3,
    ) -> None:
        super().__init__(
            hidden_sizes=[], in_features=in_features, num_classes=num_classes, init=init, learning_rate=learning_rate
        )
