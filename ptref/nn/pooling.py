"""Keras pooling with ``padding='same'`` for 1-D, 2-D and 3-D inputs (channels first), any stride.

Both poolings pad as TF does (``ptref.nn.padding.same_padding``: the odd cell goes after), then differ in what
the padding means:

- max: padded cells are ``-inf``, so they never win (``tf.nn.max_pool``);
- average: padded cells are *not counted* (``tf.nn.avg_pool`` with 'SAME')::

      y[i] = sum(x[j] for j in window(i) if j is a real cell) / #(real cells in window(i))

  A corner window of a 3x3 pool over a padded border therefore averages 4 (2-D) cells, not 9. torch's
  ``count_include_pad=False`` expresses this only for symmetric padding; here the count is the same pooling
  applied to a padded map of ones.

As in Keras, ``stride`` defaults to ``kernel_size``.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ptref.nn.padding import pad_same


class _PoolSame:
    """TF 'same' padding before a torch pooling class (mixed in before it)."""

    def __init__(self, kernel_size: int | tuple[int, ...], stride: int | tuple[int, ...] | None = None) -> None:
        super().__init__(kernel_size, stride)


class _MaxPoolSame(_PoolSame):
    def forward(self, x: Tensor) -> Tensor:
        return super().forward(pad_same(x, self.kernel_size, self.stride, value=float("-inf")))


class _AvgPoolSame(_PoolSame):
    def forward(self, x: Tensor) -> Tensor:
        # Both poolings divide by the window's volume, which cancels: sum over real cells / count of real cells.
        ones = torch.ones((1, 1, *x.shape[2:]), dtype=x.dtype, device=x.device)
        real_cells = super().forward(pad_same(ones, self.kernel_size, self.stride))
        return super().forward(pad_same(x, self.kernel_size, self.stride)) / real_cells


class MaxPool1dSame(_MaxPoolSame, nn.MaxPool1d):
    """Max over windows of ``(N, C, L)``. TF: ``keras.layers.MaxPooling1D(pool_size, strides, 'same')``."""


class MaxPool2dSame(_MaxPoolSame, nn.MaxPool2d):
    """Max over windows of ``(N, C, H, W)``. TF: ``keras.layers.MaxPooling2D(pool_size, strides, 'same')``."""


class MaxPool3dSame(_MaxPoolSame, nn.MaxPool3d):
    """Max over windows of ``(N, C, D, H, W)``. TF: ``keras.layers.MaxPooling3D(pool_size, strides, 'same')``."""


class AvgPool1dSame(_AvgPoolSame, nn.AvgPool1d):
    """Mean of the real cells of each window of ``(N, C, L)``. TF: ``keras.layers.AveragePooling1D(..., 'same')``."""


class AvgPool2dSame(_AvgPoolSame, nn.AvgPool2d):
    """Mean of the real cells of each window of ``(N, C, H, W)``. TF: ``keras.layers.AveragePooling2D(..., 'same')``."""


class AvgPool3dSame(_AvgPoolSame, nn.AvgPool3d):
    """Mean of the real cells of each window of ``(N, C, D, H, W)``. TF: ``keras.layers.AveragePooling3D(...,
    'same')``."""
