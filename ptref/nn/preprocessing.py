"""Keras's preprocessing layers that are part of a model's forward pass: Rescaling and Normalization."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn


class Rescaling(nn.Module):
    """``x * scale + offset``; a sequence scales the last axis (Keras's channels). TF: ``keras.layers.Rescaling``."""

    def __init__(self, scale: float | Sequence[float], offset: float | Sequence[float] = 0.0) -> None:
        super().__init__()
        # constants of the architecture, not state: left out of state_dict as Keras leaves them out of weights
        self.register_buffer("scale", torch.as_tensor(scale, dtype=torch.float32), persistent=False)
        self.register_buffer("offset", torch.as_tensor(offset, dtype=torch.float32), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        return x * self.scale + self.offset


class Normalization(nn.Module):
    """Standardize the last axis with fixed statistics. TF: ``keras.layers.Normalization`` (after ``adapt``)::

        y = (x - mean) / max(sqrt(variance), 1e-7)        (1e-7: keras.backend.epsilon())

    Buffers ``mean``, ``variance`` and ``count`` carry Keras's weights of the same names (``count``, the number
    of samples ``adapt`` saw, is kept only so every Keras weight has a torch twin).
    """

    def __init__(self, features: int, epsilon: float = 1e-7) -> None:
        super().__init__()
        self.epsilon = epsilon
        self.register_buffer("mean", torch.zeros(features))
        self.register_buffer("variance", torch.ones(features))
        self.register_buffer("count", torch.zeros((), dtype=torch.int64))

    def forward(self, x: Tensor) -> Tensor:
        return (x - self.mean) / torch.clamp(torch.sqrt(self.variance), min=self.epsilon)
