"""Keras's ``IndexedSlices`` gradients: one row per token occurrence, as an Embedding's gradient reaches a Keras
optimizer on TensorFlow (torch's twin: ``nn.Embedding(sparse=True)``, an uncoalesced sparse gradient).

Keras's ops keep an ``IndexedSlices`` sparse while they act row by row (``ops.square``, ``ops.abs``, a product or
quotient with a scalar, ``clip``, ``tf.clip_by_norm``) and sum the duplicate rows only where an op needs a dense
tensor (adding or subtracting a dense tensor, ``maximum``, ``sum``). So a term linear in ``g`` is the same either
way, but Adam's ``ops.subtract(ops.square(g), v)`` gives ``sum_i g_i**2`` for a row that occurs at ``i = 1..n``,
where the dense gradient gives ``(sum_i g_i)**2``. An ``update_step`` says where Keras sums with these helpers:
:func:`dense` (sum first), :func:`square_then_sum`, :func:`abs_then_sum`; on a dense gradient they are the plain ops.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass(frozen=True)
class IndexedSlices:
    """``tf.IndexedSlices``: ``values[i]`` is row ``indices[i]`` of a ``dense_shape`` gradient; rows may repeat."""

    indices: Tensor
    values: Tensor
    dense_shape: torch.Size

    @classmethod
    def from_sparse(cls, grad: Tensor) -> IndexedSlices:
        """The rows of a sparse COO gradient with one sparse dimension, duplicates kept (not coalesced)."""
        if grad.sparse_dim() != 1:
            raise ValueError(f"a sparse gradient must index rows only (sparse_dim 1), got {grad.sparse_dim()}")
        return cls(grad._indices()[0], grad._values(), grad.shape)

    def map_values(self, function: Callable[[Tensor], Tensor]) -> IndexedSlices:
        """The same rows with ``function`` applied to their values (Keras's row-by-row ops)."""
        return IndexedSlices(self.indices, function(self.values), self.dense_shape)

    def to_dense(self) -> Tensor:
        """Duplicate rows summed into a dense tensor (``tf.convert_to_tensor``: ``unsorted_segment_sum``)."""
        zeros = self.values.new_zeros(self.dense_shape)
        return zeros.index_add_(0, self.indices, self.values)


Gradient = Tensor | IndexedSlices


def as_gradient(grad: Tensor) -> Gradient:
    """A parameter's ``.grad`` as the optimizer sees it: sparse -> :class:`IndexedSlices`, dense unchanged."""
    return IndexedSlices.from_sparse(grad) if grad.layout == torch.sparse_coo else grad


def dense(grad: Gradient) -> Tensor:
    """``g`` where Keras's op densifies it first (``g - m``, ``a + g``): occurrences summed."""
    return grad.to_dense() if isinstance(grad, IndexedSlices) else grad


def square_then_sum(grad: Gradient) -> Tensor:
    """``ops.square(g)`` then a densifying op: each occurrence squared, then summed per row (dense: ``g**2``)."""
    return grad.map_values(torch.square).to_dense() if isinstance(grad, IndexedSlices) else grad.square()


def abs_then_sum(grad: Gradient) -> Tensor:
    """``ops.abs(g)`` then a densifying op: each occurrence's absolute value, then summed per row (dense: ``|g|``)."""
    return grad.map_values(torch.abs).to_dense() if isinstance(grad, IndexedSlices) else grad.abs()


def values(grad: Gradient) -> Tensor:
    """The numbers Keras reduces over for a norm: the occurrences' rows (dense: the tensor)."""
    return grad.values if isinstance(grad, IndexedSlices) else grad


def rowwise(grad: Gradient, function: Callable[[Tensor, Tensor | slice], Tensor]) -> Gradient:
    """``function(g, rows)`` on the occurrences' rows, kept sparse (``rows``: their indices, to pick the matching
    rows of a dense tensor), as Keras multiplies or divides an ``IndexedSlices`` by a dense tensor; on a dense
    gradient ``function(g, slice(None))``."""
    if isinstance(grad, IndexedSlices):
        return grad.map_values(lambda rows_values: function(rows_values, grad.indices))
    return function(grad, slice(None))
