"""What every MNIST classifier shares: logits out, cross-entropy, accuracy, logging, prediction, optimizer.

TensorFlow course original (Keras)::

    model.add(Dense(10, activation="softmax"))
    model.compile(loss="categorical_crossentropy", optimizer=Adam(), metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=128, epochs=5, validation_data=(x_test, y_test))
    model.predict(image)   # probabilities; argmax is the digit

PyTorch twin: the network ends in a plain ``Linear`` (logits, no softmax), and the loss is
``F.cross_entropy(logits, y)`` = −Σ y·log softmax(logits). That *is* what Keras computes: in the
TensorFlow backend ``categorical_crossentropy`` sees through the softmax layer and uses its logits
(``docs/keras-numerics.md``, Losses, "Hidden logits"), so no clipping at 1e-7 is involved.
``y`` may be class indices or one-hot rows. Softmax is applied only where probabilities are wanted
(:meth:`ImageClassifier.predict_step`).
"""

from __future__ import annotations

from typing import Literal

import lightning.pytorch as pl
import torch
from lightning.pytorch.utilities import rank_zero_info
from torch import nn
from torch.nn import functional as F
from torchmetrics import Accuracy

from ptref.nn import keras_init_
from ptref.optim import Adam

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
    "elu": nn.ELU,
    "gelu": nn.GELU,
}
Init = Literal["torch", "keras"]


def activation_class(name: str) -> type[nn.Module]:
    """The ``nn.Module`` of a Keras activation name (``"relu"`` → ``nn.ReLU``)."""
    if name not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {name!r}")
    return ACTIVATIONS[name]


def resolve_preset(value: str | list, presets: dict[str, list], what: str) -> list:
    """``value`` itself when it is a list, else the preset it names (an error lists the presets)."""
    if not isinstance(value, str):
        return value
    if value not in presets:
        raise ValueError(f"unknown {what} preset {value!r}; presets: {sorted(presets)}, or a list")
    return presets[value]


class ImageClassifier(pl.LightningModule):
    """Base of :class:`SoftmaxRegression`, :class:`MLP` and :class:`CNN`: a subclass only builds ``net``.

    Logs ``train_loss``/``train_acc`` per step and per epoch, ``val_*`` and ``test_*`` per epoch
    (accuracy is torchmetrics' micro accuracy, Keras's ``CategoricalAccuracy``). The epoch loss is the
    batch-size-weighted mean of the step losses, which is what Keras's ``history["loss"]`` holds.

    Args:
        num_classes: outputs of the last layer.
        init: ``"torch"`` (PyTorch's default initializers) or ``"keras"`` (glorot_uniform kernels,
            zero biases, as Keras's Dense/Conv2D; :func:`ptref.nn.keras_init_`).
        learning_rate: of the default optimizer, Keras's Adam (:class:`ptref.optim.Adam`; ``--optimizer`` on
            the CLI replaces it, e.g. ``--optimizer ptref.optim.SGD --optimizer.learning_rate 0.01``).
    """

    def __init__(
        self, num_classes: int = 10, init: Init = "torch", learning_rate: float = 1e-3
    ) -> None:
        super().__init__()
        if init not in ("torch", "keras"):
            raise ValueError(f"init must be 'torch' or 'keras', got {init!r}")
        self.save_hyperparameters()  # also records the subclass's own arguments
        self.net = self.build_network()
        if init == "keras":
            keras_init_(self.net)
        accuracy = Accuracy(task="multiclass", num_classes=num_classes)
        self.val_acc, self.test_acc = accuracy.clone(), accuracy.clone()
        # No input checks on the training accuracy: they would make a GPU wait every step.
        self.train_acc = Accuracy(task="multiclass", num_classes=num_classes, validate_args=False)

    def build_network(self) -> nn.Module:
        """The layers from input to logits, built from ``self.hparams``."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Images ``[B, 1, 28, 28]`` (or ``[B, 784]`` where the network flattens) → logits ``[B, classes]``."""
        return self.net(x)

    def _forward_and_loss(self, batch: list[torch.Tensor]) -> tuple[torch.Tensor, ...]:
        """``(loss, logits, target)`` of a batch; ``target`` holds class indices (one-hot rows → argmax)."""
        x, y = batch
        logits = self(x)
        target = y.argmax(dim=1) if y.ndim == 2 else y
        return F.cross_entropy(logits, y), logits, target

    def _evaluate(self, batch: list[torch.Tensor], stage: str, accuracy: Accuracy) -> tuple[torch.Tensor, ...]:
        loss, logits, target = self._forward_and_loss(batch)
        accuracy(logits, target)
        self.log(f"{stage}_loss", loss, on_epoch=True, prog_bar=True, batch_size=len(target), sync_dist=True)
        self.log(f"{stage}_acc", accuracy, on_epoch=True, prog_bar=True, batch_size=len(target))
        return loss, logits, target

    def training_step(self, batch: list[torch.Tensor], batch_idx: int) -> torch.Tensor:
        loss, logits, target = self._forward_and_loss(batch)
        self.train_acc(logits.detach(), target)  # this batch's accuracy, and accumulated for the epoch's
        # Logged here with on_epoch=True, the epoch values are ready before any on_train_epoch_end hook runs (the
        # figures and the progress bar show the epoch's own values). sync_dist: the mean over DDP ranks.
        self.log("train_loss", loss, on_step=True, on_epoch=True, prog_bar=True, batch_size=len(target),
                 sync_dist=True)
        self.log("train_acc", self.train_acc, on_step=True, on_epoch=True, prog_bar=True, batch_size=len(target))
        return loss

    def validation_step(self, batch: list[torch.Tensor], batch_idx: int) -> None:
        self._evaluate(batch, "val", self.val_acc)

    def test_step(self, batch: list[torch.Tensor], batch_idx: int) -> dict[str, torch.Tensor]:
        """Also returns predictions and targets, for the confusion matrix and misclassified digits."""
        _, logits, target = self._evaluate(batch, "test", self.test_acc)
        return {"prediction": logits.argmax(dim=1), "target": target}

    def predict_step(self, batch: list[torch.Tensor], batch_idx: int) -> dict[str, torch.Tensor]:
        """``(images, ids)`` → the predicted class, its softmax probability, and the ids passed through."""
        images, ids = batch
        probabilities = F.softmax(self(images), dim=1)
        probability, label = probabilities.max(dim=1)
        return {"label": label, "probability": probability, "probabilities": probabilities, "id": ids}

    def configure_optimizers(self) -> torch.optim.Optimizer:
        # Keras's Adam (epsilon 1e-7 outside the bias correction), as the course's optimizer=Adam().
        return Adam(self.parameters(), learning_rate=self.hparams.learning_rate)

    def on_fit_start(self) -> None:
        # Lightning's summary rounds ("1.2 M"); Keras's model.summary() prints the exact count.
        total = sum(parameter.numel() for parameter in self.parameters())
        rank_zero_info(f"{type(self).__name__}: {total:,} parameters")
