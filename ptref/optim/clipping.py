"""Keras's gradient clipping: ``clipnorm`` (each tensor), ``global_clipnorm`` (all together), ``clipvalue``."""

from __future__ import annotations

import torch
from torch import Tensor


def clip_by_norm(grad: Tensor, clipnorm: float) -> Tensor:
    """``g * c / max(||g||, c)`` for one tensor, as ``tf.clip_by_norm`` (no epsilon, unlike ``clip_grad_norm_``)."""
    return grad * clipnorm / torch.clamp(torch.linalg.vector_norm(grad), min=clipnorm)


def clip_by_global_norm(grads: list[Tensor], clipnorm: float) -> list[Tensor]:
    """``g * c * min(1/||G||, 1/c)`` with ``||G||`` the norm of all gradients together (Keras ``global_clipnorm``).

    As in Keras, a non-finite global norm turns every gradient into NaN (``torch``'s ``clip_grad_norm_`` adds
    1e-6 to the norm and would scale by 0 instead).
    """
    norm = torch.sqrt(torch.stack([torch.sum(torch.square(g)) for g in grads]).sum())
    scale = clipnorm * torch.clamp(1.0 / norm, max=1.0 / clipnorm) + (norm - norm)
    return [g * scale for g in grads]


def clip(
    grads: list[Tensor], clipnorm: float | None, global_clipnorm: float | None, clipvalue: float | None
) -> list[Tensor]:
    """The one clipping Keras's ``apply`` does (at most one of the three is set; all unset: unchanged)."""
    if not grads:
        return grads
    if clipnorm:
        return [clip_by_norm(g, clipnorm) for g in grads]
    if global_clipnorm:
        return clip_by_global_norm(grads, global_clipnorm)
    if clipvalue:
        return [torch.clamp(g, -clipvalue, clipvalue) for g in grads]
    return grads
