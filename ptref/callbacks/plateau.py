"""Keras's ``ReduceLROnPlateau`` and ``EarlyStopping`` for Lightning, deciding exactly as Keras does.

Neither has an exact Lightning/torch twin:

- ``torch.optim.lr_scheduler.ReduceLROnPlateau(threshold_mode="abs")`` measures improvement the same way, but
  reduces after ``patience + 1`` bad epochs (``num_bad_epochs > patience``; Keras: ``wait >= patience``), counts the
  epoch a cooldown ends as good (Keras counts it as bad, so Keras's ``cooldown=c`` rests ``c - 1`` epochs), and
  resets its counters when the rate is already at ``min_lr`` (Keras keeps counting). No argument mapping
  reconciles all three, so :class:`ReduceLROnPlateau` is a callback with Keras's own rule.
- Lightning's ``EarlyStopping(check_finite=False)`` takes the same decisions as Keras's with the default
  ``baseline=None, restore_best_weights=False, start_from_epoch=0`` (both: ``wait += 1`` on a non-improvement,
  stop at ``wait >= patience``, improvement ``current ∓ |min_delta|`` beyond the best). It has no ``baseline``,
  ``restore_best_weights`` or ``start_from_epoch``, so :class:`EarlyStopping` subclasses it (keeping when it runs,
  the DDP vote and ``trainer.should_stop``) and replaces only the decision with Keras's, which adds those three.

Both compare in float32 and infer ``mode="auto"`` from the metric's name (:mod:`ptref.callbacks.monitor`), reset at
the start of every ``fit`` as Keras does at ``on_train_begin``, and keep their counters in the checkpoint, so a
resumed run takes the same decisions as an uninterrupted one.
"""

from __future__ import annotations

import warnings
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
from lightning.pytorch.callbacks import EarlyStopping as LightningEarlyStopping
from lightning.pytorch.callbacks.early_stopping import EarlyStoppingReason
from lightning.pytorch.utilities import rank_zero_info

from ptref.callbacks.monitor import (
    current_learning_rate,
    epoch_logs,
    is_improvement,
    learning_rates,
    log_learning_rates,
    resolve_mode,
    set_learning_rate,
)


class ReduceLROnPlateau(pl.Callback):
    """``keras.callbacks.ReduceLROnPlateau``: multiply the learning rate by ``factor`` when ``monitor`` plateaus.

    At the end of every epoch, with ``current = logs[monitor]``::

        if cooldown_counter > 0:   cooldown_counter -= 1; wait = 0
        if current improves on best by more than min_delta:   best = current; wait = 0
        elif cooldown_counter == 0:
            wait += 1
            if wait >= patience and lr > float32(min_lr):
                lr = max(lr * factor, min_lr); cooldown_counter = cooldown; wait = 0

    Every param group of every optimizer is reduced (Keras has one learning rate per optimizer). The rate trained
    with is logged as ``learning_rate``.

    Args:
        monitor: the logged metric to watch. factor: ``new_lr = lr * factor`` (< 1). patience: bad epochs before
        a reduction. verbose: 1 prints each reduction. mode: ``"min"``, ``"max"`` or ``"auto"`` (from the name).
        min_delta: absolute improvement needed. cooldown: epochs after a reduction before counting again.
        min_lr: lower bound of the learning rate. Defaults are Keras's.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
    ) -> None:
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0, got factor={factor}")
        self.monitor = monitor
        self.mode = resolve_mode(monitor, mode, "ReduceLROnPlateau")
        self.factor, self.patience, self.verbose = factor, patience, verbose
        self.min_delta, self.cooldown, self.min_lr = abs(min_delta), cooldown, min_lr
        self.best: float | None = None
        self.wait = 0
        self.cooldown_counter = 0

    @property
    def state_key(self) -> str:
        return self._generate_state_key(monitor=self.monitor, mode=self.mode)

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if stage == "fit":  # Keras's on_train_begin; a checkpoint's state is loaded after this
            self.best, self.wait, self.cooldown_counter = None, 0, 0

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        current = epoch_logs(trainer).get(self.monitor)
        log_learning_rates(trainer, pl_module)
        if current is None:
            warnings.warn(
                f"Learning rate reduction is conditioned on metric `{self.monitor}` which is not available. "
                f"Available metrics are: {','.join(epoch_logs(trainer))}.",
                stacklevel=2,
            )
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if is_improvement(current, self.best, self.mode, self.min_delta):
            self.best = current
            self.wait = 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                reduced = [self._reduce(optimizer, group, trainer.current_epoch)
                           for optimizer, group in learning_rates(trainer)]
                if any(reduced):
                    self.cooldown_counter = self.cooldown
                    self.wait = 0

    def _reduce(self, optimizer: torch.optim.Optimizer, group: dict, epoch: int) -> bool:
        old_lr = current_learning_rate(group)
        if not old_lr > np.float32(self.min_lr):
            return False
        new_lr = max(old_lr * self.factor, self.min_lr)
        set_learning_rate(optimizer, group, new_lr, "ReduceLROnPlateau")
        if self.verbose > 0:
            rank_zero_info(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}.")
        return True

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "wait": self.wait, "cooldown_counter": self.cooldown_counter}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.best, self.wait, self.cooldown_counter = (state_dict[k] for k in ("best", "wait", "cooldown_counter"))


class EarlyStopping(LightningEarlyStopping):
    """``keras.callbacks.EarlyStopping``: stop when ``monitor`` has not improved for ``patience`` epochs.

    At the end of every epoch ``e >= start_from_epoch``, with ``current = logs[monitor]``::

        wait += 1
        if current improves on best by more than min_delta:
            best = current  (and its weights, with restore_best_weights)
            if baseline is None or current improves on baseline by more than min_delta:  wait = 0
        elif wait >= patience and e > 0:  stop

    With ``restore_best_weights`` the module's ``state_dict`` of the best epoch is loaded back when training ends
    (stopped early or not). Defaults are Keras's (``patience=0``: stop at the first epoch without improvement).
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        min_delta: float = 0.0,
        patience: int = 0,
        verbose: int = 0,
        mode: str = "auto",
        baseline: float | None = None,
        restore_best_weights: bool = False,
        start_from_epoch: int = 0,
    ) -> None:
        super().__init__(
            monitor=monitor, min_delta=abs(min_delta), patience=patience, verbose=bool(verbose),
            mode=resolve_mode(monitor, mode, "EarlyStopping"), check_finite=False,
        )
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.best: float | None = None
        self.best_epoch = 0
        self.best_weights: dict[str, torch.Tensor] | None = None
        self._trainer: pl.Trainer | None = None

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        super().setup(trainer, pl_module, stage)
        if stage == "fit":  # Keras's on_train_begin; a checkpoint's state is loaded after this
            self.wait_count, self.stopped_epoch, self.best, self.best_epoch, self.best_weights = 0, 0, None, 0, None

    def _validate_condition_metric(self, logs: dict[str, torch.Tensor]) -> bool:
        if self.monitor in logs:
            return True
        warnings.warn(
            f"Early stopping conditioned on metric `{self.monitor}` which is not available. "
            f"Available metrics are: {','.join(logs)}",
            stacklevel=2,
        )
        return False

    def _run_early_stopping_check(self, trainer: pl.Trainer) -> None:
        self._trainer = trainer  # _evaluate_stopping_criteria needs the epoch and the module's weights
        super()._run_early_stopping_check(trainer)

    def _evaluate_stopping_criteria(self, current: torch.Tensor) -> tuple[bool, str | None]:
        epoch = self._trainer.current_epoch
        value = float(current)
        if epoch < self.start_from_epoch:
            return False, None
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = self._weights(), epoch
        self.wait_count += 1
        if is_improvement(value, self.best, self.mode, self.min_delta):
            self.best, self.best_epoch = value, epoch
            if self.restore_best_weights:
                self.best_weights = self._weights()
            if self.baseline is None or is_improvement(value, self.baseline, self.mode, self.min_delta):
                self.wait_count = 0
            return False, f"Metric {self.monitor} improved to {value:.5f}"
        if self.wait_count >= self.patience and epoch > 0:
            self.stopping_reason = EarlyStoppingReason.PATIENCE_EXHAUSTED
            best = f"best {self.monitor} {self.best} at epoch {self.best_epoch + 1}"
            return True, f"Epoch {epoch + 1}: early stopping ({best})"
        return False, None

    def _weights(self) -> dict[str, torch.Tensor]:
        return {name: tensor.detach().clone() for name, tensor in self._trainer.lightning_module.state_dict().items()}

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose:
                rank_zero_info(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            pl_module.load_state_dict(self.best_weights)

    def state_dict(self) -> dict[str, Any]:
        keras_state = {"best": self.best, "best_epoch": self.best_epoch, "best_weights": self.best_weights}
        return {**super().state_dict(), **keras_state}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        super().load_state_dict(state_dict)
        self.best, self.best_epoch, self.best_weights = (state_dict[k] for k in ("best", "best_epoch", "best_weights"))
