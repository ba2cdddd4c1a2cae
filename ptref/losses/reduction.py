"""How Keras turns per-sample losses into the number it trains on (``keras/src/losses/loss.py``).

``sum_over_batch_size`` (Keras's default) is ``sum(w * loss) / N`` with ``N`` the number of per-sample losses:
sample weights scale the losses but the divisor stays the batch size (``torch``'s ``weight=`` arguments
divide by the sum of the weights instead). Only ``mean_with_sample_weight`` divides by ``sum(w)``.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor

Reduction = Literal["sum_over_batch_size", "mean", "sum", "mean_with_sample_weight", "none"] | None
REDUCTIONS = ("sum_over_batch_size", "mean", "sum", "mean_with_sample_weight", "none", None)


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


def reduce_weighted(
    values: Tensor,
    sample_weight: Tensor | None = None,
    reduction: Reduction = "sum_over_batch_size",
    mask: Tensor | None = None,
) -> Tensor:
    """Weight and reduce per-sample losses as Keras's ``reduce_weighted_values``.

    ``mask`` (from ``ignore_class``) drops elements; for ``sum_over_batch_size``/``mean`` the divisor becomes
    the number of valid elements, like ``torch``'s ``ignore_index``.
    """
    if reduction not in REDUCTIONS:
        raise ValueError(f"unknown reduction {reduction!r}; use one of {REDUCTIONS}")
    if mask is not None:
        float_mask = mask.to(values.dtype)
        if reduction in ("mean", "sum_over_batch_size"):
            valid = float_mask.sum()
            float_mask = float_mask * torch.nan_to_num(mask.numel() / valid, posinf=0.0)
        if sample_weight is None:
            sample_weight = float_mask
        else:
            float_mask, sample_weight = same_rank(float_mask, torch.as_tensor(sample_weight, dtype=values.dtype))
            sample_weight = sample_weight * float_mask
    if sample_weight is not None:
        sample_weight = torch.as_tensor(sample_weight, dtype=values.dtype, device=values.device)
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
