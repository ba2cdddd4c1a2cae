"""Keras's ``LayerNormalization``: each example normalized over chosen axes, epsilon 1e-3 (torch: 1e-5).

Keras's code (``keras.ops.layer_normalization``, non-RMS branch)::

    mean, variance = moments(x, axes=axis, keepdims=True)        # biased variance
    inv = rsqrt(variance + epsilon) * gamma
    y = x * inv + (beta - mean * inv)

``gamma``/``beta`` have the sizes of the normalized axes and broadcast over the others. torch's
``nn.LayerNorm`` normalizes only the *trailing* axes; Keras's ``axis`` may be any set (``[1, 2]`` of
``(N, T, F)``, or channels ``1`` of ``(N, C, H, W)``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class LayerNormalization(nn.Module):
    """Normalize each example over ``axis``, then scale by gamma and shift by beta. TF:
    ``keras.layers.LayerNormalization(axis, epsilon)``.

    Args:
        normalized_shape: the sizes of the ``axis`` axes, in the order they appear in the input (Keras reads them
            at build time; torch needs them to create gamma and beta).
        axis: an axis or a list of axes of the input, as Keras's ``axis`` (any order, negative allowed; they are
            taken in the input's order). Default -1.
        epsilon: Default 1e-3.
        center: learn beta (``bias``). Default True.
        scale: learn gamma (``weight``). Default True.

    Keras sorts ``axis`` by value, so a list mixing negative and non-negative axes of different sizes gives its
    gamma another order; with axes all of one sign both agree and Keras's gamma copies as is.
    """

    def __init__(
        self,
        normalized_shape: int | Sequence[int],
        axis: int | Sequence[int] = -1,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
    ) -> None:
        super().__init__()
        self.normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
        self.axis = (axis,) if isinstance(axis, int) else tuple(axis)
        if len(self.axis) != len(self.normalized_shape):
            raise ValueError(
                f"LayerNormalization: axis={list(self.axis)} names {len(self.axis)} axes, normalized_shape="
                f"{list(self.normalized_shape)} gives {len(self.normalized_shape)} sizes"
            )
        self.epsilon = epsilon
        self.weight = nn.Parameter(torch.ones(self.normalized_shape)) if scale else None
        self.bias = nn.Parameter(torch.zeros(self.normalized_shape)) if center else None

    def forward(self, x: Tensor) -> Tensor:
        axes = sorted(a % x.dim() for a in self.axis)
        sizes = tuple(x.shape[a] for a in axes)
        if sizes != self.normalized_shape:
            raise ValueError(
                f"LayerNormalization: input {tuple(x.shape)} has sizes {sizes} on axes {axes}, the layer was "
                f"built for {self.normalized_shape}"
            )
        if axes == list(range(x.dim() - len(axes), x.dim())):  # trailing axes: torch's fused kernel, same formula
            return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.epsilon)
        broadcast = [x.shape[a] if a in axes else 1 for a in range(x.dim())]
        mean = x.mean(dim=axes, keepdim=True)
        variance = torch.square(x - mean).mean(dim=axes, keepdim=True)
        inv = torch.rsqrt(variance + self.epsilon)
        if self.weight is not None:
            inv = inv * self.weight.reshape(broadcast)
        offset = -mean * inv if self.bias is None else self.bias.reshape(broadcast) - mean * inv
        return x * inv + offset

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, axis={list(self.axis)}, epsilon={self.epsilon}"
