"""How Keras lines up ``y_true`` with ``y_pred`` and turns per-sample losses into the number it trains on
(``keras/src/losses/loss.py``).

``sum_over_batch_size`` (Keras's default, ``"mean"`` is the same) is ``sum(w * loss) / N`` with ``N`` the number
of per-sample losses: sample weights scale the losses but the divisor stays the batch size (``torch``'s
``weight=`` arguments divide by the sum of the weights instead). Only ``mean_with_sample_weight`` divides by
``sum(w)``; ``"sum"`` sums; ``"none"`` and ``None`` return the weighted per-sample losses.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

Reduction = Literal["sum_over_batch_size", "mean", "sum", "mean_with_sample_weight", "none"] | None
REDUCTIONS = ("sum_over_batch_size", "mean", "sum", "mean_with_sample_weight", "none", None)


def standardize_reduction(reduction: Reduction) -> Reduction:
    """Keras's ``standardize_reduction``: refuse anything but the six reductions Keras knows."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"invalid reduction={reduction!r}; use one of {REDUCTIONS}")
    return reduction


def same_rank(x1: Tensor, x2: Tensor) -> tuple[Tensor, Tensor]:
    """Keras's ``squeeze_or_expand_to_same_rank``: align ranks that differ by a trailing axis of size 1.

    ``(B,)`` against ``(B, 1)`` becomes ``(B, 1)`` and ``(B, 1)``; without this, ``(B,) - (B, 1)`` broadcasts to
    ``(B, B)`` in torch and silently gives a wrong loss.
    """
    if x1.dim() == x2.dim() + 1 and x1.shape[-1] == 1:
        return (x1, x2.unsqueeze(-1)) if x2.dim() == 1 else (x1.squeeze(-1), x2)
    if x2.dim() == x1.dim() + 1 and x2.shape[-1] == 1:
        return (x1.unsqueeze(-1), x2) if x1.dim() == 1 else (x1, x2.squeeze(-1))
    return x1, x2


def as_prediction(y_pred: Tensor) -> Tensor:
    """``y_pred`` as a floating tensor (integers become ``torch.get_default_dtype()``, Keras's floatx)."""
    y_pred = torch.as_tensor(y_pred)
    return y_pred if y_pred.is_floating_point() else y_pred.to(torch.get_default_dtype())


def align(y_true: Tensor, y_pred: Tensor, loss: str) -> tuple[Tensor, Tensor]:
    """``y_true`` cast to ``y_pred``'s dtype, ranks aligned by :func:`same_rank`, then shapes required equal.

    Keras's cross-entropies raise on equal ranks with different shapes; Keras's other losses broadcast, e.g.
    labels ``(N, 1)`` against predictions ``(N, 3)`` into a loss that means nothing. Here every loss refuses.
    """
    y_pred = as_prediction(y_pred)
    y_true = torch.as_tensor(y_true, device=y_pred.device).to(y_pred.dtype)
    y_true, y_pred = same_rank(y_true, y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"{loss}: y_true.shape={tuple(y_true.shape)} and y_pred.shape={tuple(y_pred.shape)} must be equal "
            f"(a trailing axis of size 1 is squeezed or added; nothing else is broadcast)"
            + ("; integer class labels go to sparse_categorical_crossentropy" if "categorical" in loss else "")
        )
    return y_true, y_pred


def reduce_weighted(
    values: Tensor,
    sample_weight: Tensor | float | None = None,
    reduction: Reduction = "sum_over_batch_size",
    mask: Tensor | None = None,
) -> Tensor:
    """Weight and reduce per-sample losses as Keras's ``reduce_weighted_values``.

    ``mask`` (Keras's ``_keras_mask``, or ``ignore_class``) drops elements; for ``sum_over_batch_size``/``mean``
    the divisor becomes the number of valid elements (``w <- w * N / N_valid`` on valid entries, 0 elsewhere).
    """
    standardize_reduction(reduction)
    if sample_weight is not None:
        sample_weight = torch.as_tensor(sample_weight, device=values.device).to(values.dtype)
    if mask is not None:
        float_mask = torch.as_tensor(mask, device=values.device).to(values.dtype)
        if reduction in ("mean", "sum_over_batch_size"):
            valid = float_mask.sum()
            float_mask = float_mask * torch.where(valid == 0, 0.0, float_mask.numel() / valid)
        if sample_weight is None:
            sample_weight = float_mask
        else:
            float_mask, sample_weight = same_rank(float_mask, sample_weight)
            sample_weight = sample_weight * float_mask
    if sample_weight is not None:
        values, sample_weight = same_rank(values, sample_weight)
        values = values * sample_weight
    if reduction in (None, "none") or values.dim() == 0 or values.shape == (0,):
        return values
    loss = values.sum()
    if reduction == "sum":
        return loss
    if reduction == "mean_with_sample_weight" and sample_weight is not None:
        divisor = sample_weight.sum()
    else:
        divisor = torch.tensor(values.numel(), dtype=loss.dtype, device=loss.device)
    return torch.where(divisor == 0, torch.zeros_like(loss), loss / divisor)  # Keras's divide_no_nan
