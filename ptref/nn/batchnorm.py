"""Keras's ``BatchNormalization`` for channels-first torch tensors.

It differs from ``nn.BatchNorm2d`` in three ways that all matter for parity:

- ``momentum=0.99`` means ``moving = moving * 0.99 + batch * 0.01`` (torch's ``momentum=0.1`` weighs the
  *batch* by 0.1; the map is ``torch_momentum = 1 - keras_momentum``);
- ``epsilon=1e-3`` (torch: 1e-5);
- the moving variance is updated with the *biased* batch variance (torch uses ``n / (n - 1)`` times it), which
  no ``nn.BatchNorm*`` setting can reproduce.

Keras's ``layer.trainable = False`` also switches the layer to inference mode; in torch call ``.eval()`` on
that module (``requires_grad_(False)`` alone keeps using and updating batch statistics).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class BatchNormalization(nn.Module):
    """Batch normalization over axis 1 of ``(N, C, *)`` inputs. TF: ``keras.layers.BatchNormalization``.

    Training::

        mean, var = mean(x), mean((x - mean)**2)         over every axis except 1 (biased variance)
        moving_mean = moving_mean * momentum + mean * (1 - momentum)      (same for moving_var)
        y = x * inv + (beta - mean * inv),   inv = gamma / sqrt(var + epsilon)

    Inference (``.eval()``) uses the moving statistics. Parameters and buffers carry torch's names
    (``weight`` = gamma, ``bias`` = beta, ``running_mean``, ``running_var``) so weights copy to and from
    ``nn.BatchNorm*d``.

    Args:
        num_features: channels (C).
        momentum: Keras momentum of the moving statistics. Default 0.99.
        epsilon: Default 1e-3.
        center: learn the offset beta. Default True.
        scale: learn the scale gamma. Default True.
    """

    def __init__(
        self, num_features: int, momentum: float = 0.99, epsilon: float = 1e-3, center: bool = True, scale: bool = True
    ) -> None:
        super().__init__()
        self.num_features, self.momentum, self.epsilon = num_features, momentum, epsilon
        self.weight = nn.Parameter(torch.ones(num_features)) if scale else None
        self.bias = nn.Parameter(torch.zeros(num_features)) if center else None
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))

    def forward(self, x: Tensor) -> Tensor:
        shape = (1, -1) + (1,) * (x.dim() - 2)
        if self.training:
            axes = [0, *range(2, x.dim())]
            mean = x.mean(dim=axes)
            var = torch.square(x - mean.detach().reshape(shape)).mean(dim=axes)
            with torch.no_grad():
                self.running_mean.copy_(self.running_mean * self.momentum + mean * (1.0 - self.momentum))
                self.running_var.copy_(self.running_var * self.momentum + var * (1.0 - self.momentum))
        else:
            mean, var = self.running_mean, self.running_var
        inv = torch.rsqrt(var + self.epsilon)
        if self.weight is not None:
            inv = inv * self.weight
        offset = -mean * inv if self.bias is None else self.bias - mean * inv
        return x * inv.reshape(shape) + offset.reshape(shape)

    def extra_repr(self) -> str:
        return f"{self.num_features}, momentum={self.momentum}, epsilon={self.epsilon}"
