"""What Keras's monitoring callbacks share (``keras/src/callbacks/monitor_callback.py``), for their Lightning twins.

Keras decides "is ``current`` better than ``best``" as::

    min mode:  current + |min_delta| <  best        (ops.less(current - (-|min_delta|), best))
    max mode:  current - |min_delta| >  best        (ops.greater(current - |min_delta|, best))
    best None: always better (the first monitored value, whatever it is, NaN included)

``ops.less`` turns both Python floats into float32 tensors before comparing, so the comparison is made in float32:
``0.4999 + 1e-4 < 0.5`` is ``False`` there (both round to 0.5) although it is ``True`` in float64.
:func:`is_improvement` does the same. Keras also keeps the learning rate in a float32 variable, so every learning
rate it sets is rounded to float32; :func:`set_learning_rates` does that too, and refuses (as Keras does) an
optimizer whose learning rate is a schedule.
"""

from __future__ import annotations

import lightning.pytorch as pl
import numpy as np
import torch

# Keras infers "auto" from the compiled metric's direction; ptref has no compiled metrics, so from the name
# (``val_``/``train_`` stripped): these endings improve upwards, those downwards.
UP = ("acc", "accuracy", "auc", "precision", "recall", "f1_score", "iou")
DOWN = ("loss", "mse", "mae", "rmse", "error", "crossentropy", "hinge")


def resolve_mode(monitor: str, mode: str, owner: str) -> str:
    """``"min"``/``"max"``, with ``"auto"`` inferred from the metric's name; ``ValueError`` if it cannot be."""
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{owner}: mode must be 'auto', 'min' or 'max', got {mode!r}")
    if mode != "auto":
        return mode
    name = monitor.removeprefix("val_").removeprefix("train_")
    if name.endswith(DOWN):
        return "min"
    if name.endswith(UP):
        return "max"
    raise ValueError(
        f"{owner}: cannot tell whether monitor={monitor!r} should be maximized or minimized; "
        "pass mode='max' or mode='min'"
    )


def is_improvement(current: float, reference: float | None, mode: str, min_delta: float) -> bool:
    """Keras's ``_is_improvement``: compared in float32, ``min_delta`` absolute (see the module docstring)."""
    if reference is None:
        return True
    if mode == "min":
        return bool(np.float32(current + abs(min_delta)) < np.float32(reference))
    return bool(np.float32(current - abs(min_delta)) > np.float32(reference))


def epoch_logs(trainer: pl.Trainer) -> dict[str, float]:
    """The scalar metrics logged so far (Keras's ``logs`` at epoch end), as Python floats."""
    return {name: float(value) for name, value in trainer.callback_metrics.items() if value.numel() == 1}


def learning_rates(trainer: pl.Trainer) -> list[tuple[torch.optim.Optimizer, dict]]:
    """Every ``(optimizer, param_group)`` of the run, in order."""
    return [(optimizer, group) for optimizer in trainer.optimizers for group in optimizer.param_groups]


def current_learning_rate(group: dict) -> float:
    """A param group's ``"lr"`` as Keras reads its float32 variable: ``float(float32(lr))``."""
    return float(np.float32(group["lr"]))


def set_learning_rate(optimizer: torch.optim.Optimizer, group: dict, lr: float, owner: str) -> None:
    """``group["lr"] = float32(lr)``, as Keras's ``optimizer.learning_rate = lr`` assigns its float32 variable."""
    if getattr(optimizer, "learning_rate_schedule", None) is not None:
        raise TypeError(
            f"{owner}: {type(optimizer).__name__} was created with a LearningRateSchedule as its learning_rate, "
            "hence its learning rate is not settable; give it a float learning rate to use this callback"
        )
    group["lr"] = float(np.float32(lr))


def log_learning_rates(trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
    """Log ``learning_rate`` (``learning_rate_<i>`` per group when there are several) for this epoch.

    Keras's learning-rate callbacks add ``logs["learning_rate"]`` at epoch end, so a ``CSVLogger`` after them
    (and the History) carries the rate the epoch was trained with; this is the same, through ``self.log``.
    """
    groups = learning_rates(trainer)
    for index, (_, group) in enumerate(groups):
        name = "learning_rate" if len(groups) == 1 else f"learning_rate_{index}"
        pl_module.log(name, current_learning_rate(group), on_step=False, on_epoch=True)
