"""ptref.optim.schedules against the Keras formulas written here with NumPy, at 0-based steps 0..199.

Both sides compute in float64, so rtol 1e-12 only absorbs rounding; an off-by-one step or a missing clamp is a
relative error >= 1e-3. compare/test_optimizers_tf.py checks the same schedules against Keras itself.
"""

from __future__ import annotations

import numpy as np
import pytest

from ptref.optim.schedules import (
    CosineDecay,
    CosineDecayRestarts,
    ExponentialDecay,
    InverseTimeDecay,
    PiecewiseConstantDecay,
    PolynomialDecay,
    deserialize,
)

s = np.arange(200.0)


def cosine(step, decay_steps, alpha):
    return (1 - alpha) * 0.5 * (1 + np.cos(np.pi * np.minimum(step, decay_steps) / decay_steps)) + alpha


CASES = {
    "exponential": (ExponentialDecay(0.1, 7, 0.8), 0.1 * 0.8 ** (s / 7)),
    "exponential-staircase": (ExponentialDecay(0.1, 7, 0.8, staircase=True), 0.1 * 0.8 ** np.floor(s / 7)),
    "inverse-time": (InverseTimeDecay(0.1, 5, 0.3), 0.1 / (1 + 0.3 * s / 5)),
    "inverse-time-staircase": (InverseTimeDecay(0.1, 5, 0.3, staircase=True), 0.1 / (1 + 0.3 * np.floor(s / 5))),
    "polynomial-ends-at-1e-4": (
        PolynomialDecay(0.1, 60), (0.1 - 1e-4) * (1 - np.minimum(s, 60) / 60) + 1e-4
    ),
    "polynomial-cycle": (
        PolynomialDecay(0.1, 40, end_learning_rate=0.0, power=0.5, cycle=True),
        0.1 * (1 - s / (40 * np.maximum(np.ceil(s / 40), 1))) ** 0.5,
    ),
    "piecewise-switches-after-the-boundary": (
        PiecewiseConstantDecay([10, 30], [1.0, 0.5, 0.1]), np.select([s <= 10, s <= 30], [1.0, 0.5], 0.1)
    ),
    "cosine-stays-clamped": (CosineDecay(0.1, 50, alpha=0.1), 0.1 * cosine(s, 50, 0.1)),
    "cosine-warmup": (
        CosineDecay(0.0, 50, warmup_target=0.1, warmup_steps=15),
        np.where(s < 15, 0.1 * s / 15, 0.1 * cosine(np.minimum(s, 65) - 15, 50, 0.0)),
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_schedule_follows_keras_formula_at_zero_based_steps(case):
    schedule, expected = CASES[case]
    np.testing.assert_allclose([schedule(int(step)) for step in s], expected, rtol=1e-12, atol=1e-15)


def test_schedule_round_trips_through_a_keras_config():
    schedule = CosineDecay(0.1, 50, alpha=0.1, warmup_target=0.2, warmup_steps=5)
    config = {"class_name": "CosineDecay", "config": {**schedule.get_config(), "name": "CosineDecay"}}
    assert deserialize(config).get_config() == schedule.get_config()


def restarts(steps, first, t_mul=2.0, m_mul=1.0, alpha=0.0):
    """SGDR by walking the periods one by one (lengths first * t_mul**i, peaks m_mul**i), not by Keras's log."""
    out = []
    for step in steps:
        start, length, peak = 0, first, 1.0
        while step >= start + length:
            start, length, peak = start + length, length * t_mul, peak * m_mul
        x = (step - start) / length
        out.append((1 - alpha) * peak * 0.5 * (1 + np.cos(np.pi * x)) + alpha)
    return np.array(out)


RESTARTS = {  # integer period lengths, so every restart falls exactly on a step
    "t_mul-2": (dict(first_decay_steps=10), dict(first=10)),
    "t_mul-3-m_mul-alpha": (
        dict(first_decay_steps=3, t_mul=3.0, m_mul=0.8, alpha=0.05), dict(first=3, t_mul=3.0, m_mul=0.8, alpha=0.05)
    ),
    "t_mul-1-m_mul": (dict(first_decay_steps=20, t_mul=1.0, m_mul=0.9), dict(first=20, t_mul=1.0, m_mul=0.9)),
}


@pytest.mark.parametrize("case", sorted(RESTARTS))
def test_cosine_decay_restarts_restarts_at_the_end_of_each_period(case):
    """Tolerance as for the other schedules; a step put in the wrong period is off by up to the whole peak."""
    kwargs, reference = RESTARTS[case]
    steps = range(1000)
    expected = 0.1 * restarts(steps, **reference)
    ours = [CosineDecayRestarts(0.1, **kwargs)(step) for step in steps]
    np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=1e-15)
