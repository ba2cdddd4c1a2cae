"""The schedules lesson's PyTorch side against the schedules' formulas in float64 NumPy.

Tolerance for every comparison: rtol 1e-12, atol 1e-15. Both sides are float64; torch's chainable schedulers
(ExponentialLR, CosineAnnealingLR, PolynomialLR, ...) reach step s by s multiplications, each rounding by
≤ 1.1e-16 relative, so 16 steps stay below 1e-14 relative; the absolute part covers rates that are 0.
"""

from __future__ import annotations

import numpy as np
import pytest

from ptref.concepts import lesson, schedules

RTOL, ATOL = 1e-12, 1e-15
s = np.arange(16, dtype=np.float64)


def close(actual: list[float], expected: np.ndarray) -> None:
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL)


def cosine(progress: np.ndarray) -> np.ndarray:
    """½ (1 + cos(π · progress)): 1 at the start of a cycle, 0 at its end."""
    return 0.5 * (1 + np.cos(np.pi * progress))


def test_step_decay_halves_every_4_updates_and_piecewise_switches_after_each_boundary() -> None:
    values = schedules.step_decay()
    staircase = 0.1 * 0.5 ** np.floor(s / 4)
    close(values["staircase ExponentialDecay"], staircase)
    close(values["StepLR(step_size=4, gamma=0.5)"], staircase)
    piecewise = np.select([s <= 4, s <= 8], [0.1, 0.05], 0.025)
    close(values["PiecewiseConstantDecay"], piecewise)
    close(values["MultiStepLR(milestones=[5, 9])"], piecewise)
    at_milestones = np.select([s < 4, s < 8], [0.1, 0.05], 0.025)
    close(values["MultiStepLR(milestones=[4, 8])"], at_milestones)
    assert not np.allclose(at_milestones, piecewise)  # the off-by-one the step shows


def test_exponential_decay_matches_exponential_lr_with_the_per_update_gamma() -> None:
    values = schedules.exponential_decay()
    expected = 0.1 * 0.5 ** (s / 4)
    for key in ("ExponentialDecay", "ExponentialLR(gamma=0.5 ** (1 / 4))", "KerasScheduleLR(ExponentialDecay)"):
        close(values[key], expected)


def test_exponential_lr_stepped_per_update_decays_four_times_too_fast() -> None:
    values = schedules.per_epoch_vs_per_update()
    update = np.arange(12, dtype=np.float64)
    per_epoch = 0.1 * 0.5 ** np.floor(update / 4)
    close(values["rate per update"], per_epoch)
    close(values["ExponentialLR(gamma=0.5), stepped per epoch"], per_epoch)
    close(values["ExponentialLR(gamma=0.5), stepped per update"], 0.1 * 0.5**update)


def test_inverse_time_decay() -> None:
    values = schedules.inverse_time_decay()
    for key in ("InverseTimeDecay", "LambdaLR(1 / (1 + 0.5 s))"):
        close(values[key], 0.1 / (1 + 0.5 * s))


def test_polynomial_decay_and_torchs_which_always_ends_at_zero() -> None:
    values = schedules.polynomial_decay()
    done = np.minimum(s, 8) / 8
    close(values["PolynomialDecay(power=2, end_learning_rate=0.0)"], 0.1 * (1 - done) ** 2)
    close(values["PolynomialLR(total_iters=8, power=2)"], 0.1 * (1 - done) ** 2)
    close(values["PolynomialDecay(power=2)"], (0.1 - 1e-4) * (1 - done) ** 2 + 1e-4)  # Keras's default end 1e-4
    close(values["linear PolynomialDecay(end_learning_rate=0.0)"], 0.1 * (1 - done))
    close(values["LinearLR(1.0, 0.0, total_iters=8)"], 0.1 * (1 - done))


def test_cosine_decay_holds_its_floor_where_cosine_annealing_climbs_back() -> None:
    values = schedules.cosine_decay()
    close(values["CosineDecay"], 0.1 * (0.9 * cosine(np.minimum(s, 8) / 8) + 0.1))
    close(values["CosineAnnealingLR(T_max=8, eta_min=0.01)"], 0.01 + 0.09 * cosine(s / 8))


def test_warm_restarts_restart_at_4_and_12() -> None:
    start, length = np.select([s < 4, s < 12], [0, 4], 12), np.select([s < 4, s < 12], [4, 8], 16)
    expected = 0.01 + 0.09 * cosine((s - start) / length)
    close(schedules.cosine_restarts()["CosineAnnealingWarmRestarts(T_0=4, T_mult=2, eta_min=0.01)"], expected)


def test_warmup_then_cosine() -> None:
    values = schedules.warmup()
    warm = 0.01 + 0.09 * s / 4
    keras = np.where(s < 4, warm, 0.1 * cosine(np.minimum(s - 4, 8) / 8))
    torch_sequential = np.where(s < 4, warm, 0.1 * cosine((s - 4) / 8))
    close(values["CosineDecay(warmup_target=0.1, warmup_steps=4)"], keras)
    close(values["SequentialLR(LinearLR, CosineAnnealingLR)"], torch_sequential)


def test_the_texts_exponential_decay_is_inverse_time_decay() -> None:
    values = schedules.errata_inverse_time_is_not_exponential()
    t = np.arange(10, dtype=np.float64)
    close(values["the text's 'exponential decay', 0.1 / (1 + 0.5 t)"], 0.1 / (1 + 0.5 * t))
    close(values["InverseTimeDecay(0.1, 1, 0.5)"], 0.1 / (1 + 0.5 * t))
    close(values["ExponentialDecay(0.1, 1, e^-0.5) = 0.1 e^(-0.5 t)"], 0.1 * np.exp(-0.5 * t))


def test_the_texts_linear_decay_goes_negative_and_climbs_the_loss() -> None:
    values = schedules.errata_linear_decay_goes_negative()
    t = np.arange(6, dtype=np.float64)
    text = 0.1 * (1 - 0.5 * t)
    close(values["the text's linear decay, 0.1 (1 - 0.5 t)"], text)
    assert (text[3:] < 0).all()
    w = 1.0 - text[3] * 2 * 1.0  # one SGD step on L = w² from w = 1
    # w and L are float32 tensors: 1 float32 ulp of 1.1 is 1.2e-7
    assert values["w after a step at t = 3 (from w = 1, L = w²)"] == pytest.approx(w, rel=2e-7, abs=1e-12)
    assert values["L after it"] == pytest.approx(w**2, rel=4e-7, abs=1e-12)
    assert values["L after it"] > 1.0
    clamped = np.maximum(text, 0.0)
    close(values["clamped: PolynomialDecay(0.1, 2, end_learning_rate=0.0)"], clamped)
    close(values["clamped: LinearLR(1.0, 0.0, total_iters=2)"], clamped)


def test_schedules_is_a_lesson() -> None:
    assert "schedules" in lesson.LESSONS
    assert lesson.concept("schedules") is schedules
