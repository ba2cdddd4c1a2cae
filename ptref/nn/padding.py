"""TensorFlow's ``padding='same'`` for any rank and stride: the padding rule and the 1-D/2-D/3-D convolutions.

TF pads each spatial axis of size ``n`` (kernel ``k``, stride ``s``, dilation ``d``) by::

    total = max((ceil(n / s) - 1) * s + (k - 1) * d + 1 - n, 0)
    before = total // 2,  after = total - before            (the extra cell goes after: bottom/right)

so the output has ``ceil(n / s)`` cells. With stride 1 that is ``torch``'s ``padding='same'``; with stride 2 and
an even input TF pads *asymmetrically* (e.g. 0 before, 1 after for k=3, n=16), which no ``padding=`` argument of
``nn.Conv*d``/``nn.MaxPool*d`` can express (``padding=1`` is symmetric: a silently different result).
The same rule holds for every axis of ``Conv1D``/``Conv2D``/``Conv3D`` and the pooling layers
(``ptref.nn.pooling``), so one function serves every rank.
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
    """Pad the spatial axes of ``x`` (``N, C, *spatial``, any number of them) as TF ``padding='same'`` would.

    ``value=-inf`` gives max-pooling's padding (padded cells never win the max).
    """
    spatial = x.shape[2:]
    kernel_size, stride, dilation = (_per_axis(v, len(spatial)) for v in (kernel_size, stride, dilation))
    pads: list[int] = []
    for n, k, s, d in reversed(list(zip(spatial, kernel_size, stride, dilation))):  # F.pad wants the last axis first
        pads.extend(same_padding(n, k, s, d))
    return F.pad(x, pads, value=value)


class _ConvSame:
    """``nn.Conv{1,2,3}d`` with TF ``padding='same'`` for any stride (mixed in before the torch class)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, ...],
        stride: int | tuple[int, ...] = 1,
        dilation: int | tuple[int, ...] = 1,
        groups: int = 1,
        bias: bool = True,
    ) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, 0, dilation, groups, bias)

    def forward(self, x: Tensor) -> Tensor:
        return super().forward(pad_same(x, self.kernel_size, self.stride, self.dilation))


class Conv1dSame(_ConvSame, nn.Conv1d):
    """``nn.Conv1d`` on ``(N, C, L)`` with TF 'same' padding. TF: ``keras.layers.Conv1D(..., padding='same')``.

    Same arguments as ``nn.Conv1d`` except ``padding``. Keras kernel ``(k, in, out)`` = ``weight.permute(2, 1, 0)``.
    """


class Conv2dSame(_ConvSame, nn.Conv2d):
    """``nn.Conv2d`` with TF ``padding='same'`` for any stride. TF: ``keras.layers.Conv2D(..., padding='same')``.

    Same arguments as ``nn.Conv2d`` except ``padding`` (always TF 'same').
    """


class Conv3dSame(_ConvSame, nn.Conv3d):
    """``nn.Conv3d`` on ``(N, C, D, H, W)`` with TF 'same' padding. TF: ``keras.layers.Conv3D(..., padding='same')``.

    Same arguments as ``nn.Conv3d`` except ``padding``. Keras kernel ``(kd, kh, kw, in, out)`` =
    ``weight.permute(2, 3, 4, 1, 0)``.
    """
