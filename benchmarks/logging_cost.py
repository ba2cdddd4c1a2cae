"""What the classifier's per-step logging costs through Lightning: the same model and ``Trainer``, only
``training_step``'s logging differs, interleaved.

From the repository root: ``OMP_WAIT_POLICY=PASSIVE PYTHONPATH=. python benchmarks/logging_cost.py softmax``.

Variants: ``metrics every step`` logs ``train_loss``/``train_acc`` (a torchmetrics ``Accuracy`` called every step)
with ``on_step=True, on_epoch=True``; ``epoch metrics once`` logs the step values ``on_step=True, on_epoch=False``
and two ``MeanMetric`` objects (updated every step) once an epoch with ``on_epoch=True``; ``ptref`` is the
classifier as it is (:class:`ptref.models.classifier.ImageClassifier`); ``no training logs`` is the floor.
Every run: a ``Trainer`` with a CSV logger (every 50 steps), no checkpoints, progress bar or validation. Printed:
ms per step (median over rounds of each run's median epoch after the first) and the ratio to ``ptref`` within
each round (median).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import statistics
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path

import lightning.pytorch as pl
import torch
from torchmetrics import Accuracy, MeanMetric

from ptref.callbacks.speed import keep_freed_memory
from ptref.cli import tensorboard_without_tensorflow
from ptref.loggers import CSVLogger
from shared_data import shared_dataset
from bench import EpochTimer
from step_overhead import build


def metrics_every_step(model: pl.LightningModule, batch: list[torch.Tensor]) -> torch.Tensor:
    loss, logits, target = model._forward_and_loss(batch)
    model.step_accuracy(logits.detach(), target)
    model.log("train_loss", loss, on_step=True, on_epoch=True, prog_bar=True, batch_size=len(target),
              sync_dist=True)
    model.log("train_acc", model.step_accuracy, on_step=True, on_epoch=True, prog_bar=True, batch_size=len(target))
    return loss


def epoch_metrics_once(model: pl.LightningModule, batch: list[torch.Tensor]) -> torch.Tensor:
    loss, logits, target = model._forward_and_loss(batch)
    accuracy = (logits.detach().argmax(dim=1) == target).float().mean()
    model.epoch_loss.update(loss.detach(), len(target))
    model.epoch_accuracy.update(accuracy, len(target))
    model.log("train_loss_step", loss, prog_bar=True, on_step=True, on_epoch=False)
    model.log("train_acc_step", accuracy, prog_bar=True, on_step=True, on_epoch=False)
    if model.first_step_of_epoch:
        model.first_step_of_epoch = False
        model.log("train_loss_epoch", model.epoch_loss, prog_bar=True, on_step=False, on_epoch=True)
        model.log("train_acc_epoch", model.epoch_accuracy, prog_bar=True, on_step=False, on_epoch=True)
    return loss


def tensor_sums(model: pl.LightningModule, batch: list[torch.Tensor]) -> torch.Tensor:
    loss, logits, target = model._forward_and_loss(batch)
    n = len(target)
    correct = (logits.detach().argmax(dim=1) == target).sum()
    if model.first_step_of_epoch:
        model.first_step_of_epoch = False
        model.sums = torch.zeros(3)
    model.sums += torch.stack((loss.detach() * n, correct, torch.tensor(n)))
    model.log("train_loss_step", loss, prog_bar=True, on_step=True, on_epoch=False)
    model.log("train_acc_step", correct / n, prog_bar=True, on_step=True, on_epoch=False)
    if model.trainer.is_last_batch:
        loss_sum, correct_sum, count = model.sums
        model.log("train_loss_epoch", loss_sum / count, prog_bar=True, on_step=False, on_epoch=True,
                  batch_size=int(count), sync_dist=True)
        model.log("train_acc_epoch", correct_sum / count, prog_bar=True, on_step=False, on_epoch=True,
                  batch_size=int(count), sync_dist=True)
    return loss


def step_values_only(model: pl.LightningModule, batch: list[torch.Tensor]) -> torch.Tensor:
    loss, logits, target = model._forward_and_loss(batch)
    model.log("train_loss_step", loss, prog_bar=True, on_step=True, on_epoch=False)
    return loss


def sums_no_logs(model: pl.LightningModule, batch: list[torch.Tensor]) -> torch.Tensor:
    loss, logits, target = model._forward_and_loss(batch)
    n = len(target)
    correct = (logits.detach().argmax(dim=1) == target).sum()
    if model.first_step_of_epoch:
        model.first_step_of_epoch = False
        model.sums = torch.zeros(3)
    model.sums += torch.stack((loss.detach() * n, correct, torch.tensor(n)))
    return loss


def no_training_logs(model: pl.LightningModule, batch: list[torch.Tensor]) -> torch.Tensor:
    return model._forward_and_loss(batch)[0]


VARIANTS = {"metrics every step": metrics_every_step, "epoch metrics once": epoch_metrics_once, "ptref": None,
            "tensor sums, epoch values on the last batch": tensor_sums, "one step value only": step_values_only,
            "tensor sums, no logs": sums_no_logs, "no training logs": no_training_logs}


def variant(model: pl.LightningModule, step) -> pl.LightningModule:
    """``model`` with ``training_step`` replaced by ``step`` (``None``: as it is)."""
    if step is None:
        return model
    model.step_accuracy = Accuracy(task="multiclass", num_classes=10, validate_args=False)
    model.epoch_loss, model.epoch_accuracy = MeanMetric(), MeanMetric()
    model.training_step = lambda batch, batch_idx: step(model, batch)

    def on_train_epoch_start() -> None:
        model.first_step_of_epoch = True

    model.on_train_epoch_start = on_train_epoch_start
    return model


def fit(model: pl.LightningModule, data: pl.LightningDataModule, epochs: int, root: Path) -> list[float]:
    timer = EpochTimer()
    trainer = pl.Trainer(accelerator="cpu", max_epochs=epochs, logger=CSVLogger(root, name="", version=0),
                         callbacks=[timer], enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, limit_val_batches=0, num_sanity_val_steps=0,
                         default_root_dir=root)
    with contextlib.redirect_stdout(io.StringIO()):
        trainer.fit(model, data)
    return timer.epochs


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks/logging_cost.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workflow", choices=("softmax", "mlp", "cnn"))
    parser.add_argument("--mnist", default=str(shared_dataset("mnist-t10k")))
    parser.add_argument("--n", type=int, default=6000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    tensorboard_without_tensorflow()
    keep_freed_memory()
    steps = -(-args.n // 128)
    ms: dict[str, list[float]] = {name: [] for name in VARIANTS}
    with tempfile.TemporaryDirectory() as scratch:
        for round_ in range(args.rounds):
            names = list(VARIANTS)[round_ % len(VARIANTS):] + list(VARIANTS)[:round_ % len(VARIANTS)]
            for name in names:
                model, data = build(args.workflow, args.mnist, args.n)
                epochs = fit(variant(model, VARIANTS[name]), data, args.epochs, Path(scratch) / f"{round_}_{name}")
                ms[name].append(1e3 * statistics.median(epochs[1:]) / steps)
    print(f"| {args.workflow}: logging | ms per step | / ptref |\n|---|---|---|")
    for name in VARIANTS:
        ratio = statistics.median(a / b for a, b in zip(ms[name], ms["ptref"]))
        print(f"| {name} | {statistics.median(ms[name]):.3f} | {ratio:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
