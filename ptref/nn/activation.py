"""Keras's general ReLU layer (torch's ``nn.ReLU``, ``nn.ReLU6`` and ``nn.LeakyReLU`` are its special cases)."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class ReLU(nn.Module):
    """TF: ``keras.layers.ReLU(max_value, negative_slope, threshold)`` (``keras.activations.relu``'s code)::

        kept = x if x > threshold else 0,   clipped to [0, max_value] when max_value is set
        y = kept - negative_slope * relu(threshold - x)
    """

    def __init__(self, max_value: float | None = None, negative_slope: float = 0.0, threshold: float = 0.0) -> None:
        super().__init__()
        self.max_value, self.negative_slope, self.threshold = max_value, negative_slope, threshold

    def forward(self, x: Tensor) -> Tensor:
        kept = torch.where(x > self.threshold, x, torch.zeros_like(x))
        if self.max_value is not None:
            kept = torch.clamp(kept, 0.0, self.max_value)
        return kept - self.negative_slope * torch.relu(self.threshold - x)

    def extra_repr(self) -> str:
        return f"max_value={self.max_value}, negative_slope={self.negative_slope}, threshold={self.threshold}"
