"""Keras's Nadam (``keras.optimizers.Nadam``) as a ``torch.optim.Optimizer``."""

from __future__ import annotations

from typing import Any, Unpack

import torch
from torch import Tensor

from ptref.optim import multi_tensor
from ptref.optim.base import BELOW_ONE, NON_NEGATIVE, KerasOptimizer, KerasOptions, LearningRate, Params, power
from ptref.optim.sparse import Gradient, dense, square_then_sum


class Nadam(KerasOptimizer):
    """Adam with Nesterov momentum, Keras's update rule (TF: ``keras.optimizers.Nadam``).

    With ``t = iterations + 1``, ``u(t) = beta_1 * (1 - 0.5 * 0.96**t)`` and the running product
    ``U(t) = u(1) * ... * u(t)`` (one per optimizer, advanced once per step)::

        m = m + (g - m) * (1 - beta_1)
        v = v + (g**2 - v) * (1 - beta_2)
        m_hat = u(t+1) * m / (1 - U(t+1)) + (1 - u(t)) * g / (1 - U(t))
        v_hat = v / (1 - beta_2**t)
        w = w - m_hat * lr / (sqrt(v_hat) + epsilon)

    ``torch.optim.NAdam`` uses ``0.96 ** (0.004 * t)``; ``NAdam(momentum_decay=1.0, eps=epsilon)`` is the nearest
    native map. Keras computes these scalars in float32, and so does this class.

    Args:
        params: parameters or param groups (all with the same ``beta_1``: the product ``U`` is optimizer-wide).
        learning_rate: float or schedule. Keras default 0.001 (torch: 0.002).
        beta_1: Default 0.9.
        beta_2: Default 0.999.
        epsilon: Default 1e-7 (torch: 1e-8).
        weight_decay, clipnorm, clipvalue, global_clipnorm, **options (:class:`~ptref.optim.base.KerasOptions`):
            see :class:`~ptref.optim.base.KerasOptimizer`.
    """

    RANGES = {"beta_1": BELOW_ONE, "beta_2": BELOW_ONE, "epsilon": NON_NEGATIVE}
    SPARSE_UPDATE = True
    multi_tensor_step = multi_tensor.nadam

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

    def _u(self, t: int, like: Tensor) -> Tensor:
        return torch.tensor(self.defaults["beta_1"], dtype=like.dtype) * (1.0 - 0.5 * power(0.96, t, like))

    def update_shared(self, t: int) -> None:
        if any(group["beta_1"] != self.defaults["beta_1"] for group in self.param_groups):
            raise ValueError("Nadam's momentum product is optimizer-wide (as in Keras): use one beta_1 for all groups")
        first = self.param_groups[0]["params"][0]
        product = self.state.get("u_product", torch.ones((), dtype=first.dtype))
        self.state["u_product"] = product * self.defaults["beta_1"] * (1.0 - 0.5 * power(0.96, t, first))

    def build(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        state["m"] = torch.zeros_like(param)
        state["v"] = torch.zeros_like(param)

    def update_step(
        self, grad: Gradient, param: Tensor, lr: float, t: int, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        beta_1 = torch.tensor(group["beta_1"], dtype=param.dtype)
        beta_2 = torch.tensor(group["beta_2"], dtype=param.dtype)
        u_t, u_next = self._u(t, param), self._u(t + 1, param)
        u_product = self.state["u_product"].to(param.dtype)
        u_product_next = u_product * u_next
        m, v = state["m"], state["v"]
        m.add_((dense(grad) - m) * (1 - beta_1))
        v.add_((square_then_sum(grad) - v) * (1 - beta_2))
        m_hat = u_next * m / (1 - u_product_next) + (1 - u_t) * dense(grad) / (1 - u_product)
        v_hat = v / (1 - power(group["beta_2"], t, param))
        param.sub_(m_hat * lr / (torch.sqrt(v_hat) + group["epsilon"]))
