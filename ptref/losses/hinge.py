"""Keras's hinge losses as per-sample functions. Labels are -1/1; labels that are all 0/1 are mapped to -1/1
first (``y <- 2y - 1``), as Keras's ``convert_binary_labels_to_hinge`` does."""

from __future__ import annotations

import torch
from torch import Tensor

from ptref.losses.reduction import align


def _signed_labels(y_true: Tensor) -> Tensor:
    is_binary = torch.all((y_true == 0) | (y_true == 1))
    return torch.where(is_binary, 2.0 * y_true - 1.0, y_true)


def hinge(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """``mean(max(1 - y_true * y_pred, 0), axis=-1)``. TF: ``keras.losses.hinge``."""
    y_true, y_pred = align(y_true, y_pred, "hinge")
    return torch.mean(torch.clamp(1.0 - _signed_labels(y_true) * y_pred, min=0.0), dim=-1)


def squared_hinge(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """``mean(max(1 - y_true * y_pred, 0)**2, axis=-1)``. TF: ``keras.losses.squared_hinge``."""
    y_true, y_pred = align(y_true, y_pred, "squared_hinge")
    return torch.mean(torch.square(torch.clamp(1.0 - _signed_labels(y_true) * y_pred, min=0.0)), dim=-1)


def categorical_hinge(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """``max(neg - pos + 1, 0)`` with ``pos = sum(y_true * y_pred)`` and ``neg = max((1 - y_true) * y_pred)`` over
    the last axis, ``y_true`` one-hot (no -1/1 mapping here). TF: ``keras.losses.categorical_hinge``."""
    y_true, y_pred = align(y_true, y_pred, "categorical_hinge")
    pos = torch.sum(y_true * y_pred, dim=-1)
    neg = torch.amax((1.0 - y_true) * y_pred, dim=-1)
    return torch.clamp(neg - pos + 1.0, min=0.0)
