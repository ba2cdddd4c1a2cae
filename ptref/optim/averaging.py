"""Keras's gradient accumulation and moving average of the weights (EMA), each a function of the optimizer state."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor


def accumulate(
    params: list[Tensor], grads: list[Tensor], states: list[dict[str, Any]], steps: int, calls: int
) -> list[Tensor] | None:
    """Keras's gradient accumulation over ``steps`` calls.

    Every call but each ``steps``-th adds ``g`` to the parameter's ``gradient_accumulator`` and returns ``None``
    (no update); the ``steps``-th returns ``(accumulator + g) / steps`` and resets the accumulator.
    """
    update = (calls + 1) % steps == 0
    mean = []
    for param, grad, state in zip(params, grads, states):
        accumulator = state.setdefault("gradient_accumulator", torch.zeros_like(param))
        if update:
            mean.append((grad + accumulator) / steps)
            accumulator.zero_()
        else:
            accumulator.add_(grad)
    return mean if update else None


def update_moving_averages(
    params: list[Tensor], states: list[dict[str, Any]], momentum: float, iterations: int
) -> None:
    """``average = mu * average + (1 - mu) * w`` for every parameter, ``mu = 0`` at iteration 0 (Keras's EMA)."""
    for param, state in zip(params, states):
        average = state.setdefault("average", torch.zeros_like(param))
        mu = torch.tensor(momentum if iterations else 0.0, dtype=param.dtype)
        average.copy_(mu * average + (1 - mu) * param)
