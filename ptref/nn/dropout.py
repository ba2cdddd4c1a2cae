"""Dropout with its mask drawn in one vectorized pass.

TF: ``keras.layers.Dropout(rate)``: in training each element is kept with probability ``1 - rate`` and scaled by
``1 / (1 - rate)``; at inference the layer is the identity::

    mask = (uniform(shape) >= rate) / (1 - rate)          # Keras: tf.nn.dropout
    y    = x * mask

PyTorch's ``nn.Dropout`` computes the same thing, but draws its mask with ``bernoulli_``, which runs on one thread
element by element on CPU; here the mask is ``rand_like(x)`` compared and scaled in place (two vectorized passes
over one buffer). Same distribution, another random stream: a model with this Dropout draws different masks than
one with ``nn.Dropout`` from the same seed (both are seeded, so runs still repeat exactly).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class Dropout(nn.Module):
    """``y = x · [u > rate] / (1 - rate)``, ``u ~ U[0, 1)`` per element, in training; ``y = x`` otherwise.

    Args:
        rate: the probability of dropping an element (Keras's ``rate``, torch's ``p``), in ``[0, 1)``.
    """

    def __init__(self, rate: float = 0.5) -> None:
        super().__init__()
        if not 0 <= rate < 1:
            raise ValueError(f"Dropout rate must be in [0, 1), got {rate}")
        self.rate = rate

    def forward(self, x: Tensor) -> Tensor:
        if not self.training or self.rate == 0:
            return x
        mask = torch.rand_like(x).gt_(self.rate).mul_(1 / (1 - self.rate))
        return x * mask

    def extra_repr(self) -> str:
        return f"rate={self.rate}"
