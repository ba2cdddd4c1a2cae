"""Keras's Adadelta (``keras.optimizers.Adadelta``) as a ``torch.optim.Optimizer``."""

from __future__ import annotations

from typing import Any, Unpack

import torch
from torch import Tensor

from ptref.optim import multi_tensor
from ptref.optim.base import NON_NEGATIVE, UNIT, KerasOptimizer, KerasOptions, LearningRate, Params
from ptref.optim.sparse import Gradient, dense, rowwise, square_then_sum


class Adadelta(KerasOptimizer):
    """Adadelta with Keras's defaults (TF: ``keras.optimizers.Adadelta``).

    With ``rms(x) = sqrt(x + epsilon)``::

        acc_g = rho * acc_g + (1 - rho) * g**2
        delta = -rms(acc_delta) * g / rms(acc_g)
        acc_delta = rho * acc_delta + (1 - rho) * delta**2
        w = w + lr * delta

    The algebra is ``torch.optim.Adadelta``'s; only the defaults differ, and
    ``torch.optim.Adadelta(lr=0.001, rho=0.95, eps=1e-7)`` is the exact native map.

    Args:
        params: parameters or param groups.
        learning_rate: float or schedule. Keras default 0.001 (torch: 1.0).
        rho: decay rate. Default 0.95 (torch: 0.9).
        epsilon: Default 1e-7 (torch: 1e-6).
        weight_decay, clipnorm, clipvalue, global_clipnorm, **options (:class:`~ptref.optim.base.KerasOptions`):
            see :class:`~ptref.optim.base.KerasOptimizer`.
    """

    RANGES = {"rho": UNIT, "epsilon": NON_NEGATIVE}
    SPARSE_UPDATE = True
    multi_tensor_step = multi_tensor.adadelta

    def __init__(
        self,
        params: Params,
        learning_rate: LearningRate = 0.001,
        rho: float = 0.95,
        epsilon: float = 1e-7,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        **options: Unpack[KerasOptions],
    ) -> None:
        super().__init__(
            params, learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, options, rho=rho, epsilon=epsilon
        )

    def build(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        state["accumulated_grad"] = torch.zeros_like(param)
        state["accumulated_delta"] = torch.zeros_like(param)

    def update_step(
        self, grad: Gradient, param: Tensor, lr: float, t: int, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        rho, epsilon = group["rho"], group["epsilon"]
        acc_g, acc_delta = state["accumulated_grad"], state["accumulated_delta"]
        acc_g.copy_(rho * acc_g + (1 - rho) * square_then_sum(grad))
        rms_delta, rms_g = torch.sqrt(acc_delta + epsilon), torch.sqrt(acc_g + epsilon)
        delta = rowwise(grad, lambda g, rows: -(rms_delta[rows] * g) / rms_g[rows])
        acc_delta.copy_(rho * acc_delta + (1 - rho) * square_then_sum(delta))
        param.add_(lr * dense(delta))
