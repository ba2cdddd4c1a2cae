"""Keras's AdamW (``keras.optimizers.AdamW``) as a ``torch.optim.Optimizer``."""

from __future__ import annotations

from typing import Unpack

from ptref.optim.adam import Adam
from ptref.optim.base import KerasOptions, LearningRate, Params


class AdamW(Adam):
    """Adam with decoupled weight decay, Keras defaults (TF: ``keras.optimizers.AdamW``).

    Before the :class:`~ptref.optim.Adam` update, with the current learning rate::

        w = w - w * weight_decay * lr

    Keras defaults: ``weight_decay=0.004`` (torch: 0.01), ``epsilon=1e-7``. ``torch.optim.AdamW`` decays with
    ``w *= (1 - lr * weight_decay)``: the same math, but the rounded factor drifts by ~5e-6 in float32.

    Args:
        params: parameters or param groups.
        learning_rate: float or schedule. Default 0.001.
        weight_decay: decoupled decay factor, >= 0 (``None`` is refused, as in Keras). Default 0.004.
        beta_1, beta_2, epsilon, amsgrad: as :class:`~ptref.optim.Adam`.
        clipnorm, clipvalue, global_clipnorm, **options: see :class:`~ptref.optim.base.KerasOptimizer`.
    """

    def __init__(
        self,
        params: Params,
        learning_rate: LearningRate = 0.001,
        weight_decay: float = 0.004,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        **options: Unpack[KerasOptions],
    ) -> None:
        if weight_decay is None:
            raise ValueError("AdamW: weight_decay must be a float (as in Keras); for no decay use Adam")
        super().__init__(
            params, learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay, clipnorm, clipvalue,
            global_clipnorm, **options,
        )
