"""Keras's regression losses as per-sample functions (``keras.losses.mean_squared_error`` etc.).

Each returns one value per sample: the mean (or, for ``cosine_similarity``, the sum) over the last axis of
``y_pred``, shape ``y_pred.shape[:-1]``. The classes in :mod:`ptref.losses.modules` reduce over the batch.
Argument order is Keras's, ``(y_true, y_pred)``. Shapes: see :func:`ptref.losses.reduction.align`.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from ptref.losses.reduction import align

EPSILON = 1e-7  # keras.backend.epsilon()


def mean_squared_error(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """``mean((y_true - y_pred)**2, axis=-1)``. TF: ``keras.losses.mean_squared_error`` (``mse``)."""
    y_true, y_pred = align(y_true, y_pred, "mean_squared_error")
    return torch.mean(torch.square(y_true - y_pred), dim=-1)


def mean_absolute_error(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """``mean(|y_true - y_pred|, axis=-1)``. TF: ``keras.losses.mean_absolute_error`` (``mae``)."""
    y_true, y_pred = align(y_true, y_pred, "mean_absolute_error")
    return torch.mean(torch.abs(y_true - y_pred), dim=-1)


def mean_absolute_percentage_error(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """``100 * mean(|y_true - y_pred| / max(|y_true|, 1e-7), axis=-1)``. TF: ``..._percentage_error`` (``mape``)."""
    y_true, y_pred = align(y_true, y_pred, "mean_absolute_percentage_error")
    return 100.0 * torch.mean(torch.abs((y_true - y_pred) / torch.clamp(torch.abs(y_true), min=EPSILON)), dim=-1)


def mean_squared_logarithmic_error(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """``mean((log(max(y_pred, 1e-7) + 1) - log(max(y_true, 1e-7) + 1))**2, axis=-1)``.
    TF: ``keras.losses.mean_squared_logarithmic_error`` (``msle``)."""
    y_true, y_pred = align(y_true, y_pred, "mean_squared_logarithmic_error")
    first_log = torch.log(torch.clamp(y_pred, min=EPSILON) + 1.0)
    second_log = torch.log(torch.clamp(y_true, min=EPSILON) + 1.0)
    return torch.mean(torch.square(first_log - second_log), dim=-1)


def _l2_normalize(x: Tensor, axis: int) -> Tensor:
    """Keras's ``ops.normalize``: ``x * min(1 / sqrt(sum(x**2)), 1 / 1e-7)``, so an all-zero vector stays 0."""
    inv_norm = torch.rsqrt(torch.sum(torch.square(x), dim=axis, keepdim=True))
    return x * torch.clamp(inv_norm, max=1.0 / EPSILON)


def cosine_similarity(y_true: Tensor, y_pred: Tensor, axis: int = -1) -> Tensor:
    """``-sum(l2_normalize(y_true) * l2_normalize(y_pred), axis)``: -1 for parallel vectors, 0 for orthogonal ones.
    TF: ``keras.losses.cosine_similarity``."""
    y_true, y_pred = align(y_true, y_pred, "cosine_similarity")
    return -torch.sum(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis), dim=axis)


def huber(y_true: Tensor, y_pred: Tensor, delta: float = 1.0) -> Tensor:
    """Per element ``e = y_pred - y_true``: ``e**2 / 2`` if ``|e| <= delta`` else ``delta * |e| - delta**2 / 2``,
    averaged over the last axis. TF: ``keras.losses.huber``. (``F.huber_loss(delta=delta)`` is the same formula.)
    """
    y_true, y_pred = align(y_true, y_pred, "huber")
    error = y_pred - y_true
    abs_error = error.abs()
    per_element = torch.where(abs_error <= delta, 0.5 * error.square(), delta * abs_error - 0.5 * delta**2)
    return per_element.mean(dim=-1)


def log_cosh(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """``mean(log(cosh(e)), axis=-1)``, ``e = y_pred - y_true``, computed as ``e + softplus(-2 e) - log 2`` so that a
    large ``|e|`` does not overflow ``cosh``. TF: ``keras.losses.log_cosh``."""
    y_true, y_pred = align(y_true, y_pred, "log_cosh")
    error = y_pred - y_true
    return torch.mean(error + F.softplus(-2.0 * error) - math.log(2.0), dim=-1)
