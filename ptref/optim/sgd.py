"""Keras's SGD (``keras.optimizers.SGD``) as a ``torch.optim.Optimizer``."""

from __future__ import annotations

from typing import Any, Unpack

import torch
from torch import Tensor

from ptref.optim import multi_tensor
from ptref.optim.base import UNIT, KerasOptimizer, KerasOptions, LearningRate, Params


class SGD(KerasOptimizer):
    """Gradient descent with Keras's momentum form and defaults (TF: ``keras.optimizers.SGD``).

    ::

        momentum == 0:   w = w - lr * g
        otherwise:       v = momentum * v - lr * g
                         w = w + v                          (nesterov=False)
                         w = w + momentum * v - lr * g      (nesterov=True)

    Keras keeps ``lr`` *inside* the velocity; ``torch.optim.SGD`` keeps ``b = momentum * b + g`` and multiplies
    by the *current* lr, which is the same only while the learning rate is constant.

    Args:
        params: parameters or param groups.
        learning_rate: float or schedule. Keras default 0.01 (torch: 0.001).
        momentum: in [0, 1]. Default 0.
        nesterov: Nesterov momentum. Default False.
        weight_decay, clipnorm, clipvalue, global_clipnorm, **options (:class:`~ptref.optim.base.KerasOptions`):
            see :class:`~ptref.optim.base.KerasOptimizer`.
    """

    RANGES = {"momentum": UNIT}
    multi_tensor_step = multi_tensor.sgd

    def __init__(
        self,
        params: Params,
        learning_rate: LearningRate = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        **options: Unpack[KerasOptions],
    ) -> None:
        super().__init__(
            params, learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, options,
            momentum=momentum, nesterov=nesterov,
        )

    def build(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        if group["momentum"]:
            state["velocity"] = torch.zeros_like(param)

    def update_step(
        self, grad: Tensor, param: Tensor, lr: float, t: int, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        momentum = group["momentum"]
        if not momentum:
            param.sub_(grad * lr)
            return
        v = state["velocity"]
        v.copy_(v * momentum - grad * lr)
        if group["nesterov"]:
            param.add_(v * momentum - grad * lr)
        else:
            param.add_(v)
