"""Keras's shape layers as torch modules: Reshape, Permute, cropping and global pooling.

Reshape and Permute act on Keras's layout (the batch axis kept, ``shape``/``dims`` as in Keras); cropping and
global pooling on channels-first tensors ``(N, C, *spatial)``, as torch's own pooling and padding modules do.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch.nn.functional as F
from torch import Tensor, nn


class Reshape(nn.Module):
    """``x.reshape(N, *shape)`` (``-1`` allowed once). TF: ``keras.layers.Reshape(target_shape)``."""

    def __init__(self, shape: Sequence[int]) -> None:
        super().__init__()
        self.shape = tuple(shape)

    def forward(self, x: Tensor) -> Tensor:
        return x.reshape(x.shape[0], *self.shape)

    def extra_repr(self) -> str:
        return f"shape={self.shape}"


class Permute(nn.Module):
    """``x.permute(0, *dims)``, ``dims`` counted from 1 as in Keras. TF: ``keras.layers.Permute(dims)``."""

    def __init__(self, dims: Sequence[int]) -> None:
        super().__init__()
        self.dims = tuple(dims)

    def forward(self, x: Tensor) -> Tensor:
        return x.permute(0, *self.dims)

    def extra_repr(self) -> str:
        return f"dims={self.dims}"


class Crop(nn.Module):
    """Remove ``(before, after)`` cells from each spatial axis of ``(N, C, *spatial)``, first spatial axis first.
    TF: ``keras.layers.Cropping2D(((top, bottom), (left, right)))`` is ``Crop((top, bottom), (left, right))``."""

    def __init__(self, *cropping: tuple[int, int]) -> None:
        super().__init__()
        self.cropping = tuple(tuple(pair) for pair in cropping)

    def forward(self, x: Tensor) -> Tensor:
        pads = [-cells for pair in reversed(self.cropping) for cells in pair]  # F.pad: last axis first; < 0 crops
        return F.pad(x, pads)

    def extra_repr(self) -> str:
        return ", ".join(map(str, self.cropping))


class GlobalAveragePooling(nn.Module):
    """Mean over the spatial axes of ``(N, C, *spatial)`` -> ``(N, C)``, or ``(N, C, 1, ...)`` with ``keepdims``.
    TF: ``keras.layers.GlobalAveragePooling1D/2D(keepdims=...)``."""

    def __init__(self, keepdims: bool = False) -> None:
        super().__init__()
        self.keepdims = keepdims

    def forward(self, x: Tensor) -> Tensor:
        return x.mean(dim=tuple(range(2, x.dim())), keepdim=self.keepdims)

    def extra_repr(self) -> str:
        return f"keepdims={self.keepdims}"


class GlobalMaxPooling(GlobalAveragePooling):
    """Max over the spatial axes of ``(N, C, *spatial)``. TF: ``keras.layers.GlobalMaxPooling1D/2D``."""

    def forward(self, x: Tensor) -> Tensor:
        return x.amax(dim=tuple(range(2, x.dim())), keepdim=self.keepdims)
