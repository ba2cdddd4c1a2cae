"""Keras's Adamax (``keras.optimizers.Adamax``) as a ``torch.optim.Optimizer``."""

from __future__ import annotations

from typing import Any, Unpack

import torch
from torch import Tensor

from ptref.optim import multi_tensor
from ptref.optim.base import BELOW_ONE, NON_NEGATIVE, KerasOptimizer, KerasOptions, LearningRate, Params, power
from ptref.optim.sparse import Gradient, abs_then_sum, dense


class Adamax(KerasOptimizer):
    """Adamax (Adam with the infinity norm) with Keras's update rule (TF: ``keras.optimizers.Adamax``).

    With ``t = iterations + 1``::

        m = m + (g - m) * (1 - beta_1)
        u = max(beta_2 * u, |g|)
        w = w - lr * m / ((1 - beta_1**t) * (u + epsilon))

    ``torch.optim.Adamax`` computes ``u = max(beta_2 * u, |g| + eps)`` instead (a negligible difference).

    Args:
        params: parameters or param groups.
        learning_rate: float or schedule. Keras default 0.001 (torch: 0.002).
        beta_1: Default 0.9.
        beta_2: Default 0.999.
        epsilon: Default 1e-7 (torch: 1e-8).
        weight_decay, clipnorm, clipvalue, global_clipnorm, **options (:class:`~ptref.optim.base.KerasOptions`):
            see :class:`~ptref.optim.base.KerasOptimizer`.
    """

    RANGES = {"beta_1": BELOW_ONE, "beta_2": BELOW_ONE, "epsilon": NON_NEGATIVE}
    SPARSE_UPDATE = True
    multi_tensor_step = multi_tensor.adamax

    def __init__(
        self,
        params: Params,
        learning_rate: LearningRate = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        **options: Unpack[KerasOptions],
    ) -> None:
        super().__init__(
            params, learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, options,
            beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
        )

    def build(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        state["m"] = torch.zeros_like(param)
        state["u"] = torch.zeros_like(param)

    def update_step(
        self, grad: Gradient, param: Tensor, lr: float, t: int, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        beta_1 = group["beta_1"]
        m, u = state["m"], state["u"]
        m.add_((dense(grad) - m) * (1 - beta_1))
        torch.maximum(group["beta_2"] * u, abs_then_sum(grad), out=u)
        param.sub_(lr * m / ((1 - power(beta_1, t, param)) * (u + group["epsilon"])))
