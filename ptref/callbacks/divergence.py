"""Stop a diverging run at the first non-finite loss, before any checkpoint of it is written."""

from __future__ import annotations

import math
from typing import Any

import lightning.pytorch as pl
import torch


def finite(loss: torch.Tensor) -> bool:
    """Whether every element of ``loss`` is finite; a one-element loss (the usual) is read as one Python float,
    one small copy, where ``isfinite(loss).all()`` runs two ops and then reads their result anyway."""
    if loss.numel() == 1 and not loss.is_complex():
        return math.isfinite(loss.item())
    return bool(torch.isfinite(loss).all())


class TrainingDiverged(RuntimeError):
    """The training loss became NaN or infinite."""


class DivergenceGuard(pl.Callback):
    """Raises :class:`TrainingDiverged` naming the step when the training loss is not finite.

    Raising (rather than ``trainer.should_stop``) matters: a stopped run still saves its end-of-epoch
    checkpoint, which would overwrite the last good ``last.ckpt`` with NaN weights.
    """

    def __init__(self) -> None:
        self.step = 0

    def on_train_batch_start(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any, batch_idx: int
    ) -> None:
        self.step = trainer.global_step  # the 0-based step this batch's loss belongs to

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        loss = outputs["loss"] if isinstance(outputs, dict) else outputs
        if isinstance(loss, torch.Tensor) and not finite(loss):
            lr = ", ".join(str(group.get("lr", "?")) for opt in trainer.optimizers for group in opt.param_groups)
            raise TrainingDiverged(
                f"the training loss became {loss.item()} at step {self.step} "
                f"(epoch {trainer.current_epoch}, batch {batch_idx}) with learning rate {lr}. "
                "Lower the learning rate (e.g. --model.learning_rate or --optimizer.lr) or clip gradients "
                "(--trainer.gradient_clip_val 1.0). The checkpoints written before this step are untouched."
            )
