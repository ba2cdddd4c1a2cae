"""Refuse numbers that cannot train before training starts: no epochs, a learning rate that is not positive.

A gradient step is ``w ← w − lr·g``: with ``lr = 0`` the weights never change, with ``lr < 0`` every step
climbs the loss. ``max_epochs = 0`` runs no step at all, and the run still ends as a success that reports its
initial weights as the learned ones.
"""

from __future__ import annotations

from typing import Any

import lightning.pytorch as pl

from ptref.errors import UserInputError


def check_epochs(value: Any, option: str) -> None:
    """``max_epochs``/``max_steps`` must be positive, or -1 (no limit) or None (Lightning's default)."""
    if isinstance(value, int) and not isinstance(value, bool) and (value == 0 or value < -1):
        raise UserInputError(f"{option} {value}: nothing would be trained; give a positive number, or -1 for no limit")


def check_learning_rate(value: Any, where: str, warmup: bool = False) -> None:
    """A learning rate must be > 0; 0 is allowed only as the first value of a schedule (a warmup from 0)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return  # a schedule or a config dict: its values are checked where they become numbers
    if value < 0 or (value == 0 and not warmup):
        raise UserInputError(
            f"{where} {value}: a learning rate must be > 0 (w <- w - lr*g would "
            f"{'never move' if value == 0 else 'climb the loss'}); the course uses 0.01 for gradient descent, "
            "1e-3 for Adam"
        )


class LearningRateCheck(pl.Callback):
    """Before the first step, refuse an optimizer whose learning rate is not positive (any optimizer).

    Reads each param group's base rate: ``initial_lr`` when a torch LR scheduler is attached (its own factor
    may legitimately start at 0), else ``lr``. A :mod:`ptref.optim` optimizer with a schedule holds
    ``schedule(0)`` in ``lr``, which may be 0 at the start of a warmup, so only a negative value is refused there.
    """

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        for index, optimizer in enumerate(trainer.optimizers):
            warmup = getattr(optimizer, "learning_rate_schedule", None) is not None
            for group in optimizer.param_groups:
                where = f"optimizer {index} ({type(optimizer).__name__}): learning rate"
                check_learning_rate(float(group.get("initial_lr", group["lr"])), where, warmup=warmup)
