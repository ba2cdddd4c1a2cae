"""Learning-rate schedules: the rate as a function of the optimizer step, Keras ↔ ptref ↔ ``torch.optim``.

Keras evaluates ``schedule(optimizer.iterations)`` before every update: the step counts updates (batches)
from 0 and never resets at an epoch. ``ptref.optim.schedules`` computes the same numbers in PyTorch.
``torch.optim.lr_scheduler`` works the other way round: a scheduler changes ``optimizer.param_groups[i]["lr"]``
each time you call ``scheduler.step()``, and its arguments count those calls, usually one per epoch
(Lightning's default ``interval``). Stepped once per update, most Keras schedules have a torch twin; where
torch's differs, the step says how. TensorFlow twin: ``compare/concepts/schedules_tf.py``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path

import torch
from torch.optim import Optimizer
from torch.optim import lr_scheduler as torch_schedules

from ptref.concepts.plotting import save_line_plot
from ptref.optim import schedules

UPDATES = 16  # each step shows the rates of the first 16 updates (steps 0..15)


def learning_rates(schedule: Callable[[int], float], steps: int = UPDATES) -> list[float]:
    """``schedule(s)`` for s = 0 .. steps − 1: the rate each update runs with, the first update at s = 0."""
    return [float(schedule(s)) for s in range(steps)]


def optimizer_learning_rates(
    make_scheduler: Callable[[Optimizer], torch_schedules.LRScheduler],
    steps: int = UPDATES,
    updates_per_scheduler_step: int = 1,
) -> list[float]:
    """The rate each of ``steps`` SGD(lr=0.1) updates runs with, ``scheduler.step()`` after every
    ``updates_per_scheduler_step`` updates (1: per update, as Keras; the batches per epoch: per epoch)."""
    w = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([w], lr=0.1)
    scheduler = make_scheduler(optimizer)
    rates = []
    for update in range(1, steps + 1):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()  # w has no gradient: nothing moves, but torch expects step() before scheduler.step()
        if update % updates_per_scheduler_step == 0:
            scheduler.step()
    return rates


def step_decay() -> dict[str, list[float]]:
    """Step decay: halve the rate every 4 updates, or switch at chosen boundaries.

    Staircase: α_s = 0.1 · 0.5^⌊s/4⌋ (Keras ``ExponentialDecay(..., staircase=True)``) = torch's ``StepLR``.
    Piecewise: 0.1 while s ≤ 4, 0.05 while s ≤ 8, then 0.025 (Keras ``PiecewiseConstantDecay``). Keras switches
    one update *after* a boundary; ``MultiStepLR`` switches *at* its milestone, so Keras's boundaries [4, 8]
    are torch's milestones [5, 9].
    """
    return {
        "staircase ExponentialDecay": learning_rates(schedules.ExponentialDecay(0.1, 4, 0.5, staircase=True)),
        "StepLR(step_size=4, gamma=0.5)": optimizer_learning_rates(
            lambda opt: torch_schedules.StepLR(opt, step_size=4, gamma=0.5)
        ),
        "PiecewiseConstantDecay": learning_rates(schedules.PiecewiseConstantDecay([4, 8], [0.1, 0.05, 0.025])),
        "MultiStepLR(milestones=[5, 9])": optimizer_learning_rates(
            lambda opt: torch_schedules.MultiStepLR(opt, milestones=[5, 9], gamma=0.5)
        ),
        "MultiStepLR(milestones=[4, 8])": optimizer_learning_rates(
            lambda opt: torch_schedules.MultiStepLR(opt, milestones=[4, 8], gamma=0.5)
        ),
    }


def exponential_decay() -> dict[str, list[float]]:
    """Exponential decay: α_s = α0 · r^(s/T) = 0.1 · 0.5^(s/4), halving every 4 updates, smoothly.

    Keras's ``decay_rate`` r applies per ``decay_steps`` T; torch's ``ExponentialLR`` multiplies by ``gamma``
    at every ``scheduler.step()``, so stepped per update it needs γ = r^(1/T) = 0.5^(1/4) ≈ 0.8409.
    ``KerasScheduleLR`` runs a ptref schedule as a torch scheduler (Lightning: ``"interval": "step"``).
    """
    decay = schedules.ExponentialDecay(0.1, 4, 0.5)
    return {
        "ExponentialDecay": learning_rates(decay),
        "ExponentialLR(gamma=0.5 ** (1 / 4))": optimizer_learning_rates(
            lambda opt: torch_schedules.ExponentialLR(opt, gamma=0.5 ** (1 / 4))
        ),
        "KerasScheduleLR(ExponentialDecay)": optimizer_learning_rates(
            lambda opt: schedules.KerasScheduleLR(opt, decay)
        ),
    }


def per_epoch_vs_per_update() -> dict[str, list[float]]:
    """3 epochs of 4 updates: Keras counts updates, a torch scheduler counts ``scheduler.step()`` calls.

    Keras halving each epoch: ``ExponentialDecay(0.1, decay_steps=4, decay_rate=0.5, staircase=True)``
    (``decay_steps`` = updates per epoch). torch: ``ExponentialLR(gamma=0.5)`` stepped once per epoch gives the
    same rates; the same scheduler stepped after every update halves the rate 4× as often, 0.1 · 0.5¹¹ by
    update 12.
    """

    def halving(opt: Optimizer) -> torch_schedules.LRScheduler:
        return torch_schedules.ExponentialLR(opt, gamma=0.5)

    return {
        "rate per update": learning_rates(schedules.ExponentialDecay(0.1, 4, 0.5, staircase=True), 12),
        "ExponentialLR(gamma=0.5), stepped per epoch": optimizer_learning_rates(halving, 12, 4),
        "ExponentialLR(gamma=0.5), stepped per update": optimizer_learning_rates(halving, 12, 1),
    }


def inverse_time_decay() -> dict[str, list[float]]:
    """Inverse-time decay: α_s = α0 / (1 + λ · s/T) = 0.1 / (1 + 0.5·s) with T = 1, λ = 0.5.

    torch has no such scheduler; ``LambdaLR`` multiplies the initial rate by any function of the step.
    """
    return {
        "InverseTimeDecay": learning_rates(schedules.InverseTimeDecay(0.1, 1, 0.5)),
        "LambdaLR(1 / (1 + 0.5 s))": optimizer_learning_rates(
            lambda opt: torch_schedules.LambdaLR(opt, lambda s: 1 / (1 + 0.5 * s))
        ),
    }


def polynomial_decay() -> dict[str, list[float]]:
    """Polynomial decay: α_s = (α0 − α_end) · (1 − min(s, T)/T)^p + α_end, T = 8; p = 1 is linear decay.

    torch's ``PolynomialLR`` always ends at 0; Keras's ``end_learning_rate`` defaults to 1e-4, so only
    ``end_learning_rate=0.0`` matches it. ``LinearLR(1.0, 0.0, total_iters=8)`` is the linear one.
    """
    return {
        "PolynomialDecay(power=2, end_learning_rate=0.0)": learning_rates(
            schedules.PolynomialDecay(0.1, 8, end_learning_rate=0.0, power=2)
        ),
        "PolynomialLR(total_iters=8, power=2)": optimizer_learning_rates(
            lambda opt: torch_schedules.PolynomialLR(opt, total_iters=8, power=2)
        ),
        "PolynomialDecay(power=2)": learning_rates(schedules.PolynomialDecay(0.1, 8, power=2)),
        "linear PolynomialDecay(end_learning_rate=0.0)": learning_rates(
            schedules.PolynomialDecay(0.1, 8, end_learning_rate=0.0)
        ),
        "LinearLR(1.0, 0.0, total_iters=8)": optimizer_learning_rates(
            lambda opt: torch_schedules.LinearLR(opt, start_factor=1.0, end_factor=0.0, total_iters=8)
        ),
    }


def cosine_decay() -> dict[str, list[float]]:
    """Cosine decay: α_s = α0 · ((1 − a) · ½(1 + cos(π · min(s, T)/T)) + a), α0 = 0.1, T = 8, a = 0.1.

    torch's ``CosineAnnealingLR(T_max=8, eta_min=a·α0)`` gives the same rates up to T, then climbs back
    (it is periodic, period 2T); Keras's stays at a·α0.
    """
    return {
        "CosineDecay": learning_rates(schedules.CosineDecay(0.1, 8, alpha=0.1)),
        "CosineAnnealingLR(T_max=8, eta_min=0.01)": optimizer_learning_rates(
            lambda opt: torch_schedules.CosineAnnealingLR(opt, T_max=8, eta_min=0.01)
        ),
    }


def cosine_restarts() -> dict[str, list[float]]:
    """Cosine with warm restarts (SGDR): a cosine over 4 updates, then over 8 (t_mul = 2), restarting at 4 and 12.

    Keras ``CosineDecayRestarts(0.1, 4, t_mul, m_mul, alpha)`` ↔ torch ``CosineAnnealingWarmRestarts(T_0=4,
    T_mult, eta_min)``: t_mul is T_mult (torch: whole numbers only); Keras's floor alpha is a fraction of the
    initial rate, torch's eta_min a rate (eta_min = alpha · 0.1); Keras's m_mul scales the height of each
    restart (the i-th peaks at ((1 − alpha) · m_mulⁱ + alpha) · 0.1) and torch has no such argument: every torch
    restart returns to the initial rate, which is Keras's m_mul = 1. ``ptref.optim.schedules.CosineDecayRestarts``
    is Keras's, m_mul included.
    """

    def restarts(m_mul: float) -> list[float]:
        return learning_rates(schedules.CosineDecayRestarts(0.1, 4, t_mul=2.0, m_mul=m_mul, alpha=0.1))

    return {
        "CosineDecayRestarts(0.1, 4, t_mul=2.0, m_mul=1.0, alpha=0.1)": restarts(1.0),
        "CosineDecayRestarts(0.1, 4, t_mul=2.0, m_mul=0.5, alpha=0.1)": restarts(0.5),
        "CosineAnnealingWarmRestarts(T_0=4, T_mult=2, eta_min=0.01)": optimizer_learning_rates(
            lambda opt: torch_schedules.CosineAnnealingWarmRestarts(opt, T_0=4, T_mult=2, eta_min=0.01)
        ),
    }


def warmup() -> dict[str, list[float]]:
    """Linear warm-up from 0.01 to 0.1 over 4 updates, then cosine decay to 0 over 8.

    Keras: ``CosineDecay(0.01, 8, warmup_target=0.1, warmup_steps=4)``; torch: ``SequentialLR`` of
    ``LinearLR(start_factor=0.1, total_iters=4)`` (a factor of the initial rate, which must be > 0: torch cannot
    warm up from 0) and ``CosineAnnealingLR(T_max=8)``, handed over at update 4. Equal up to update 12; after
    it Keras stays at 0 and torch's cosine climbs again.
    """
    return {
        "CosineDecay(warmup_target=0.1, warmup_steps=4)": learning_rates(
            schedules.CosineDecay(0.01, 8, warmup_target=0.1, warmup_steps=4)
        ),
        "SequentialLR(LinearLR, CosineAnnealingLR)": optimizer_learning_rates(
            lambda opt: torch_schedules.SequentialLR(
                opt,
                [
                    torch_schedules.LinearLR(opt, start_factor=0.1, total_iters=4),
                    torch_schedules.CosineAnnealingLR(opt, T_max=8),
                ],
                milestones=[4],
            )
        ),
    }


def errata_inverse_time_is_not_exponential() -> dict[str, list[float]]:
    """Erratum: the course text calls α_t = α0 / (1 + λt) "exponential decay". It is inverse-time decay.

    With α0 = 0.1, λ = 0.5: the text's formula gives exactly Keras's ``InverseTimeDecay(0.1, 1, 0.5)``, which
    falls like 1/t. Exponential decay is α0 · e^(−λt) = ``ExponentialDecay(0.1, 1, e^(−0.5))``: each step
    multiplies the rate by e^(−0.5) ≈ 0.61, so at t = 8 it is 0.0018, 11× below inverse time's 0.02.
    """
    text_formula = [0.1 / (1 + 0.5 * t) for t in range(10)]
    return {
        "the text's 'exponential decay', 0.1 / (1 + 0.5 t)": text_formula,
        "InverseTimeDecay(0.1, 1, 0.5)": learning_rates(schedules.InverseTimeDecay(0.1, 1, 0.5), 10),
        "ExponentialDecay(0.1, 1, e^-0.5) = 0.1 e^(-0.5 t)": learning_rates(
            schedules.ExponentialDecay(0.1, 1, math.exp(-0.5)), 10
        ),
    }


def errata_linear_decay_goes_negative() -> dict[str, object]:
    """Erratum: the course text's linear decay α_t = α0 · (1 − λt) has no floor; it goes negative after t = 2.

    Here α0 = 0.1, λ = 0.5: α_3 = −0.05, and a "descent" step with a negative rate climbs: on L = w² at w = 1,
    w ← w − α·2w = 1.1, L goes from 1 to 1.21. torch refuses ``SGD(lr=-0.05)`` but a ``LambdaLR`` factor may go
    negative unchecked. Corrected: clamp at 0, i.e. ``PolynomialDecay(0.1, decay_steps=2,
    end_learning_rate=0.0)`` = ``LinearLR(1.0, 0.0, total_iters=2)``: max(α0 · (1 − λt), 0).
    """

    def text_factor(t: int) -> float:
        return 1 - 0.5 * t

    text_rates = optimizer_learning_rates(lambda opt: torch_schedules.LambdaLR(opt, text_factor), 6)
    w = torch.tensor(1.0, requires_grad=True)
    optimizer = torch.optim.SGD([w], lr=0.1)
    scheduler = torch_schedules.LambdaLR(optimizer, text_factor)
    for _ in range(3):  # to t = 3, without moving w
        optimizer.step()
        scheduler.step()
    loss = w**2
    loss.backward()
    optimizer.step()
    return {
        "the text's linear decay, 0.1 (1 - 0.5 t)": text_rates,
        "w after a step at t = 3 (from w = 1, L = w²)": w.item(),
        "L after it": (w**2).item(),
        "clamped: PolynomialDecay(0.1, 2, end_learning_rate=0.0)": learning_rates(
            schedules.PolynomialDecay(0.1, 2, end_learning_rate=0.0), 6
        ),
        "clamped: LinearLR(1.0, 0.0, total_iters=2)": optimizer_learning_rates(
            lambda opt: torch_schedules.LinearLR(opt, start_factor=1.0, end_factor=0.0, total_iters=2), 6
        ),
    }


def plots(results: Mapping[str, Mapping], directory: Path) -> list[Path]:
    """Every schedule of the lesson over its 16 updates, as ``schedules.png``."""
    curves = {
        "staircase": results["step_decay"]["staircase ExponentialDecay"],
        "piecewise constant": results["step_decay"]["PiecewiseConstantDecay"],
        "exponential": results["exponential_decay"]["ExponentialDecay"],
        "inverse time": results["inverse_time_decay"]["InverseTimeDecay"],
        "polynomial, power 2": results["polynomial_decay"]["PolynomialDecay(power=2, end_learning_rate=0.0)"],
        "linear": results["polynomial_decay"]["linear PolynomialDecay(end_learning_rate=0.0)"],
        "cosine": results["cosine_decay"]["CosineDecay"],
        "cosine, warm restarts": results["cosine_restarts"][
            "CosineAnnealingWarmRestarts(T_0=4, T_mult=2, eta_min=0.01)"
        ],
        "warm-up, then cosine": results["warmup"]["CosineDecay(warmup_target=0.1, warmup_steps=4)"],
    }
    path = save_line_plot(
        Path(directory) / "schedules.png",
        curves,
        title="Learning-rate schedules (update n runs with schedule(n − 1))",
        xlabel="update",
        ylabel="learning rate",
    )
    return [path]


HELPERS = (learning_rates, optimizer_learning_rates)
STEPS = (
    step_decay,
    exponential_decay,
    per_epoch_vs_per_update,
    inverse_time_decay,
    polynomial_decay,
    cosine_decay,
    cosine_restarts,
    warmup,
    errata_inverse_time_is_not_exponential,
    errata_linear_decay_goes_negative,
)
