"""TensorFlow's ``padding='same'`` for any stride, in convolutions and max-pooling.

TF pads each spatial axis of size ``n`` (kernel ``k``, stride ``s``, dilation ``d``) by::

    total = max((ceil(n / s) - 1) * s + (k - 1) * d + 1 - n, 0)
    before = total // 2,  after = total - before            (the extra cell goes after: bottom/right)

so the output has ``ceil(n / s)`` cells. With stride 1 that is ``torch``'s ``padding='same'``; with stride 2 and
an even input TF pads *asymmetrically* (e.g. 0 before, 1 after for k=3, n=16), which no ``padding=`` argument of
``nn.Conv2d``/``nn.MaxPool2d`` can express (``padding=1`` is symmetric: a silently different result).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch.nn.functional as F
from torch import Tensor, nn


def same_padding(size: int, kernel_size: int, stride: int = 1, dilation: int = 1) -> tuple[int, int]:
    """``(before, after)`` padding TF uses for one axis with ``padding='same'``."""
    total = max((math.ceil(size / stride) - 1) * stride + (kernel_size - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def _per_axis(value: int | Sequence[int], n: int) -> tuple[int, ...]:
    return (value,) * n if isinstance(value, int) else tuple(value)


def pad_same(
    x: Tensor,
    kernel_size: int | Sequence[int],
    stride: int | Sequence[int] = 1,
    dilation: int | Sequence[int] = 1,
    value: float = 0.0,
) -> Tensor:
    """Pad the spatial axes of ``x`` (``N, C, *spatial``) as TF ``padding='same'`` would.

    ``value=-inf`` gives max-pooling's padding (padded cells never win the max).
    """
    spatial = x.shape[2:]
    kernel_size, stride, dilation = (_per_axis(v, len(spatial)) for v in (kernel_size, stride, dilation))
    pads: list[int] = []
    for n, k, s, d in reversed(list(zip(spatial, kernel_size, stride, dilation))):  # F.pad wants the last axis first
        pads.extend(same_padding(n, k, s, d))
    return F.pad(x, pads, value=value)


class Conv2dSame(nn.Conv2d):
    """``nn.Conv2d`` with TF ``padding='same'`` for any stride. TF: ``keras.layers.Conv2D(..., padding='same')``.

    Same arguments as ``nn.Conv2d`` except ``padding`` (always TF 'same').
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        dilation: int | tuple[int, int] = 1,
        groups: int = 1,
        bias: bool = True,
    ) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, 0, dilation, groups, bias)

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(pad_same(x, self.kernel_size, self.stride, self.dilation))


class MaxPool2dSame(nn.MaxPool2d):
    """``nn.MaxPool2d`` with TF ``padding='same'``. TF: ``keras.layers.MaxPooling2D(pool_size, strides, 'same')``.

    As in Keras, ``stride`` defaults to ``kernel_size``.
    """

    def __init__(self, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None) -> None:
        super().__init__(kernel_size, stride)

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(pad_same(x, self.kernel_size, self.stride, value=float("-inf")))
