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
from torchmetrics import Accuracy, MeanMetric

from ptref.callbacks.classifier import ClassifierFigures, PredictionPrinter
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
        # The training epoch's mean loss and accuracy. No input checks on the accuracy (they would make a GPU
        # wait every step). The loss mean skips NaN quietly: DivergenceGuard stops the run on it with a
        # message. (nan_strategy="disable" would avoid the check, but torchmetrics 1.9 then drops the weights.)
        self.train_acc = Accuracy(task="multiclass", num_classes=num_classes, validate_args=False)
        self.train_loss = MeanMetric(nan_strategy="ignore")
        self._epoch_metrics_logged = False  # per epoch; also False when a run resumes in mid-epoch

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
        # Each `self.log` call walks Lightning's whole result state, which costs a sizeable share of a small
        # model's step. So the epoch values accumulate in torchmetrics objects, and the step values are logged
        # only on the steps Lightning writes to the loggers (every `log_every_n_steps`); on other steps they
        # would only have reached the progress bar. metrics.csv is the same as with per-step logging (tests/test_mnist_models.py).
        self.train_loss.update(loss.detach(), len(target))
        if self._logged_step():
            accuracy = self.train_acc(logits.detach(), target)  # this batch's accuracy; also accumulates
            self.log_dict({"train_loss_step": loss, "train_acc_step": accuracy}, prog_bar=True,
                          batch_size=len(target), sync_dist=True)  # sync_dist: the mean over DDP ranks
        else:
            self.train_acc.update(logits.detach(), target)
        if not self._epoch_metrics_logged:
            # Logging a metric object once an epoch is enough: Lightning computes it (synced over DDP ranks)
            # as soon as the epoch's batches are done, so every `on_train_epoch_end` hook (the figures, the
            # progress bar) sees this epoch's values, and resets it for the next epoch.
            self.log_dict({"train_loss_epoch": self.train_loss, "train_acc_epoch": self.train_acc},
                          on_step=False, on_epoch=True, prog_bar=True)
            self._epoch_metrics_logged = True
        return loss

    def _logged_step(self) -> bool:
        """Whether Lightning writes this training step's logged values to the loggers."""
        try:
            trainer = self.trainer
        except RuntimeError:  # called outside a Trainer (a notebook, a test): nothing is logged anyway
            return False
        every = trainer.log_every_n_steps
        return bool(every) and ((self.global_step + 1) % every == 0 or trainer.should_stop)

    def on_train_epoch_start(self) -> None:
        self._epoch_metrics_logged = False

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

    def configure_callbacks(self) -> list[pl.Callback]:
        return [ClassifierFigures(), PredictionPrinter()]

    def on_fit_start(self) -> None:
        # Lightning's summary rounds ("1.2 M"); Keras's model.summary() prints the exact count.
        total = sum(parameter.numel() for parameter in self.parameters())
        rank_zero_info(f"{type(self).__name__}: {total:,} parameters")
