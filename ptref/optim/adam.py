"""Keras's Adam (``keras.optimizers.Adam``) as a ``torch.optim.Optimizer``."""

from __future__ import annotations

from typing import Any, Unpack

import torch
from torch import Tensor

from ptref.optim import multi_tensor
from ptref.optim.base import BELOW_ONE, NON_NEGATIVE, KerasOptimizer, KerasOptions, LearningRate, Params, power
from ptref.optim.sparse import Gradient, dense, square_then_sum


class Adam(KerasOptimizer):
    """Adam with Keras's update rule and defaults (TF: ``keras.optimizers.Adam``).

    With ``t = iterations + 1``::

        m = m + (g - m) * (1 - beta_1)
        v = v + (g**2 - v) * (1 - beta_2)
        v_hat = max(v_hat, v)                   (amsgrad only; then v_hat replaces v below)
        alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)
        w = w - m * alpha / (sqrt(v) + epsilon)

    Keras adds ``epsilon`` to the *uncorrected* ``sqrt(v)`` ("epsilon hat"); ``torch.optim.Adam`` adds its
    ``eps`` to ``sqrt(v / (1 - beta_2**t))``, so the two agree only with ``eps = epsilon / sqrt(1 - beta_2**t)``.

    Args:
        params: parameters or param groups.
        learning_rate: float or schedule. Keras default 0.001.
        beta_1: decay of the first-moment estimate. Default 0.9.
        beta_2: decay of the second-moment estimate. Default 0.999.
        epsilon: Keras default 1e-7 (torch: 1e-8, placed differently).
        amsgrad: use the running maximum of ``v``.
        weight_decay, clipnorm, clipvalue, global_clipnorm, **options (:class:`~ptref.optim.base.KerasOptions`):
            see :class:`~ptref.optim.base.KerasOptimizer`.
    """

    RANGES = {"beta_1": BELOW_ONE, "beta_2": BELOW_ONE, "epsilon": NON_NEGATIVE}
    SPARSE_UPDATE = True
    multi_tensor_step = multi_tensor.adam

    def __init__(
        self,
        params: Params,
        learning_rate: LearningRate = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        **options: Unpack[KerasOptions],
    ) -> None:
        super().__init__(
            params, learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, options,
            beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, amsgrad=amsgrad,
        )

    def build(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        state["m"] = torch.zeros_like(param)
        state["v"] = torch.zeros_like(param)
        if group["amsgrad"]:
            state["v_hat"] = torch.zeros_like(param)

    def update_step(
        self, grad: Gradient, param: Tensor, lr: float, t: int, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        beta_1, beta_2, epsilon = group["beta_1"], group["beta_2"], group["epsilon"]
        m, v = state["m"], state["v"]
        alpha = lr * torch.sqrt(1 - power(beta_2, t, param)) / (1 - power(beta_1, t, param))
        m.add_((dense(grad) - m) * (1 - beta_1))
        v.add_((square_then_sum(grad) - v) * (1 - beta_2))
        if group["amsgrad"]:
            v_hat = state["v_hat"]
            v_hat.copy_(torch.maximum(v_hat, v))
            v = v_hat
        param.sub_(m * alpha / (torch.sqrt(v) + epsilon))
