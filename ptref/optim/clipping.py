"""Keras's gradient clipping: ``clipnorm`` (each tensor), ``global_clipnorm`` (all together), ``clipvalue``.

On an :class:`~ptref.optim.sparse.IndexedSlices` gradient (an Embedding's), as Keras on TensorFlow: ``clipnorm``
and ``clipvalue`` act on the occurrences' rows and keep it sparse (the norm is that of the occurrences, not of
their per-row sums); ``global_clipnorm`` adds the occurrences' squares to the global norm and returns the
gradient dense (``g * scale`` densifies an ``IndexedSlices`` in TensorFlow).
"""

from __future__ import annotations

import torch
from torch import Tensor

from ptref.optim.sparse import Gradient, IndexedSlices, dense, values


def clip_by_norm(grad: Gradient, clipnorm: float) -> Gradient:
    """``g * c / max(||g||, c)`` for one tensor, as ``tf.clip_by_norm`` (no epsilon, unlike ``clip_grad_norm_``)."""
    if isinstance(grad, IndexedSlices):
        return grad.map_values(lambda rows: clip_by_norm(rows, clipnorm))
    return grad * clipnorm / torch.clamp(torch.linalg.vector_norm(grad), min=clipnorm)


def clip_by_global_norm(grads: list[Gradient], clipnorm: float) -> list[Tensor]:
    """``g * c * min(1/||G||, 1/c)`` with ``||G||`` the norm of all gradients together (Keras ``global_clipnorm``).

    As in Keras, a non-finite global norm turns every gradient into NaN (``torch``'s ``clip_grad_norm_`` adds
    1e-6 to the norm and would scale by 0 instead).
    """
    norm = torch.sqrt(torch.stack([torch.sum(torch.square(values(g))) for g in grads]).sum())
    scale = clipnorm * torch.clamp(1.0 / norm, max=1.0 / clipnorm) + (norm - norm)
    return [dense(g) * scale for g in grads]


def clip(
    grads: list[Gradient], clipnorm: float | None, global_clipnorm: float | None, clipvalue: float | None
) -> list[Gradient]:
    """The one clipping Keras's ``apply`` does (at most one of the three is set; all unset: unchanged)."""
    if not grads:
        return grads
    if clipnorm:
        return [clip_by_norm(g, clipnorm) for g in grads]
    if global_clipnorm:
        return clip_by_global_norm(grads, global_clipnorm)
    if clipvalue:
        return [_clip_value(g, clipvalue) for g in grads]
    return grads


def _clip_value(grad: Gradient, clipvalue: float) -> Gradient:
    if isinstance(grad, IndexedSlices):
        return grad.map_values(lambda rows: torch.clamp(rows, -clipvalue, clipvalue))
    return torch.clamp(grad, -clipvalue, clipvalue)
