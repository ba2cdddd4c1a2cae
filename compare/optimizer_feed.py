"""Feed Keras and torch optimizers the same weights and the same gradient stream (no autodiff involved).

Shared by compare/test_optimizers_tf.py and compare/optimizer_drift.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import keras
import numpy as np
import tensorflow as tf
import torch

STEPS = 100
SHAPES = [(7, 5), (5,), (3, 3, 2, 4)]
# Names for the tensors above: Keras variable names, and torch parameter names (named_parameters() style).
KERAS_NAMES = ["kernel", "bias", "conv_kernel"]
TORCH_NAMES = ["dense.kernel", "dense.bias", "conv.conv_kernel"]


def gradient_stream(scale: float, seed: int = 0, steps: int = STEPS) -> list[list[np.ndarray]]:
    """``steps`` float32 gradients ``scale * N(0, 1)`` for each tensor in SHAPES."""
    rng = np.random.default_rng(seed)
    return [[(scale * rng.standard_normal(s)).astype(np.float32) for s in SHAPES] for _ in range(steps)]


def initial_weights() -> list[np.ndarray]:
    rng = np.random.default_rng(42)
    return [rng.standard_normal(s).astype(np.float32) for s in SHAPES]


def run_keras(
    optimizer: keras.optimizers.Optimizer,
    grads,
    before_step: Callable[[int], None] | None = None,
    eager: bool = False,
) -> list[np.ndarray]:
    """Final weights after ``optimizer.apply_gradients`` of every gradient in ``grads``.

    ``before_step(i)`` runs before the i-th step (0-based), outside the traced function. ``eager``: no
    ``tf.function``, for optimizers whose ``build`` assigns values that a trace loses (ScheduleFreeAdamW).
    """
    variables = [keras.Variable(w, name=name) for w, name in zip(initial_weights(), KERAS_NAMES)]

    def apply(gs):
        optimizer.apply_gradients(zip(gs, variables))

    if not eager:
        apply = tf.function(apply)  # traced once, then far cheaper per step than eager; the same kernels run

    for i, gs in enumerate(grads):
        if before_step:
            before_step(i)
        apply([tf.constant(g) for g in gs])
    return [v.numpy() for v in variables]


def run_torch(
    make_optimizer: Callable[[Iterable[torch.nn.Parameter]], torch.optim.Optimizer],
    grads,
    make_scheduler: Callable[[torch.optim.Optimizer], torch.optim.lr_scheduler.LRScheduler] | None = None,
    before_step: Callable[[int], None] | None = None,
    named: bool = False,
) -> list[np.ndarray]:
    """Final weights after ``optimizer.step()`` on every gradient (and ``scheduler.step()`` after each one).

    ``named``: the optimizer gets ``(name, parameter)`` pairs, as from ``model.named_parameters()``.
    """
    params = [torch.nn.Parameter(torch.from_numpy(w)) for w in initial_weights()]
    optimizer = make_optimizer(list(zip(TORCH_NAMES, params)) if named else params)
    scheduler = make_scheduler(optimizer) if make_scheduler else None
    for i, gs in enumerate(grads):
        if before_step:
            before_step(i)
        for p, g in zip(params, gs):
            p.grad = torch.from_numpy(g)
        optimizer.step()
        if scheduler:
            scheduler.step()
    return [p.detach().numpy() for p in params]


def max_diff(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    return max(float(np.abs(x - y).max()) for x, y in zip(a, b))
