"""Keras's KL divergence and Poisson losses as per-sample functions, and TF1's ``log_loss``."""

from __future__ import annotations

import torch
from torch import Tensor

from ptref.losses.reduction import align

EPSILON = 1e-7  # keras.backend.epsilon()


def kl_divergence(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """``sum(t * log(t / p), axis=-1)`` with ``t, p`` clipped to ``[1e-7, 1]``. TF: ``keras.losses.kl_divergence``
    (Keras 2: ``kld``, ``kullback_leibler_divergence``). ``F.kl_div`` takes ``log p`` first and does not clip."""
    y_true, y_pred = align(y_true, y_pred, "kl_divergence")
    y_true, y_pred = torch.clamp(y_true, EPSILON, 1.0), torch.clamp(y_pred, EPSILON, 1.0)
    return torch.sum(y_true * torch.log(y_true / y_pred), dim=-1)


def poisson(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """``mean(y_pred - y_true * log(y_pred + 1e-7), axis=-1)``, ``y_pred`` a rate. TF: ``keras.losses.poisson``.

    ``F.poisson_nll_loss`` defaults to ``log_input=True`` (a log-rate), a different loss.
    """
    y_true, y_pred = align(y_true, y_pred, "poisson")
    return torch.mean(y_pred - y_true * torch.log(y_pred + EPSILON), dim=-1)


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
    and ``"none"``. Not a Keras loss, so :func:`ptref.losses.get` does not know it.
    """
    y_true, y_pred = align(y_true, y_pred, "log_loss")
    losses = -y_true * torch.log(y_pred + epsilon) - (1 - y_true) * torch.log(1 - y_pred + epsilon)
    weights = torch.broadcast_to(torch.as_tensor(weights, dtype=losses.dtype, device=losses.device), losses.shape)
    weighted = losses * weights
    if reduction == "none":
        return weighted
    if reduction == "sum":
        return weighted.sum()
    if reduction != "sum_by_nonzero_weights":
        raise ValueError(f"log_loss: unknown reduction {reduction!r}; use 'sum_by_nonzero_weights', 'sum' or 'none'")
    present = torch.count_nonzero(weights)
    return torch.where(present == 0, weighted.new_zeros(()), weighted.sum() / present)
