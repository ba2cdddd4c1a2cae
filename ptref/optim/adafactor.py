"""Keras's Adafactor (``keras.optimizers.Adafactor``) as a ``torch.optim.Optimizer``."""

from __future__ import annotations

import math
from typing import Any, Unpack

import torch
from torch import Tensor

from ptref.optim.base import NON_NEGATIVE, KerasOptimizer, KerasOptions, LearningRate, Params
from ptref.optim.sparse import Gradient, IndexedSlices, dense, rowwise, square_then_sum


def rms(x: Gradient) -> Tensor:
    """``sqrt(mean(x**2))`` over the whole tensor; Keras's mean of an ``IndexedSlices`` sums its occurrences'
    squares over the dense tensor's size."""
    if isinstance(x, IndexedSlices):
        return torch.sqrt(torch.sum(torch.square(x.values)) / math.prod(x.dense_shape))
    return torch.sqrt(torch.mean(torch.square(x)))


class Adafactor(KerasOptimizer):
    """Adafactor, Keras's update rule and defaults (TF: ``keras.optimizers.Adafactor``).

    With ``t = iterations + 1`` and ``G = g**2 + epsilon_1``::

        rho = min(lr, 1 / sqrt(t))
        alpha = max(epsilon_2, rms(w)) * rho
        beta_2 = 1 - t ** beta_2_decay
        rank >= 2:  r = beta_2 * r + (1 - beta_2) * mean(G, axis=-1)      (factored over the last two axes)
                    c = beta_2 * c + (1 - beta_2) * mean(G, axis=-2)
                    v = (r / mean(r, axis=-1))[..., None] * c[..., None, :]
        rank < 2:   v = beta_2 * v + (1 - beta_2) * G
        u = g / sqrt(v)
        w = w - alpha * u / max(1, rms(u) / clip_threshold)

    ``relative_step`` is kept for Keras's config: Keras's ``rho`` already takes ``min(lr, 1 / sqrt(t))``
    whatever it says. The nearest ``torch.optim`` twin is
    ``Adafactor(lr=lr, beta2_decay=beta_2_decay, eps=(epsilon_1, epsilon_2))``, which has no ``clip_threshold``
    (compare/test_optimizers_all_tf.py shows it apart from Keras at ``clip_threshold=0.8``).

    Args:
        params: parameters or param groups.
        learning_rate: float, schedule or callable. Keras default 0.001.
        beta_2_decay: Default -0.8.
        epsilon_1: added to ``g**2``. Default 1e-30.
        epsilon_2: floor of ``rms(w)``. Default 1e-3.
        clip_threshold: Default 1.0.
        relative_step: Default True (see above).
        weight_decay, clipnorm, clipvalue, global_clipnorm, **options (:class:`~ptref.optim.base.KerasOptions`):
            see :class:`~ptref.optim.base.KerasOptimizer`.
    """

    RANGES = {"epsilon_1": NON_NEGATIVE, "epsilon_2": NON_NEGATIVE}
    SPARSE_UPDATE = True

    def __init__(
        self,
        params: Params,
        learning_rate: LearningRate = 0.001,
        beta_2_decay: float = -0.8,
        epsilon_1: float = 1e-30,
        epsilon_2: float = 1e-3,
        clip_threshold: float = 1.0,
        relative_step: bool = True,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        **options: Unpack[KerasOptions],
    ) -> None:
        super().__init__(
            params, learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, options,
            beta_2_decay=beta_2_decay, epsilon_1=epsilon_1, epsilon_2=epsilon_2, clip_threshold=clip_threshold,
            relative_step=relative_step,
        )

    def build(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        if param.dim() >= 2:
            state["r"] = param.new_zeros(param.shape[:-1])
            state["c"] = param.new_zeros(param.shape[:-2] + param.shape[-1:])
        state["v"] = torch.zeros_like(param)

    def update_step(
        self, grad: Gradient, param: Tensor, lr: float, t: int, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        step = torch.tensor(float(t), dtype=param.dtype)  # Keras computes these scalars in the weights' dtype
        rho = torch.minimum(torch.tensor(lr, dtype=param.dtype), 1 / torch.sqrt(step))
        alpha = torch.maximum(torch.tensor(group["epsilon_2"], dtype=param.dtype), rms(param)) * rho
        regulated = square_then_sum(grad) + group["epsilon_1"]
        beta_2 = 1 - torch.pow(step, group["beta_2_decay"])
        v = state["v"]
        if param.dim() >= 2:
            r, c = state["r"], state["c"]
            r.copy_(beta_2 * r + (1 - beta_2) * regulated.mean(dim=-1))
            c.copy_(beta_2 * c + (1 - beta_2) * regulated.mean(dim=-2))
            v.copy_((r / r.mean(dim=-1, keepdim=True)).unsqueeze(-1) * c.unsqueeze(-2))
        else:
            v.copy_(beta_2 * v + (1 - beta_2) * regulated)
        root_v = torch.sqrt(v)
        u = rowwise(grad, lambda g, rows: g / root_v[rows])
        scale = torch.clamp(rms(u) / group["clip_threshold"], min=1.0)
        param.sub_(alpha * dense(rowwise(u, lambda x, _: x / scale)))
