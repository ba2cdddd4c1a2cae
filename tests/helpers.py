"""What many of ptref's tests share: paths, the quiet flags, a CLI fit read back from its run folder, and the tiny
Lightning fit the speed levers' tests train with and without a lever."""

from __future__ import annotations

import csv
from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from ptref.cli import main
from shared_data import shared_dataset

REPO = Path(__file__).resolve().parents[1]
EXPERIMENTS = REPO / "experiments"
MNIST_T10K = str(shared_dataset("mnist-t10k"))  # a missing folder fails the test that reads it, naming it

# CLI flags: no progress bar and no model summary in the test log.
QUIET = ["--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false"]
# The same for a Trainer built in Python, which also writes nothing.
QUIET_TRAINER = dict(logger=False, enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False)

# A few steps with plain SGD, for comparing devices step by step: Adam's m/sqrt(v) turns an ulp of difference in
# a gradient that is ~0 (a cancellation) into a step of ±lr, so Adam runs cannot be compared weight for weight;
# SGD keeps every difference at round-off size and so checks each op (conv, pool, linear, cross-entropy, backward).
FEW_SGD_STEPS = ["--trainer.max_epochs", "2", "--trainer.limit_train_batches", "3", "--trainer.limit_val_batches", "1",
                 "--trainer.log_every_n_steps", "1", "--data.data_dir", MNIST_T10K,
                 "--optimizer", "torch.optim.SGD", "--optimizer.lr", "0.1"]


def experiment(name: str) -> str:
    """The path of ``experiments/<name>`` as a command-line argument."""
    return str(EXPERIMENTS / name)


def read_metrics(run: Path) -> dict[str, np.ndarray]:
    """Every column of ``run/metrics.csv`` as floats, NaN where a row has no value."""
    with (run / "metrics.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    return {key: np.array([float(row[key]) if row[key] else np.nan for row in rows]) for key in rows[0]}


def fit_and_read(out: Path, config: str, *flags: str) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """``ptref fit --config experiments/<config>`` into ``out``: its metrics and its last floating-point weights."""
    assert main(["fit", "--config", experiment(config), "--trainer.default_root_dir", str(out), *QUIET, *flags]) is None
    run = out / "version_0"
    state = torch.load(run / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)["state_dict"]
    return read_metrics(run), {name: value.numpy() for name, value in state.items() if value.is_floating_point()}


class Tiny(pl.LightningModule):
    """A linear layer fitted with SGD, logging a mean per step and per epoch and a sum per epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(3, 1)

    def training_step(self, batch: list[torch.Tensor], batch_idx: int) -> torch.Tensor:
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.layer(x), y)
        self.log("loss", loss, on_step=True, on_epoch=True, batch_size=len(x))
        self.log("sum", x.sum(), on_step=False, on_epoch=True, reduce_fx="sum", batch_size=len(x))
        return loss

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.1)


class Failing(Tiny):
    """:class:`Tiny` whose first step logs, then raises ``RuntimeError("a failing step")``."""

    def training_step(self, batch: list[torch.Tensor], batch_idx: int) -> torch.Tensor:
        super().training_step(batch, batch_idx)
        raise RuntimeError("a failing step")


def fit_tiny(callbacks: list[pl.Callback], model: pl.LightningModule | None = None
             ) -> tuple[pl.LightningModule, dict[str, torch.Tensor]]:
    """Two seeded epochs of 4 batches of ``model`` (default :class:`Tiny`): the model and its ``callback_metrics``."""
    torch.manual_seed(0)
    model = model or Tiny()
    data = TensorDataset(torch.randn(32, 3), torch.randn(32, 1))
    trainer = pl.Trainer(max_epochs=2, callbacks=callbacks, **QUIET_TRAINER)
    trainer.fit(model, DataLoader(data, batch_size=8))
    return model, dict(trainer.callback_metrics)
