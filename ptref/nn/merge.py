"""Keras's merge layers as torch modules: one output from several same-shaped inputs.

TF: ``keras.layers.Add()([a, b])`` is ``Add()(a, b)`` here. The elementwise ones broadcast as torch does; all are
layout-agnostic except :class:`Concatenate`, whose ``dim`` is a torch axis (Keras's ``axis=-1`` on channels-last
images is ``dim=1`` on channels-first ones).
"""

from __future__ import annotations

import functools

import torch
from torch import Tensor, nn


class Add(nn.Module):
    """``a + b + ...``. TF: ``keras.layers.Add``."""

    def forward(self, *inputs: Tensor) -> Tensor:
        return functools.reduce(torch.add, inputs)


class Subtract(nn.Module):
    """``a - b`` (exactly two inputs). TF: ``keras.layers.Subtract``."""

    def forward(self, a: Tensor, b: Tensor) -> Tensor:
        return a - b


class Multiply(nn.Module):
    """``a * b * ...``. TF: ``keras.layers.Multiply``."""

    def forward(self, *inputs: Tensor) -> Tensor:
        return functools.reduce(torch.mul, inputs)


class Average(nn.Module):
    """``(a + b + ...) / n``. TF: ``keras.layers.Average``."""

    def forward(self, *inputs: Tensor) -> Tensor:
        return functools.reduce(torch.add, inputs) / len(inputs)


class Maximum(nn.Module):
    """Elementwise ``max(a, b, ...)``. TF: ``keras.layers.Maximum``."""

    def forward(self, *inputs: Tensor) -> Tensor:
        return functools.reduce(torch.maximum, inputs)


class Minimum(nn.Module):
    """Elementwise ``min(a, b, ...)``. TF: ``keras.layers.Minimum``."""

    def forward(self, *inputs: Tensor) -> Tensor:
        return functools.reduce(torch.minimum, inputs)


class Concatenate(nn.Module):
    """``torch.cat(inputs, dim)``. TF: ``keras.layers.Concatenate(axis)`` (``dim`` is the torch axis)."""

    def __init__(self, dim: int = -1) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, *inputs: Tensor) -> Tensor:
        return torch.cat(inputs, dim=self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
