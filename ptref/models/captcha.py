"""The course's captcha reader: a CNN with one softmax head per character.

TensorFlow course original (Keras Functional API, 1,292,744 parameters)::

    inputs = Input(shape=(60, 160, 1))
    x = Conv2D(32, (3, 3), activation="relu")(inputs)
    x = Conv2D(32, (3, 3), activation="relu")(x)
    x = MaxPooling2D(pool_size=(2, 2), padding="same")(x)
    x = Conv2D(64, (3, 3), activation="relu")(x)
    x = MaxPooling2D(pool_size=(2, 2), padding="same")(x)
    x = Flatten()(x)
    x = Dropout(0.25)(x)
    x = [Dense(10, activation="softmax", name=f"c{i + 1}")(x) for i in range(4)]
    outputs = Concatenate()(x)                              # the 40-vector
    model = Model(inputs, outputs)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])

PyTorch twin: the same layers on ``[B, 1, 60, 160]``; 'same' pooling is :class:`ptref.nn.MaxPool2dSame`, and the
Flatten is :class:`ptref.nn.FlattenChannelsLast` (Keras's ``(h, w, c)`` order, so Keras's Dense kernels map by a
transpose). ``forward`` returns the heads' logits ``[B, length, num_chars]``; softmax is applied in the loss that
needs it.

With that compile (in the course's tf.keras 2), ``"accuracy"`` is Keras's *binary* accuracy on the 40-vector (each
element > 0.5 vs the one-hot target): a model that predicts no character at all gets 36 of 40 elements right, 0.9.
So this model logs three accuracies: ``binary_acc`` (that one), ``char_acc`` (characters read right) and
``captcha_acc`` (all of them).
"""

from __future__ import annotations

from typing import Any, Literal

import lightning.pytorch as pl
import torch
from lightning.pytorch.utilities import rank_zero_info
from torch import nn
from torch.nn import functional as F
from torchmetrics.classification import BinaryAccuracy, MulticlassAccuracy, MulticlassExactMatch

from ptref import losses
from ptref.data.captcha import DIGITS, decode, one_hot
from ptref.models.classifier import Init
from ptref.nn import FlattenChannelsLast, MaxPool2dSame, keras_init_
from ptref.optim import Adam

Loss = Literal["binary_crossentropy", "mean_squared_error", "poisson", "per_head_cross_entropy"]
KERAS_LOSSES = ("binary_crossentropy", "mean_squared_error", "poisson")  # on the concatenated softmax 40-vector
STAGES = ("train", "val", "test")


class CaptchaCNN(pl.LightningModule):
    """The course's captcha CNN, trained with the course's loss or the per-head cross-entropy.

    Losses (``loss``):

    - ``binary_crossentropy`` (the course): p = concat_i softmax(z_i), the 40-vector, y its one-hot target;
      mean over the 40 elements of −[y log p̂ + (1 − y) log(1 − p̂)], p̂ = clip(p, 1e-7, 1 − 1e-7), then mean
      over the batch (Keras's ``binary_crossentropy`` on probabilities: :func:`ptref.losses.binary_crossentropy`).
    - ``mean_squared_error``, ``poisson``: Keras's losses on the same 40-vector (the chapter's comparison grid):
      mean (y − p)², mean (p − y log(p + 1e-7)).
    - ``per_head_cross_entropy`` (what a PyTorch user writes): Σ_i F.cross_entropy(z_i, target_i) over the
      ``length`` heads, each the batch mean of −log softmax(z_i)[target_i] on logits: a *sum* over heads, as
      Keras sums the losses of a model with several outputs.

    Args:
        charset, length: the characters and captcha length (``num_chars = len(charset)`` outputs per head);
            must match the data module's.
        width, height: input image size.
        loss: see above.
        dropout: rate of the Dropout after Flatten (the course: 0.25).
        init: ``"keras"`` (glorot_uniform kernels, zero biases: the course's defaults) or ``"torch"``.
        learning_rate: of the default optimizer, Keras's Adam (``--optimizer`` on the CLI replaces it).
    """

    def __init__(
        self,
        charset: str = DIGITS,
        length: int = 4,
        width: int = 160,
        height: int = 60,
        loss: Loss = "binary_crossentropy",
        dropout: float = 0.25,
        init: Init = "keras",
        learning_rate: float = 1e-3,
    ) -> None:
        super().__init__()
        if loss not in (*KERAS_LOSSES, "per_head_cross_entropy"):
            raise ValueError(f"--model.loss must be one of {[*KERAS_LOSSES, 'per_head_cross_entropy']}, got {loss!r}")
        if init not in ("torch", "keras"):
            raise ValueError(f"--model.init must be 'torch' or 'keras', got {init!r}")
        self.save_hyperparameters()
        self.num_chars = len(charset)
        self.conv1 = nn.Conv2d(1, 32, 3)
        self.conv2 = nn.Conv2d(32, 32, 3)
        self.pool1 = MaxPool2dSame(2)
        self.conv3 = nn.Conv2d(32, 64, 3)
        self.pool2 = MaxPool2dSame(2)
        self.flatten = FlattenChannelsLast()
        self.dropout = nn.Dropout(dropout)
        features = 64 * (((height - 4 + 1) // 2 - 2 + 1) // 2) * (((width - 4 + 1) // 2 - 2 + 1) // 2)  # ceil halves
        self.heads = nn.ModuleList(nn.Linear(features, self.num_chars) for _ in range(length))
        if init == "keras":
            keras_init_(self)
        self.example_input_array = torch.zeros(1, 1, height, width)
        for stage in STAGES:
            setattr(self, f"{stage}_metrics", nn.ModuleDict({
                "char_acc": MulticlassAccuracy(self.num_chars, average="micro", multidim_average="global"),
                "captcha_acc": MulticlassExactMatch(self.num_chars),
                "binary_acc": BinaryAccuracy(threshold=0.5),  # Keras: y_pred > 0.5, per element of the 40-vector
            }))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Images ``[B, 1, H, W]`` → per-head logits ``[B, length, num_chars]``."""
        x = self.pool1(F.relu(self.conv2(F.relu(self.conv1(x)))))
        x = self.pool2(F.relu(self.conv3(x)))
        x = self.dropout(self.flatten(x))
        return torch.stack([head(x) for head in self.heads], dim=1)

    def loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The training loss of logits ``[B, length, num_chars]`` against character indices ``[B, length]``."""
        if self.hparams.loss == "per_head_cross_entropy":
            return F.cross_entropy(logits.transpose(1, 2), target, reduction="sum") / len(target)
        probabilities = F.softmax(logits, dim=-1).flatten(1)  # Concatenate of the softmax heads
        return losses.get(self.hparams.loss)(one_hot(target, self.num_chars), probabilities).mean()

    def _step(self, batch: list[torch.Tensor], stage: str) -> torch.Tensor:
        images, target = batch
        logits = self(images)
        loss = self.loss(logits, target)
        metrics = self.update_metrics(stage, logits.detach(), target)
        on_step = stage == "train"
        self.log(f"{stage}_loss", loss, on_step=on_step, on_epoch=True, prog_bar=True, batch_size=len(target))
        self.log_dict({f"{stage}_{name}": metric for name, metric in metrics.items()}, on_step=False, on_epoch=True,
                      prog_bar=stage != "train")
        return loss

    def update_metrics(self, stage: str, logits: torch.Tensor, target: torch.Tensor) -> nn.ModuleDict:
        """Add a batch to ``stage``'s three accuracies (logits ``[B, length, num_chars]``, indices ``[B, length]``)."""
        metrics = getattr(self, f"{stage}_metrics")
        metrics["char_acc"].update(logits.transpose(1, 2), target)
        metrics["captcha_acc"].update(logits.transpose(1, 2), target)
        metrics["binary_acc"].update(F.softmax(logits, dim=-1).flatten(1), one_hot(target, self.num_chars).long())
        return metrics

    def training_step(self, batch: list[torch.Tensor], batch_idx: int) -> torch.Tensor:
        return self._step(batch, "train")

    def validation_step(self, batch: list[torch.Tensor], batch_idx: int) -> None:
        self._step(batch, "val")

    def test_step(self, batch: list[torch.Tensor], batch_idx: int) -> None:
        self._step(batch, "test")

    def predict_step(self, batch: list[torch.Tensor], batch_idx: int) -> dict[str, Any]:
        """``(images, ids)`` → per head (character): ``label`` (the argmax index) ``[B, length]``, its softmax
        ``probability`` ``[B, length]`` and all ``probabilities`` ``[B, length, num_chars]`` (the served
        contract: :mod:`ptref.serve`), the read ``text`` (the labels' characters joined), and the ids passed
        through."""
        images, ids = batch
        probabilities = F.softmax(self(images), dim=-1)
        probability, label = probabilities.max(dim=-1)
        return {"label": label, "probability": probability, "probabilities": probabilities,
                "text": decode(label, self.hparams.charset), "id": ids}

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return Adam(self.parameters(), learning_rate=self.hparams.learning_rate)  # Keras's Adam: optimizer="adam"

    def setup(self, stage: str) -> None:
        datamodule = getattr(self.trainer, "datamodule", None)
        for name in ("charset", "length", "width", "height"):
            theirs = getattr(getattr(datamodule, "hparams", None), name, None)
            if theirs is not None and theirs != self.hparams[name]:
                raise ValueError(f"--model.{name} {self.hparams[name]!r} differs from --data.{name} {theirs!r}")

    def on_fit_start(self) -> None:
        total = sum(parameter.numel() for parameter in self.parameters())
        rank_zero_info(f"{type(self).__name__}: {total:,} parameters")  # Keras's model.summary() count
