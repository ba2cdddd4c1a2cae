"""What many of ptref's tests share: paths, the quiet flags, and a CLI fit read back from its run folder."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import torch

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
