"""The weight conversions of a ported model's ``keras_map()``: ``(to_torch, to_keras)`` pairs on NumPy arrays.

==========================================  ==========================================  ====================
Keras                                       torch                                       pair
==========================================  ==========================================  ====================
Dense kernel ``(in, out)``                  Linear weight ``(out, in)``                 :func:`dense_kernel`
Conv kernel ``(*k, in, out)``               Conv weight ``(out, in, *k)``               :func:`conv_kernel`
Conv2DTranspose kernel ``(*k, out, in)``    ConvTranspose weight ``(in, out, *k)``      :func:`conv_kernel`
Depthwise kernel ``(*k, C, m)``             Conv weight ``(C*m, 1, *k)``, groups=C      :func:`depthwise_kernel`
==========================================  ==========================================  ====================

Every other weight (biases, normalization statistics, embeddings, recurrent kernels held in Keras's layout by
``ptref.nn``) is the same array on both sides. All conversions are permutations and reshapes: exact both ways.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Pair = tuple[Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]


def dense_kernel() -> Pair:
    """Transpose both ways: ``(in, out) <-> (out, in)``."""
    return np.transpose, np.transpose


def conv_kernel() -> Pair:
    """``(*k, a, b) -> (b, a, *k)`` and back, for any number of spatial axes."""

    def to_torch(kernel: np.ndarray) -> np.ndarray:
        return np.transpose(kernel, (kernel.ndim - 1, kernel.ndim - 2, *range(kernel.ndim - 2)))

    def to_keras(weight: np.ndarray) -> np.ndarray:
        return np.transpose(weight, (*range(2, weight.ndim), 1, 0))

    return to_torch, to_keras


def depthwise_kernel(depth_multiplier: int) -> Pair:
    """Keras ``(*k, C, m)`` <-> torch ``(C*m, 1, *k)``: output channel ``c * m + j`` is Keras's ``[..., c, j]``."""
    to_conv, from_conv = conv_kernel()

    def to_torch(kernel: np.ndarray) -> np.ndarray:
        return to_conv(kernel.reshape(*kernel.shape[:-2], 1, -1))

    def to_keras(weight: np.ndarray) -> np.ndarray:
        kernel = from_conv(weight)
        return kernel.reshape(*kernel.shape[:-2], -1, depth_multiplier)

    return to_torch, to_keras
