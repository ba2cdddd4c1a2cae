"""Keras's SeparableConv2D and Conv2DTranspose as torch modules (channels first), TF's padding included.

``SeparableConv2D`` is a depthwise convolution (``groups = in_channels``, ``depth_multiplier`` filters per input
channel, strides and padding of the layer) followed by a 1x1 pointwise one carrying the bias.

``Conv2DTranspose`` computes the full transposed convolution, of length ``L = (n - 1) * s + (k - 1) * d + 1`` per
axis, then keeps Keras's window of it (TF's ``conv2d_transpose``, the gradient of a strided convolution)::

    'valid': cells [0, (n - 1) * s + max(k_eff, s))       (zeros past L when s > k_eff)
    'same':  cells [b, b + n * s),  b = max(k_eff - s, 0) // 2     (the extra cell is cut after)

``nn.ConvTranspose2d``'s symmetric ``padding`` cuts the odd cell before instead: a one-pixel shift.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from ptref.nn.padding import pad_same


class SeparableConv2d(nn.Module):
    """Depthwise then pointwise convolution. TF: ``keras.layers.SeparableConv2D`` (``padding`` 'valid' or TF's
    'same'). Keras's ``depthwise_kernel (kh, kw, C, m)`` is ``depthwise.weight (C*m, 1, kh, kw)``, its
    ``pointwise_kernel (1, 1, C*m, out)`` is ``pointwise.weight (out, C*m, 1, 1)``."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: tuple[int, int],
        stride: tuple[int, int] = (1, 1),
        padding: str = "valid",
        dilation: tuple[int, int] = (1, 1),
        depth_multiplier: int = 1,
        bias: bool = True,
    ) -> None:
        super().__init__()
        self.same = padding == "same"
        width = in_channels * depth_multiplier
        self.depthwise = nn.Conv2d(in_channels, width, kernel_size, stride, 0, dilation, in_channels, bias=False)
        self.pointwise = nn.Conv2d(width, out_channels, 1, bias=bias)

    def forward(self, x: Tensor) -> Tensor:
        if self.same:
            x = pad_same(x, self.depthwise.kernel_size, self.depthwise.stride, self.depthwise.dilation)
        return self.pointwise(self.depthwise(x))


class ConvTranspose2d(nn.ConvTranspose2d):
    """``nn.ConvTranspose2d`` cut to Keras's output window. TF: ``keras.layers.Conv2DTranspose(..., padding)``.

    Keras's kernel ``(kh, kw, out, in)`` is ``weight (in, out, kh, kw)``: ``permute(3, 2, 0, 1)``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: tuple[int, int],
        stride: tuple[int, int] = (1, 1),
        padding: str = "valid",
        dilation: tuple[int, int] = (1, 1),
        bias: bool = True,
    ) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, bias=bias, dilation=dilation)
        self.keras_padding = padding

    def forward(self, x: Tensor) -> Tensor:
        full = super().forward(x)
        pads: list[int] = []
        for n, length, k, s, d in reversed(
            list(zip(x.shape[2:], full.shape[2:], self.kernel_size, self.stride, self.dilation))
        ):
            effective = (k - 1) * d + 1
            if self.keras_padding == "same":
                before, size = max(effective - s, 0) // 2, n * s
            else:
                before, size = 0, (n - 1) * s + max(effective, s)
            pads.extend((-before, size - (length - before)))  # F.pad: < 0 cuts, > 0 adds zeros
        return F.pad(full, pads)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, keras_padding={self.keras_padding!r}"
