"""Keras's Adagrad (``keras.optimizers.Adagrad``) as a ``torch.optim.Optimizer``."""

from __future__ import annotations

from typing import Any, Unpack

import torch
from torch import Tensor

from ptref.optim import multi_tensor
from ptref.optim.base import NON_NEGATIVE, KerasOptimizer, KerasOptions, LearningRate, Params
from ptref.optim.sparse import Gradient, dense, square_then_sum


class Adagrad(KerasOptimizer):
    """Adagrad with Keras's update rule and defaults (TF: ``keras.optimizers.Adagrad``).

    ::

        acc = initial_accumulator_value        (once, when the parameter is first updated)
        acc = acc + g**2
        w = w - lr * g / sqrt(acc + epsilon)

    ``torch.optim.Adagrad`` starts the accumulator at 0 and computes ``sqrt(acc) + eps``; the exact native map
    is ``Adagrad(lr, initial_accumulator_value=initial_accumulator_value + epsilon, eps=0)``.

    Args:
        params: parameters or param groups.
        learning_rate: float or schedule. Keras default 0.001 (torch: 0.01).
        initial_accumulator_value: Default 0.1 (torch: 0).
        epsilon: Default 1e-7, inside the sqrt.
        weight_decay, clipnorm, clipvalue, global_clipnorm, **options (:class:`~ptref.optim.base.KerasOptions`):
            see :class:`~ptref.optim.base.KerasOptimizer`.
    """

    RANGES = {"initial_accumulator_value": NON_NEGATIVE, "epsilon": NON_NEGATIVE}
    SPARSE_UPDATE = True
    multi_tensor_step = multi_tensor.adagrad

    def __init__(
        self,
        params: Params,
        learning_rate: LearningRate = 0.001,
        initial_accumulator_value: float = 0.1,
        epsilon: float = 1e-7,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        **options: Unpack[KerasOptions],
    ) -> None:
        super().__init__(
            params, learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, options,
            initial_accumulator_value=initial_accumulator_value, epsilon=epsilon,
        )

    def build(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        state["accumulator"] = torch.full_like(param, group["initial_accumulator_value"])

    def update_step(
        self, grad: Gradient, param: Tensor, lr: float, t: int, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        acc = state["accumulator"]
        acc.add_(square_then_sum(grad))
        param.sub_(lr * dense(grad) / torch.sqrt(acc + group["epsilon"]))
