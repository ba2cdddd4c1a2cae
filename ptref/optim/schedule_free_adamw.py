"""Keras's Schedule-Free AdamW (``keras.optimizers.ScheduleFreeAdamW``) as a ``torch.optim.Optimizer``."""

from __future__ import annotations

from typing import Any, Unpack

import torch
from torch import Tensor

from ptref.optim.base import BELOW_ONE, NON_NEGATIVE, KerasOptimizer, KerasOptions, LearningRate, Params, power


class ScheduleFreeAdamW(KerasOptimizer):
    """Schedule-Free AdamW, Keras's update rule and defaults (TF: ``keras.optimizers.ScheduleFreeAdamW``).

    The weights ``y`` are an interpolation of the gradient sequence ``z`` (started at the initial weights) and
    its running average ``x``. With ``t = iterations + 1`` and ``lr_t = lr * min(t / warmup_steps, 1)``
    (``lr`` when ``warmup_steps == 0``)::

        v = v + (g**2 - v) * (1 - beta_2)
        z_new = z - lr_t * g / (sqrt(v / (1 - beta_2**t)) + epsilon)
        x = (y - (1 - beta_1) * z_new) / beta_1               (recovered from the current weights)
        x = (1 - 1/t) * x + (1/t) * z_new
        y = (1 - beta_1) * z_new + beta_1 * x;   z = z_new

    Keras recovers ``x`` with the already updated ``z_new`` (its ``momentum_old`` is the variable itself, read
    after the update), where the paper uses the old ``z``; this class follows Keras.

    ``z`` starts at the weights as Keras's ``build`` says; Keras's TensorFlow backend loses that assignment when
    the first step runs inside ``tf.function`` (as in ``model.fit``) and starts ``z`` at 0 there.
    As in Keras, the weights stay ``y`` after training (Keras has no train/eval switch to ``x``; the
    ``schedulefree`` package's ``AdamWScheduleFree`` has one and differs in its warmup and weighting).

    Args:
        params: parameters or param groups.
        learning_rate: float, schedule or callable. Keras default 0.0025.
        beta_1: interpolation between ``z`` and ``x``, in (0, 1). Default 0.9.
        beta_2: Default 0.999.
        epsilon: Default 1e-8.
        warmup_steps: linear warmup of the learning rate over this many updates. Default 0.
        weight_decay, clipnorm, clipvalue, global_clipnorm, **options (:class:`~ptref.optim.base.KerasOptions`):
            see :class:`~ptref.optim.base.KerasOptimizer`.
    """

    RANGES = {"beta_1": BELOW_ONE, "beta_2": BELOW_ONE, "epsilon": NON_NEGATIVE, "warmup_steps": NON_NEGATIVE}

    def __init__(
        self,
        params: Params,
        learning_rate: LearningRate = 0.0025,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        warmup_steps: int = 0,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        **options: Unpack[KerasOptions],
    ) -> None:
        if beta_1 <= 0:
            raise ValueError(f"ScheduleFreeAdamW: beta_1 must be in (0, 1) (x is divided by it), got {beta_1}")
        super().__init__(
            params, learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, options,
            beta_1=beta_1, beta_2=beta_2, epsilon=epsilon, warmup_steps=warmup_steps,
        )

    def build(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        state["momentum"] = param.detach().clone()  # z starts at the weights
        state["velocity"] = torch.zeros_like(param)

    def update_step(
        self, grad: Tensor, param: Tensor, lr: float, t: int, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        beta_1, beta_2 = group["beta_1"], group["beta_2"]
        lr_t = torch.tensor(lr, dtype=param.dtype)
        if group["warmup_steps"] > 0:
            lr_t = lr_t * min(t / group["warmup_steps"], 1.0)
        z, v = state["momentum"], state["velocity"]
        v.add_((grad.square() - v) * (1 - beta_2))
        z.sub_(lr_t * grad / (torch.sqrt(v / (1 - power(beta_2, t, param))) + group["epsilon"]))
        weight = 1.0 / t
        x = (param - (1 - beta_1) * z) / beta_1
        x = (1 - weight) * x + weight * z
        param.copy_((1 - beta_1) * z + beta_1 * x)
