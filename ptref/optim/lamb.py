"""Keras's LAMB (``keras.optimizers.Lamb``) as a ``torch.optim.Optimizer``."""

from __future__ import annotations

from typing import Any, Unpack

import torch
from torch import Tensor

from ptref.optim.base import BELOW_ONE, NON_NEGATIVE, KerasOptimizer, KerasOptions, LearningRate, Params, power
from ptref.optim.sparse import Gradient, dense, square_then_sum


class Lamb(KerasOptimizer):
    """Layer-wise adaptive Adam, Keras's update rule and defaults (TF: ``keras.optimizers.Lamb``).

    With ``t = iterations + 1``::

        m = m + (g - m) * (1 - beta_1)
        v = v + (g**2 - v) * (1 - beta_2)
        update = (m / (1 - beta_1**t)) / (sqrt(v / (1 - beta_2**t)) + epsilon)
        ratio = ||w|| / ||update||      (1 if either norm is 0; norms over the whole tensor)
        w = w - ratio * lr * update

    Unlike Keras's Adam, ``epsilon`` is added to the bias-corrected ``sqrt(v_hat)``. No ``torch.optim`` twin.

    Args:
        params: parameters or param groups.
        learning_rate: float, schedule or callable. Keras default 0.001.
        beta_1: Default 0.9.
        beta_2: Default 0.999.
        epsilon: Default 1e-7.
        weight_decay, clipnorm, clipvalue, global_clipnorm, **options (:class:`~ptref.optim.base.KerasOptions`):
            see :class:`~ptref.optim.base.KerasOptimizer`.
    """

    RANGES = {"beta_1": BELOW_ONE, "beta_2": BELOW_ONE, "epsilon": NON_NEGATIVE}
    SPARSE_UPDATE = True

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
        state["v"] = torch.zeros_like(param)

    def update_step(
        self, grad: Gradient, param: Tensor, lr: float, t: int, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        m, v = state["m"], state["v"]
        m.add_((dense(grad) - m) * (1 - group["beta_1"]))
        v.add_((square_then_sum(grad) - v) * (1 - group["beta_2"]))
        m_hat = m / (1 - power(group["beta_1"], t, param))
        update = m_hat / (torch.sqrt(v / (1 - power(group["beta_2"], t, param))) + group["epsilon"])
        w_norm, update_norm = torch.linalg.vector_norm(param), torch.linalg.vector_norm(update)
        ratio = torch.where((w_norm > 0) & (update_norm > 0), w_norm / update_norm, 1.0)
        param.sub_(ratio * lr * update)
