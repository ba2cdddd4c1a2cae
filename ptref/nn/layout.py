"""Moving tensors and weights between Keras's channels-last layout and torch's channels-first one.

==========================  ==========================  =====================================
Keras (TF)                  torch                       convert with
==========================  ==========================  =====================================
images ``(N, H, W, C)``     ``(N, C, H, W)``            :func:`nhwc_to_nchw` / :func:`nchw_to_nhwc`
Dense kernel ``(in, out)``  Linear weight ``(out, in)`` :func:`dense_kernel_to_linear` (a transpose)
Conv2D kernel ``HWIO``      Conv2d weight ``OIHW``      :func:`conv_kernel_to_torch`
Flatten of ``(H, W, C)``    Flatten of ``(C, H, W)``    :func:`flattened_dense_kernel_to_linear` or
                                                        :class:`FlattenChannelsLast`
==========================  ==========================  =====================================

A square Dense kernel copied without the transpose, or a Dense after Flatten copied without the permutation,
runs without any error and computes something else entirely.
"""

from __future__ import annotations

from torch import Tensor, nn


def nhwc_to_nchw(x: Tensor) -> Tensor:
    """``(N, H, W, C) -> (N, C, H, W)``."""
    return x.permute(0, 3, 1, 2)


def nchw_to_nhwc(x: Tensor) -> Tensor:
    """``(N, C, H, W) -> (N, H, W, C)``."""
    return x.permute(0, 2, 3, 1)


def dense_kernel_to_linear(kernel: Tensor) -> Tensor:
    """Keras Dense kernel ``(in, out)`` -> ``nn.Linear.weight`` ``(out, in)`` (contiguous)."""
    return kernel.T.contiguous()


def conv_kernel_to_torch(kernel: Tensor) -> Tensor:
    """Keras Conv2D kernel ``(H, W, in, out)`` -> ``nn.Conv2d.weight`` ``(out, in, H, W)``."""
    return kernel.permute(3, 2, 0, 1).contiguous()


def flattened_dense_kernel_to_linear(kernel: Tensor, height: int, width: int, channels: int) -> Tensor:
    """Kernel of a Keras Dense after ``Flatten`` of an ``(H, W, C)`` map -> ``nn.Linear.weight`` after
    ``nn.Flatten`` of the ``(C, H, W)`` map.

    Keras's flat index is ``(h * W + w) * C + c``, torch's ``(c * H + h) * W + w``: the rows are permuted, then
    transposed.
    """
    out = kernel.shape[1]
    return kernel.reshape(height, width, channels, out).permute(3, 2, 0, 1).reshape(out, -1).contiguous()


class FlattenChannelsLast(nn.Module):
    """Flatten ``(N, C, H, W)`` in Keras's ``(H, W, C)`` order, so a following Linear takes Keras's Dense kernel
    (transposed) unchanged. TF: ``keras.layers.Flatten()`` on channels-last data."""

    def forward(self, x: Tensor) -> Tensor:
        return x.permute(0, *range(2, x.dim()), 1).flatten(1)
