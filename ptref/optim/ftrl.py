"""Keras's FTRL (``keras.optimizers.Ftrl``) as a ``torch.optim.Optimizer``."""

from __future__ import annotations

import math
from typing import Any, Unpack

import torch
from torch import Tensor

from ptref.optim.base import NON_NEGATIVE, Interval, KerasOptimizer, KerasOptions, LearningRate, Params
from ptref.optim.sparse import Gradient, dense, square_then_sum

NON_POSITIVE = Interval(-math.inf, 0.0, closed=True)


class Ftrl(KerasOptimizer):
    """Follow The Regularized Leader, Keras's update rule and defaults (TF: ``keras.optimizers.Ftrl``).

    With ``p = -learning_rate_power`` (1/2 by default), ``l1``, ``l2``, ``l2_shrinkage`` the regularization
    strengths and accumulator ``n`` starting at ``initial_accumulator_value``::

        g_shrunk = g + 2 * l2_shrinkage * w
        n_new = n + g**2
        z = z + g_shrunk - (n_new**p - n**p) / lr * w
        quadratic = n_new**p / lr + 2 * (l2 + beta / (2 * lr))
        w = (clip(z, -l1, l1) - z) / quadratic
        n = n_new

    No ``torch.optim`` twin.

    Args:
        params: parameters or param groups.
        learning_rate: float, schedule or callable. Keras default 0.001.
        learning_rate_power: <= 0. Default -0.5.
        initial_accumulator_value: >= 0. Default 0.1.
        l1_regularization_strength: >= 0. Default 0.
        l2_regularization_strength: >= 0. Default 0.
        l2_shrinkage_regularization_strength: >= 0 (acts on the gradient only). Default 0.
        beta: added to the L2 term as ``beta / (2 * lr)``. Default 0.
        weight_decay, clipnorm, clipvalue, global_clipnorm, **options (:class:`~ptref.optim.base.KerasOptions`):
            see :class:`~ptref.optim.base.KerasOptimizer`.
    """

    RANGES = {
        "learning_rate_power": NON_POSITIVE,
        "initial_accumulator_value": NON_NEGATIVE,
        "l1_regularization_strength": NON_NEGATIVE,
        "l2_regularization_strength": NON_NEGATIVE,
        "l2_shrinkage_regularization_strength": NON_NEGATIVE,
    }
    SPARSE_UPDATE = True

    def __init__(
        self,
        params: Params,
        learning_rate: LearningRate = 0.001,
        learning_rate_power: float = -0.5,
        initial_accumulator_value: float = 0.1,
        l1_regularization_strength: float = 0.0,
        l2_regularization_strength: float = 0.0,
        l2_shrinkage_regularization_strength: float = 0.0,
        beta: float = 0.0,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        **options: Unpack[KerasOptions],
    ) -> None:
        super().__init__(
            params, learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, options,
            learning_rate_power=learning_rate_power, initial_accumulator_value=initial_accumulator_value,
            l1_regularization_strength=l1_regularization_strength,
            l2_regularization_strength=l2_regularization_strength,
            l2_shrinkage_regularization_strength=l2_shrinkage_regularization_strength, beta=beta,
        )

    def build(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        state["accumulator"] = torch.full_like(param, group["initial_accumulator_value"])
        state["linear"] = torch.zeros_like(param)

    def update_step(
        self, grad: Gradient, param: Tensor, lr: float, t: int, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        lr_t = torch.tensor(lr, dtype=param.dtype)  # Keras divides by the float32 learning rate
        p = -group["learning_rate_power"]
        l1 = group["l1_regularization_strength"]
        l2 = group["l2_regularization_strength"] + group["beta"] / (2.0 * lr_t)
        n, z = state["accumulator"], state["linear"]
        g_shrunk = dense(grad) + 2 * group["l2_shrinkage_regularization_strength"] * param
        n_new = n + square_then_sum(grad)
        z.add_(g_shrunk - (n_new.pow(p) - n.pow(p)) / lr_t * param)
        quadratic = n_new.pow(p) / lr_t + 2 * l2
        param.copy_((z.clamp(-l1, l1) - z) / quadratic)
        n.copy_(n_new)
