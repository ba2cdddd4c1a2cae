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

    Logs, all through ``self.log``: ``train_loss_step``/``train_acc_step`` every step (the batch's mean loss
    ``ℓ_b`` and accuracy ``k_b / n_b``, ``k_b`` the batch's correct predictions of ``n_b``), and once an epoch
    ``train_loss_epoch = Σ_b n_b·ℓ_b / Σ_b n_b`` and ``train_acc_epoch = Σ_b k_b / Σ_b n_b`` (the
    batch-size-weighted means, what Keras's ``history["loss"]``/``["accuracy"]`` hold; under DDP the sums run
    over every rank's batches), ``val_*`` and ``test_*`` per epoch (torchmetrics' micro accuracy, Keras's
    ``CategoricalAccuracy``). The epoch sums are three plain tensors added to every step and logged on the
    epoch's last step: each ``self.log`` call costs Lightning a walk over its result's state, so a step makes
    two calls (its own values, ``on_epoch=False``) rather than the two per-step-and-epoch calls plus a metric's
    forward that Lightning's ``on_step=True, on_epoch=True`` would need. Logged from ``training_step``, the epoch
    values are ready before any ``on_train_epoch_end`` hook runs (figures, progress bar).

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
        self.epoch_sums = torch.zeros(3)  # Σ n_b·ℓ_b, Σ k_b, Σ n_b of the epoch so far

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
        n = len(target)
        correct = (logits.detach().argmax(dim=1) == target).sum()
        self.epoch_sums += torch.stack((loss.detach() * n, correct, torch.tensor(n, device=correct.device)))
        # sync_dist: the step loss shown is the mean over DDP ranks (a no-op on one process).
        self.log("train_loss_step", loss, on_step=True, on_epoch=False, prog_bar=True, sync_dist=True)
        self.log("train_acc_step", correct / n, on_step=True, on_epoch=False, prog_bar=True)
        if self._last_step_of_epoch():
            loss_sum, correct_sum, count = self.epoch_sums
            # Lightning's epoch mean of one value v logged with batch_size c, synced: Σ_r v_r·c_r / Σ_r c_r.
            for name, value in (("train_loss_epoch", loss_sum / count), ("train_acc_epoch", correct_sum / count)):
                self.log(name, value, on_step=False, on_epoch=True, prog_bar=True, batch_size=int(count),
                         sync_dist=True)
        return loss

    def _last_step_of_epoch(self) -> bool:
        """Whether this training step ends the epoch: its last batch, or the run's last step (``max_steps``)."""
        trainer = self._trainer  # None when a test calls training_step alone; self.log then only warns
        return trainer is not None and (trainer.is_last_batch or trainer.global_step + 1 == trainer.max_steps)

    def on_train_epoch_start(self) -> None:
        self.epoch_sums = torch.zeros(3, device=self.device)

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
