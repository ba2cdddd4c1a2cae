"""Lightning twins of the Keras callbacks a training script uses, under Keras's names, arguments and defaults.

=====================================  =================================================================
Keras                                   ptref (``trainer.callbacks: - class_path: ptref.callbacks.keras.X``)
=====================================  =================================================================
``ReduceLROnPlateau``                   :class:`~ptref.callbacks.plateau.ReduceLROnPlateau` (Keras's rule)
``EarlyStopping``                       :class:`~ptref.callbacks.plateau.EarlyStopping` (Lightning's, Keras's rule)
``LearningRateScheduler(schedule)``     :class:`LearningRateScheduler`: ``lr = schedule(epoch, lr)`` each epoch
``TerminateOnNaN``                      :class:`TerminateOnNaN`: ``trainer.should_stop`` at a NaN/Inf loss
``CSVLogger(filename)``                 :class:`CSVLogger`: Keras's file, one row per epoch
``ModelCheckpoint(filepath)``           :class:`ModelCheckpoint`: Keras's decisions and names, Lightning's files
``SwapEMAWeights(swap_on_epoch)``       :class:`SwapEMAWeights`: evaluate with the optimizer's EMA weights
(``fit`` calls ``finalize_variable_``   :class:`FinalizeEMA` (on by default in ``ptref fit``): weights = EMA at
``values()`` at its end)                the end of training
(``fit`` calls ``scale_loss(loss)``)    :class:`ScaleLoss` (on by default in ``ptref fit``): the loss scale
=====================================  =================================================================

The last three are defined in :mod:`ptref.callbacks.keras_fit` (what ``fit`` does with its optimizer), the first
two in :mod:`ptref.callbacks.plateau`; all are importable from here.

Why not Lightning's own: ``LambdaLR`` multiplies the *initial* rate by ``f(epoch)`` where Keras's schedule returns
the new rate from the current one; Lightning's ``CSVLogger`` is a logger (``metrics.csv``, one row per logging step,
a ``step`` column) where Keras's writes ``epoch`` + the sorted epoch logs; Lightning's ``ModelCheckpoint`` numbers
epochs from 0 (Keras from 1), formats ``{epoch}`` as ``epoch=3`` and deletes the previous best file (Keras keeps
every file whose name differs); Lightning has no NaN stop of the training loss (``EarlyStopping(check_finite)``
looks at the monitored metric once an epoch). Each class below is therefore Keras's logic on Lightning's hooks.
"""

from __future__ import annotations

import csv
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import lightning.pytorch as pl
import numpy as np
import torch
from lightning.pytorch.callbacks import Checkpoint
from lightning.pytorch.utilities import rank_zero_info

from ptref.callbacks.keras_fit import FinalizeEMA, ScaleLoss, SwapEMAWeights
from ptref.callbacks.monitor import (
    current_learning_rate,
    epoch_logs,
    is_improvement,
    learning_rates,
    log_learning_rates,
    resolve_mode,
    set_learning_rate,
)
from ptref.callbacks.plateau import EarlyStopping, ReduceLROnPlateau

__all__ = ["CSVLogger", "EarlyStopping", "FinalizeEMA", "LearningRateScheduler", "ModelCheckpoint",
           "ReduceLROnPlateau", "ScaleLoss", "SwapEMAWeights", "TerminateOnNaN"]


class LearningRateScheduler(pl.Callback):
    """``keras.callbacks.LearningRateScheduler``: at the start of epoch ``e`` (0-based), ``lr = schedule(e, lr)``.

    ``schedule(epoch)`` with one argument also works (Keras's old API). The result must be a float; it is applied
    to every param group of every optimizer (rounded to float32, as Keras's variable) and logged as
    ``learning_rate`` at the epoch's end. In YAML, ``schedule`` is the import path of a function
    (``schedule: my_package.my_module.halve_every_10``). The rate is in the optimizer's state, so a resumed run
    continues from it; a run resumed inside an epoch does not apply that epoch's schedule again (Lightning does
    not call ``on_train_epoch_start`` for an epoch it resumes).
    """

    def __init__(self, schedule: Callable[[int, float], float], verbose: int = 0) -> None:
        self.schedule = schedule
        self.verbose = verbose

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        epoch = trainer.current_epoch
        for optimizer, group in learning_rates(trainer):
            try:
                lr = self.schedule(epoch, current_learning_rate(group))
            except TypeError:  # Keras's fallback for schedule(epoch)
                lr = self.schedule(epoch)
            if not isinstance(lr, (float, np.float32, np.float64)):
                raise ValueError(f"The output of the `schedule` function should be a float. Got: {lr!r}")
            set_learning_rate(optimizer, group, lr, "LearningRateScheduler")
            if self.verbose > 0:
                rank_zero_info(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        log_learning_rates(trainer, pl_module)


class TerminateOnNaN(pl.Callback):
    """``keras.callbacks.TerminateOnNaN``: stop training after the batch whose loss is NaN or infinite.

    ``raise_error=False`` sets ``trainer.should_stop`` (the epoch's end hooks and checkpoints still run, as with
    Keras's ``stop_training``); ``True`` raises ``RuntimeError`` at once. ``ptref fit`` already carries
    :class:`~ptref.callbacks.divergence.DivergenceGuard`, which raises at the same batch and keeps the last good
    checkpoint; this callback is for Keras scripts ported to a plain ``Trainer``.
    """

    def __init__(self, raise_error: bool = False) -> None:
        self.raise_error = raise_error

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        loss = outputs["loss"] if isinstance(outputs, dict) else outputs
        if not isinstance(loss, torch.Tensor) or torch.isfinite(loss).all():
            return
        if self.raise_error:
            raise RuntimeError(
                f"NaN or Inf loss encountered at batch {batch_idx}. Loss value: {loss.item()}. "
                "Terminating training immediately."
            )
        rank_zero_info(f"Batch {batch_idx}: Invalid loss, terminating training")
        trainer.should_stop = True


class CSVLogger(pl.Callback):
    """``keras.callbacks.CSVLogger``: one row per epoch, ``epoch`` (0-based) then the epoch's logs sorted by name.

    The columns are fixed at the first epoch; when none starts with ``val_``, a ``val_<name>`` column is added
    for every name (Keras does, and fills them with ``NA``). ``append=True`` continues an existing file (its
    header is kept), as a resumed run should.
    """

    def __init__(self, filename: str, separator: str = ",", append: bool = False) -> None:
        self.filename = str(filename)
        self.separator = separator
        self.append = append
        self.keys: list[str] | None = None
        self._file: TextIO | None = None
        self._writer: csv.DictWriter | None = None

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.global_rank != 0:
            return
        path = Path(self.filename)
        append_header = not (self.append and path.exists() and path.read_text().strip())
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("a" if self.append else "w", newline="")
        self._append_header, self._writer, self.keys = append_header, None, None

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._file is None:
            return
        logs = epoch_logs(trainer)
        if self.keys is None:
            self.keys = sorted(logs)
            if self.keys and not any(key.startswith("val_") for key in self.keys):
                self.keys += [f"val_{key}" for key in self.keys]
        if self._writer is None:
            dialect = type("KerasDialect", (csv.excel,), {"delimiter": self.separator})
            self._writer = csv.DictWriter(self._file, fieldnames=["epoch", *self.keys], dialect=dialect)
            if self._append_header:
                self._writer.writeheader()
        self._writer.writerow({"epoch": trainer.current_epoch, **{key: logs.get(key, "NA") for key in self.keys}})
        self._file.flush()

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._file is not None:
            self._file.close()
        self._file, self._writer = None, None


class ModelCheckpoint(Checkpoint):
    """``keras.callbacks.ModelCheckpoint``: Keras's decisions and file names; each file is a Lightning checkpoint.

    ``filepath`` is formatted as Keras does, ``filepath.format(epoch=epoch + 1, **logs)`` (``batch=batch + 1`` too
    when ``save_freq`` is a number of batches), e.g. ``ckpt/{epoch:02d}-{val_loss:.2f}.ckpt``. Without
    ``save_best_only`` every epoch (or every ``save_freq`` batches) is saved; with it, only when ``monitor``
    improves strictly on the best so far (which starts at ``initial_value_threshold``), compared in float32.
    Files are never deleted (a fixed name is overwritten). ``save_weights_only`` saves the module's weights
    without optimizer and loop state (``trainer.save_checkpoint(weights_only=True)``).
    """

    def __init__(
        self,
        filepath: str,
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        save_freq: str | int = "epoch",
        initial_value_threshold: float | None = None,
    ) -> None:
        if save_freq != "epoch" and not (isinstance(save_freq, int) and save_freq > 0):
            raise ValueError(f"ModelCheckpoint: save_freq must be 'epoch' or a positive number of batches, "
                             f"got {save_freq!r}")
        self.filepath, self.monitor, self.verbose = str(filepath), monitor, verbose
        self.save_best_only, self.save_weights_only, self.save_freq = save_best_only, save_weights_only, save_freq
        self.mode = resolve_mode(monitor, mode, "ModelCheckpoint") if save_best_only else mode
        self.best = initial_value_threshold
        self._batches_seen_since_last_saving = 0
        self._last_batch_seen: int | None = None

    @property
    def state_key(self) -> str:
        return self._generate_state_key(filepath=self.filepath, monitor=self.monitor)

    def on_train_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, batch_idx: int
    ) -> None:
        if self.save_freq == "epoch":
            return
        seen = self._last_batch_seen
        self._batches_seen_since_last_saving += batch_idx + 1 if seen is None or batch_idx <= seen else batch_idx - seen
        self._last_batch_seen = batch_idx
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            self._save(trainer, batch_idx)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.save_freq == "epoch":
            self._save(trainer, None)

    def _save(self, trainer: pl.Trainer, batch: int | None) -> None:
        logs = epoch_logs(trainer)
        epoch = trainer.current_epoch
        numbers = {"epoch": epoch + 1} if batch is None else {"epoch": epoch + 1, "batch": batch + 1}
        try:
            path = self.filepath.format(**{**logs, **numbers})
        except KeyError as error:
            raise KeyError(f"ModelCheckpoint: cannot format filepath {self.filepath!r}: no logged metric "
                           f"{error}; logged: {', '.join(logs)}") from None
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:
                warnings.warn(f"Can save best model only with {self.monitor} available.", stacklevel=2)
            else:
                if not is_improvement(current, self.best, self.mode, 0.0):
                    if self.verbose > 0:
                        rank_zero_info(f"Epoch {epoch + 1}: {self.monitor} did not improve from {self.best}")
                    return
                self.best = current
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        trainer.save_checkpoint(path, weights_only=self.save_weights_only)
        if self.verbose > 0:
            rank_zero_info(f"Epoch {epoch + 1}: saving model to {path}")

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "batches_seen": self._batches_seen_since_last_saving,
                "last_batch_seen": self._last_batch_seen}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.best = state_dict["best"]
        self._batches_seen_since_last_saving = state_dict["batches_seen"]
        self._last_batch_seen = state_dict["last_batch_seen"]
