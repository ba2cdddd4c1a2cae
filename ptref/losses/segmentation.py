"""Keras's image-segmentation losses. With ``axis=None`` (Keras's default) the sums run over every element, so
the whole batch gives one number; pass the non-batch axes (e.g. ``axis=(1, 2, 3)``) for one loss per image."""

from __future__ import annotations

from torch import Tensor

from ptref.losses.reduction import align

EPSILON = 1e-7  # keras.backend.epsilon()

Axis = int | tuple[int, ...] | list[int] | None


def _sum(x: Tensor, axis: Axis) -> Tensor:
    return x.sum() if axis is None else x.sum(dim=tuple(axis) if isinstance(axis, (tuple, list)) else axis)


def dice(y_true: Tensor, y_pred: Tensor, axis: Axis = None) -> Tensor:
    """``1 - 2 sum(t p) / (sum(t) + sum(p) + 1e-7)`` over ``axis``. TF: ``keras.losses.dice``."""
    y_true, y_pred = align(y_true, y_pred, "dice")
    return 1.0 - 2.0 * _sum(y_true * y_pred, axis) / (_sum(y_true, axis) + _sum(y_pred, axis) + EPSILON)


def tversky(y_true: Tensor, y_pred: Tensor, alpha: float = 0.5, beta: float = 0.5, axis: Axis = None) -> Tensor:
    """``1 - TP / (TP + alpha FP + beta FN + 1e-7)`` with ``TP = sum(t p)``, ``FP = sum((1 - p) t)``,
    ``FN = sum(p (1 - t))`` over ``axis`` (Keras's naming; alpha = beta = 0.5 is Dice). TF: ``keras.losses.tversky``."""
    y_true, y_pred = align(y_true, y_pred, "tversky")
    tp = _sum(y_true * y_pred, axis)
    fp = _sum((1.0 - y_pred) * y_true, axis)
    fn = _sum(y_pred * (1.0 - y_true), axis)
    return 1.0 - tp / (tp + fp * alpha + fn * beta + EPSILON)
