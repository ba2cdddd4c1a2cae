"""Keras's losses as functions, in Keras's argument order ``(y_true, y_pred)``.

``keras.losses.<name>(y_true, y_pred)`` returns the per-sample loss (the mean or sum over the last axis);
here that is ``reduction="none"``. The default ``reduction="sum_over_batch_size"`` gives what
``keras.losses.<Class>()(y_true, y_pred, sample_weight)`` and ``model.fit`` compute (see
:mod:`ptref.losses.reduction`).

Probabilities vs logits: with ``from_logits=False`` Keras clips probabilities to ``[1e-7, 1 - 1e-7]``
before the log, as here. But in ``model.fit`` a Keras ``softmax``/``sigmoid`` output layer secretly hands its
*logits* to the cross-entropies (no clipping). To reproduce such a model, drop the final activation in torch
and pass the logits with ``from_logits=True``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ptref.losses.reduction import Reduction, reduce_weighted, same_rank

EPSILON = 1e-7  # keras.backend.epsilon()


def _align(y_true: Tensor, y_pred: Tensor) -> tuple[Tensor, Tensor]:
    y_pred = torch.as_tensor(y_pred)
    return same_rank(torch.as_tensor(y_true, dtype=y_pred.dtype, device=y_pred.device), y_pred)


def mean_squared_error(
    y_true: Tensor, y_pred: Tensor, *, sample_weight: Tensor | None = None, reduction: Reduction = "sum_over_batch_size"
) -> Tensor:
    """``mean((y_true - y_pred)**2, axis=-1)`` per sample. TF: ``keras.losses.MeanSquaredError``."""
    y_true, y_pred = _align(y_true, y_pred)
    return reduce_weighted(torch.mean(torch.square(y_true - y_pred), dim=-1), sample_weight, reduction)


def poisson(
    y_true: Tensor, y_pred: Tensor, *, sample_weight: Tensor | None = None, reduction: Reduction = "sum_over_batch_size"
) -> Tensor:
    """``mean(y_pred - y_true * log(y_pred + 1e-7), axis=-1)``, ``y_pred`` a rate. TF: ``keras.losses.Poisson``.

    ``F.poisson_nll_loss`` defaults to ``log_input=True`` (a log-rate), a different loss.
    """
    y_true, y_pred = _align(y_true, y_pred)
    return reduce_weighted(torch.mean(y_pred - y_true * torch.log(y_pred + EPSILON), dim=-1), sample_weight, reduction)


def huber(
    y_true: Tensor,
    y_pred: Tensor,
    delta: float = 1.0,
    *,
    sample_weight: Tensor | None = None,
    reduction: Reduction = "sum_over_batch_size",
) -> Tensor:
    """Per element ``e = y_pred - y_true``: ``e**2 / 2`` if ``|e| <= delta`` else ``delta * |e| - delta**2 / 2``,
    averaged over the last axis. TF: ``keras.losses.Huber``. (``F.smooth_l1_loss(beta=delta)`` is this / delta.)
    """
    y_true, y_pred = _align(y_true, y_pred)
    error = y_pred - y_true
    abs_error = error.abs()
    per_element = torch.where(abs_error <= delta, 0.5 * error.square(), delta * abs_error - 0.5 * delta**2)
    return reduce_weighted(per_element.mean(dim=-1), sample_weight, reduction)


def binary_crossentropy(
    y_true: Tensor,
    y_pred: Tensor,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
    *,
    sample_weight: Tensor | None = None,
    reduction: Reduction = "sum_over_batch_size",
) -> Tensor:
    """Mean over ``axis`` of ``-(y log p + (1 - y) log(1 - p))``. TF: ``keras.losses.BinaryCrossentropy``.

    Probabilities are clipped to ``[1e-7, 1 - 1e-7]`` (``F.binary_cross_entropy`` instead clamps the log at
    -100); ``label_smoothing`` replaces ``y`` by ``y * (1 - ls) + ls / 2``.
    """
    y_true, y_pred = _align(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        per_element = F.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
    else:
        p = torch.clamp(y_pred, EPSILON, 1.0 - EPSILON)
        per_element = -(y_true * torch.log(p) + (1 - y_true) * torch.log(1 - p))
    return reduce_weighted(per_element.mean(dim=axis), sample_weight, reduction)


def categorical_crossentropy(
    y_true: Tensor,
    y_pred: Tensor,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
    *,
    sample_weight: Tensor | None = None,
    reduction: Reduction = "sum_over_batch_size",
) -> Tensor:
    """``-sum(y * log p)`` over the class ``axis``, ``y`` one-hot (or soft).
    TF: ``keras.losses.CategoricalCrossentropy``.

    Probabilities are first renormalized to sum to 1, then clipped to ``[1e-7, 1 - 1e-7]``;
    ``label_smoothing`` replaces ``y`` by ``y * (1 - ls) + ls / num_classes``.
    """
    y_true, y_pred = _align(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / y_true.shape[axis]
    if from_logits:
        log_p = torch.log_softmax(y_pred, dim=axis)
    else:
        log_p = torch.log(torch.clamp(y_pred / y_pred.sum(dim=axis, keepdim=True), EPSILON, 1.0 - EPSILON))
    return reduce_weighted(-torch.sum(y_true * log_p, dim=axis), sample_weight, reduction)


def sparse_categorical_crossentropy(
    y_true: Tensor,
    y_pred: Tensor,
    from_logits: bool = False,
    ignore_class: int | None = None,
    *,
    sample_weight: Tensor | None = None,
    reduction: Reduction = "sum_over_batch_size",
) -> Tensor:
    """Categorical cross-entropy with integer labels; classes on the last axis of ``y_pred``.
    TF: ``keras.losses.SparseCategoricalCrossentropy``.

    On probabilities Keras computes ``log(clip(p, 1e-7, 1 - 1e-7))`` and feeds it to a softmax cross-entropy,
    which renormalizes: the loss is ``-log clip(p)[y] + log sum(clip(p))``. ``ignore_class`` labels get loss 0
    and are left out of the ``sum_over_batch_size`` divisor.
    """
    y_pred = torch.as_tensor(y_pred)
    y_true = torch.as_tensor(y_true, device=y_pred.device)
    if y_true.dim() == y_pred.dim() and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    y_true = y_true.long()
    logits = y_pred if from_logits else torch.log(torch.clamp(y_pred, EPSILON, 1.0 - EPSILON))
    mask = None
    if ignore_class is not None:
        mask = y_true != ignore_class
        y_true = torch.where(mask, y_true, 0)
    per_sample = F.cross_entropy(logits.movedim(-1, 1), y_true, reduction="none")
    if mask is not None:
        per_sample = torch.where(mask, per_sample, 0.0)
    return reduce_weighted(per_sample, sample_weight, reduction, mask)


def log_loss(
    y_true: Tensor,
    y_pred: Tensor,
    weights: Tensor | float = 1.0,
    epsilon: float = 1e-7,
    reduction: str = "sum_by_nonzero_weights",
) -> Tensor:
    """TF1's ``tf.compat.v1.losses.log_loss``: ``-y log(p + eps) - (1 - y) log(1 - p + eps)`` per element.

    No clipping (``eps`` is added inside the log). The TF1 default reduction ``sum_by_nonzero_weights`` is
    ``sum(w * loss) / count(w != 0)`` over all elements (with ``w = 1``: the plain mean); also ``"sum"``
    and ``"none"``.
    """
    y_pred = torch.as_tensor(y_pred)
    y_true = torch.as_tensor(y_true, dtype=y_pred.dtype, device=y_pred.device)
    losses = -y_true * torch.log(y_pred + epsilon) - (1 - y_true) * torch.log(1 - y_pred + epsilon)
    weights = torch.broadcast_to(torch.as_tensor(weights, dtype=losses.dtype, device=losses.device), losses.shape)
    weighted = losses * weights
    if reduction == "none":
        return weighted
    if reduction == "sum":
        return weighted.sum()
    if reduction != "sum_by_nonzero_weights":
        raise ValueError(f"unknown reduction {reduction!r} for log_loss")
    present = torch.count_nonzero(weights)
    return torch.where(present == 0, weighted.new_zeros(()), weighted.sum() / present)
