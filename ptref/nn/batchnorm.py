"""Keras's ``BatchNormalization`` for channels-first torch tensors, batch renormalization included.

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

import math

import torch
from torch import Tensor, nn

_CLIPPING_KEYS = {"rmax", "rmin", "dmax"}


class BatchNormalization(nn.Module):
    """Batch normalization over axis 1 of ``(N, C, *)`` inputs. TF: ``keras.layers.BatchNormalization``.

    Training::

        mean, var = mean(x), mean((x - mean)**2)         over every axis except 1 (biased variance)
        moving_mean = moving_mean * momentum + mean * (1 - momentum)      (same for moving_var)
        y = x * inv + (beta - mean * inv),   inv = gamma / sqrt(var + epsilon)

    Inference (``.eval()``) uses the moving statistics. Parameters and buffers carry torch's names
    (``weight`` = gamma, ``bias`` = beta, ``running_mean``, ``running_var``) so weights copy to and from
    ``nn.BatchNorm*d``.

    Batch renormalization (``renorm=True``, Ioffe 2017; Keras's ``_renorm_correction_and_moments``,
    ``_compose_transforms`` and ``_update_renorm_statistics``) corrects the batch statistics towards moving
    ones kept with ``renorm_momentum``, using the buffers as they were *before* this batch::

        stddev = sqrt(var + epsilon)
        r = clip(stddev / max(renorm_stddev, sqrt(epsilon)), rmin, rmax)              (no gradient)
        d = clip((mean - renorm_mean) / max(renorm_stddev, sqrt(epsilon)), -dmax, dmax)  (no gradient)
        y = ((x - mean) / stddev * r + d) * gamma + beta
        renorm_mean, renorm_stddev  <- (.) * renorm_momentum + (mean, stddev) * (1 - renorm_momentum)
        moving_mean, moving_stddev  <- (.) * momentum + (mean, stddev) * (1 - momentum)
        moving_var = max(moving_stddev**2 - epsilon, 0)

    Inference is unchanged. The three extra buffers keep Keras's names (``moving_stddev``, ``renorm_mean``,
    ``renorm_stddev``; Keras's ``get_weights()`` order follows the torch buffer order).

    Args:
        num_features: channels (C).
        momentum: Keras momentum of the moving statistics. Default 0.99.
        epsilon: Default 1e-3.
        center: learn the offset beta. Default True.
        scale: learn the scale gamma. Default True.
        renorm: use batch renormalization in training. Default False.
        renorm_clipping: optional ``{"rmax": .., "rmin": .., "dmax": ..}``; a missing key does not clip.
        renorm_momentum: momentum of ``renorm_mean``/``renorm_stddev``. Default 0.99.
    """

    def __init__(
        self,
        num_features: int,
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        renorm: bool = False,
        renorm_clipping: dict[str, float] | None = None,
        renorm_momentum: float = 0.99,
    ) -> None:
        super().__init__()
        self.num_features, self.momentum, self.epsilon = num_features, momentum, epsilon
        self.weight = nn.Parameter(torch.ones(num_features)) if scale else None
        self.bias = nn.Parameter(torch.zeros(num_features)) if center else None
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))
        self.renorm, self.renorm_momentum = renorm, renorm_momentum
        self.renorm_clipping = dict(renorm_clipping or {})
        if unknown := set(self.renorm_clipping) - _CLIPPING_KEYS:
            raise ValueError(
                f"BatchNormalization: renorm_clipping keys {sorted(unknown)} unknown; use rmax, rmin, dmax"
            )
        if renorm:
            for name, start in (("moving_stddev", 1.0), ("renorm_mean", 0.0), ("renorm_stddev", 1.0)):
                self.register_buffer(name, torch.full((num_features,), start))

    def forward(self, x: Tensor) -> Tensor:
        shape = (1, -1) + (1,) * (x.dim() - 2)
        gamma, beta = self.weight, self.bias
        if self.training:
            axes = [0, *range(2, x.dim())]
            mean = x.mean(dim=axes)
            var = torch.square(x - mean.detach().reshape(shape)).mean(dim=axes)
            if self.renorm:
                gamma, beta = self._renormalized(mean, var)
            else:
                with torch.no_grad():
                    self.running_mean.copy_(self.running_mean * self.momentum + mean * (1.0 - self.momentum))
                    self.running_var.copy_(self.running_var * self.momentum + var * (1.0 - self.momentum))
        else:
            mean, var = self.running_mean, self.running_var
        inv = torch.rsqrt(var + self.epsilon)
        if gamma is not None:
            inv = inv * gamma
        offset = -mean * inv if beta is None else beta - mean * inv
        return x * inv.reshape(shape) + offset.reshape(shape)

    def _renormalized(self, mean: Tensor, var: Tensor) -> tuple[Tensor, Tensor]:
        """``(r * gamma, d * gamma + beta)`` for this batch, then the renorm and moving statistics updated."""
        with torch.no_grad():
            stddev = torch.sqrt(var + self.epsilon)
            renorm_stddev = torch.clamp(self.renorm_stddev, min=math.sqrt(self.epsilon))
            r = stddev / renorm_stddev
            d = (mean - self.renorm_mean) / renorm_stddev
            clip = self.renorm_clipping
            if clip.keys() & {"rmin", "rmax"}:
                r = r.clamp(clip.get("rmin"), clip.get("rmax"))
            if "dmax" in clip:
                d = d.clamp(-clip["dmax"], clip["dmax"])
            for moving, batch, momentum in (
                (self.renorm_mean, mean, self.renorm_momentum),
                (self.renorm_stddev, stddev, self.renorm_momentum),
                (self.running_mean, mean, self.momentum),
                (self.moving_stddev, stddev, self.momentum),
            ):
                moving.copy_(moving * momentum + batch * (1.0 - momentum))
            self.running_var.copy_(torch.relu(self.moving_stddev**2 - self.epsilon))
        gamma = r if self.weight is None else r * self.weight
        beta = d if self.weight is None else d * self.weight
        return gamma, beta if self.bias is None else beta + self.bias

    def extra_repr(self) -> str:
        renorm = f", renorm=True, renorm_momentum={self.renorm_momentum}" if self.renorm else ""
        return f"{self.num_features}, momentum={self.momentum}, epsilon={self.epsilon}{renorm}"
