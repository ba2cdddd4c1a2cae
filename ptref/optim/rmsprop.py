"""Keras's RMSprop (``keras.optimizers.RMSprop``) as a ``torch.optim.Optimizer``."""

from __future__ import annotations

from typing import Any, Unpack

import torch
from torch import Tensor

from ptref.optim import multi_tensor
from ptref.optim.base import NON_NEGATIVE, UNIT, KerasOptimizer, KerasOptions, LearningRate, Params
from ptref.optim.sparse import Gradient, dense, square_then_sum


class RMSprop(KerasOptimizer):
    """RMSprop with Keras's update rule and defaults (TF: ``keras.optimizers.RMSprop``).

    ::

        v = rho * v + (1 - rho) * g**2
        a = rho * a + (1 - rho) * g                 (centered only)
        den = v - a**2 + epsilon  if centered  else  v + epsilon
        inc = lr * g / sqrt(den)
        m = momentum * m + inc;  w = w - m          (momentum > 0)
        w = w - inc                                 (otherwise)

    ``epsilon`` sits *inside* the square root; ``torch.optim.RMSprop`` computes ``sqrt(v) + eps``, and no
    torch setting reproduces this. Keras also keeps ``lr`` inside the momentum buffer.

    Args:
        params: parameters or param groups.
        learning_rate: float or schedule. Keras default 0.001 (torch: 0.01).
        rho: decay of the squared-gradient average. Default 0.9 (torch ``alpha``: 0.99).
        momentum: Default 0.
        epsilon: Default 1e-7 (torch: 1e-8, outside the sqrt).
        centered: subtract the squared mean gradient. Default False.
        weight_decay, clipnorm, clipvalue, global_clipnorm, **options (:class:`~ptref.optim.base.KerasOptions`):
            see :class:`~ptref.optim.base.KerasOptimizer`.
    """

    RANGES = {"rho": UNIT, "momentum": UNIT, "epsilon": NON_NEGATIVE}
    SPARSE_UPDATE = True
    multi_tensor_step = multi_tensor.rmsprop

    def __init__(
        self,
        params: Params,
        learning_rate: LearningRate = 0.001,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-7,
        centered: bool = False,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        **options: Unpack[KerasOptions],
    ) -> None:
        super().__init__(
            params, learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, options,
            rho=rho, momentum=momentum, epsilon=epsilon, centered=centered,
        )

    def build(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        state["velocity"] = torch.zeros_like(param)
        if group["momentum"] > 0:
            state["momentum"] = torch.zeros_like(param)
        if group["centered"]:
            state["average_gradient"] = torch.zeros_like(param)

    def update_step(
        self, grad: Gradient, param: Tensor, lr: float, t: int, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        rho, epsilon = group["rho"], group["epsilon"]
        v = state["velocity"]
        v.copy_(rho * v + (1 - rho) * square_then_sum(grad))
        if group["centered"]:
            a = state["average_gradient"]
            a.copy_(rho * a + (1 - rho) * dense(grad))
            den = v - a.square() + epsilon
        else:
            den = v + epsilon
        inc = lr * dense(grad) / torch.sqrt(den)
        if group["momentum"] > 0:
            m = state["momentum"]
            m.copy_(group["momentum"] * m + inc)
            param.sub_(m)
        else:
            param.sub_(inc)
