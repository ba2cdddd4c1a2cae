"""A LightningModule whose logged metrics follow a script, to drive monitoring callbacks epoch by epoch.

Keras's callbacks are tested by calling ``on_epoch_end(epoch, logs)`` with chosen ``logs``; this is the Lightning
side of that: epoch ``e`` logs ``values[name][e]`` for every name (``val_*`` from ``validation_step``, the others
from ``training_step``), and its one weight ``w`` equals ``e + 1`` at the end of epoch ``e`` (so a restored weight
names the epoch it came from). Every epoch is one training batch of ``batches`` steps' worth of data.
"""

from __future__ import annotations

from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import torch
from lightning.pytorch.callbacks import Checkpoint
from torch.utils.data import DataLoader, TensorDataset


def float32_values(values: list[float]) -> list[float]:
    """The values as Lightning logs them (float32), back as Python floats, for feeding Keras the same numbers."""
    return [float(v) for v in np.asarray(values, dtype=np.float32)]


class ScriptedLogs(pl.LightningModule):
    """Logs ``values[name][current_epoch]``; ``batch_losses`` (optional) is the training loss of each step."""

    def __init__(self, values: dict[str, list[float]], lr: float = 0.01, batches: int = 1,
                 batch_losses: list[float] | None = None) -> None:
        super().__init__()
        self.values, self.lr, self.batches, self.batch_losses = values, lr, batches, batch_losses
        self.w = torch.nn.Parameter(torch.zeros(1))

    def training_step(self, batch: list[torch.Tensor], batch_idx: int) -> torch.Tensor:
        with torch.no_grad():
            self.w.fill_(self.current_epoch + 1)
        for name, series in self.values.items():
            if not name.startswith("val_"):
                self.log(name, series[self.current_epoch], on_step=False, on_epoch=True)
        scripted = self.batch_losses[self.global_step] if self.batch_losses else 0.0
        return (self.w * 0.0).sum() + scripted  # zero gradient: w stays e + 1 through the step

    def validation_step(self, batch: list[torch.Tensor], batch_idx: int) -> None:
        for name, series in self.values.items():
            if name.startswith("val_"):
                self.log(name, series[self.current_epoch])

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=self.lr)

    def train_dataloader(self) -> DataLoader:
        return DataLoader(TensorDataset(torch.zeros(self.batches, 1)), batch_size=1)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(TensorDataset(torch.zeros(1, 1)), batch_size=1)


class LearningRateRecorder(pl.Callback):
    """Records the first param group's ``lr`` at every epoch's end (after the callbacks listed before it)."""

    def __init__(self) -> None:
        self.lrs: list[float] = []

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.lrs.append(trainer.optimizers[0].param_groups[0]["lr"])


def fit(module: ScriptedLogs, callbacks: list[pl.Callback], root: str, epochs: int, ckpt_path: str | Path | None = None,
        **trainer_args) -> pl.Trainer:
    """A quiet CPU ``Trainer`` over ``epochs`` epochs: validation every epoch; no sanity check, logger, own checkpoints.

    ``ckpt_path`` resumes from that checkpoint.
    """
    trainer = pl.Trainer(
        max_epochs=epochs, callbacks=callbacks, default_root_dir=root, accelerator="cpu", logger=False,
        enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0,
        enable_checkpointing=any(isinstance(c, Checkpoint) for c in callbacks), **trainer_args,
    )
    trainer.fit(module, ckpt_path=ckpt_path)
    return trainer
