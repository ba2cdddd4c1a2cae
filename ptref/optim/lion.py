"""Keras's Lion (``keras.optimizers.Lion``) as a ``torch.optim.Optimizer``."""

from __future__ import annotations

from typing import Any, Unpack

import torch
from torch import Tensor

from ptref.optim import multi_tensor
from ptref.optim.base import UNIT, Interval, KerasOptimizer, KerasOptions, LearningRate, Params


class Lion(KerasOptimizer):
    """EvoLved Sign Momentum, Keras's update rule and defaults (TF: ``keras.optimizers.Lion``).

    ::

        w = w - lr * sign(beta_1 * m + (1 - beta_1) * g)
        m = beta_2 * m + (1 - beta_2) * g

    No ``torch.optim`` twin. Lion's steps have size ``lr`` in every coordinate: use a 3-10x smaller learning
    rate than for Adam.

    Args:
        params: parameters or param groups.
        learning_rate: float, schedule or callable. Keras default 0.001.
        beta_1: in (0, 1] (0 would make it SignSGD, which Keras refuses). Default 0.9.
        beta_2: Default 0.99.
        weight_decay, clipnorm, clipvalue, global_clipnorm, **options (:class:`~ptref.optim.base.KerasOptions`):
            see :class:`~ptref.optim.base.KerasOptimizer`.
    """

    RANGES = {"beta_1": Interval(0.0, 1.0, closed=True), "beta_2": UNIT}
    multi_tensor_step = multi_tensor.lion

    def __init__(
        self,
        params: Params,
        learning_rate: LearningRate = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.99,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        **options: Unpack[KerasOptions],
    ) -> None:
        if beta_1 <= 0:
            raise ValueError(f"Lion: beta_1 must be in (0, 1] (0 degenerates to SignSGD), got {beta_1}")
        super().__init__(
            params, learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, options,
            beta_1=beta_1, beta_2=beta_2,
        )

    def build(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        state["momentum"] = torch.zeros_like(param)

    def update_step(
        self, grad: Tensor, param: Tensor, lr: float, t: int, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        beta_1, beta_2 = group["beta_1"], group["beta_2"]
        m = state["momentum"]
        param.sub_(lr * torch.sign(m * beta_1 + grad * (1.0 - beta_1)))
        m.copy_(m * beta_2 + grad * (1.0 - beta_2))
