"""TensorFlow's side of ``ptref/concepts/schedules.py``: ``keras.optimizers.schedules``, evaluated per update."""

from __future__ import annotations

import math
from collections.abc import Callable

import tensorflow as tf

UPDATES = 16
schedules = tf.keras.optimizers.schedules


def learning_rates(schedule: Callable[[int], tf.Tensor], steps: int = UPDATES) -> list[float]:
    return [float(schedule(s)) for s in range(steps)]


def optimizer_learning_rates(
    schedule: schedules.LearningRateSchedule, steps: int = UPDATES
) -> list[float]:
    w = tf.Variable([0.0])
    optimizer = tf.keras.optimizers.SGD(learning_rate=schedule)
    rates = []
    for _ in range(steps):
        rates.append(float(optimizer.learning_rate))  # schedule(optimizer.iterations)
        optimizer.apply_gradients([(tf.zeros([1]), w)])
    return rates


def step_decay() -> dict[str, list[float]]:
    staircase = schedules.ExponentialDecay(0.1, 4, 0.5, staircase=True)
    piecewise = schedules.PiecewiseConstantDecay([4, 8], [0.1, 0.05, 0.025])
    return {
        "staircase ExponentialDecay": learning_rates(staircase),
        "PiecewiseConstantDecay": learning_rates(piecewise),
    }


def exponential_decay() -> dict[str, list[float]]:
    decay = schedules.ExponentialDecay(0.1, 4, 0.5)
    return {"ExponentialDecay": learning_rates(decay)}


def per_epoch_vs_per_update() -> dict[str, list[float]]:
    halving = schedules.ExponentialDecay(0.1, 4, 0.5, staircase=True)
    return {"rate per update": optimizer_learning_rates(halving, 12)}


def inverse_time_decay() -> dict[str, list[float]]:
    return {"InverseTimeDecay": learning_rates(schedules.InverseTimeDecay(0.1, 1, 0.5))}


def polynomial_decay() -> dict[str, list[float]]:
    return {
        "PolynomialDecay(power=2, end_learning_rate=0.0)": learning_rates(
            schedules.PolynomialDecay(0.1, 8, end_learning_rate=0.0, power=2)
        ),
        "PolynomialDecay(power=2)": learning_rates(schedules.PolynomialDecay(0.1, 8, power=2)),
        "linear PolynomialDecay(end_learning_rate=0.0)": learning_rates(
            schedules.PolynomialDecay(0.1, 8, end_learning_rate=0.0)
        ),
    }


def cosine_decay() -> dict[str, list[float]]:
    return {"CosineDecay": learning_rates(schedules.CosineDecay(0.1, 8, alpha=0.1))}


def cosine_restarts() -> dict[str, list[float]]:
    def restarts(m_mul: float) -> list[float]:
        schedule = schedules.CosineDecayRestarts(0.1, 4, t_mul=2.0, m_mul=m_mul, alpha=0.1)
        return learning_rates(schedule)

    return {
        "CosineDecayRestarts(0.1, 4, t_mul=2.0, m_mul=1.0, alpha=0.1)": restarts(1.0),
        "CosineDecayRestarts(0.1, 4, t_mul=2.0, m_mul=0.5, alpha=0.1)": restarts(0.5),
    }


def warmup() -> dict[str, list[float]]:
    schedule = schedules.CosineDecay(0.01, 8, warmup_target=0.1, warmup_steps=4)
    return {"CosineDecay(warmup_target=0.1, warmup_steps=4)": learning_rates(schedule)}


def errata_inverse_time_is_not_exponential() -> dict[str, list[float]]:
    text_formula = [0.1 / (1 + 0.5 * t) for t in range(10)]
    exponential = schedules.ExponentialDecay(0.1, 1, math.exp(-0.5))
    return {
        "the text's 'exponential decay', 0.1 / (1 + 0.5 t)": text_formula,
        "InverseTimeDecay(0.1, 1, 0.5)": learning_rates(schedules.InverseTimeDecay(0.1, 1, 0.5), 10),
        "ExponentialDecay(0.1, 1, e^-0.5) = 0.1 e^(-0.5 t)": learning_rates(exponential, 10),
    }


def errata_linear_decay_goes_negative() -> dict[str, object]:
    text_rates = [0.1 * (1 - 0.5 * t) for t in range(6)]
    w = tf.Variable(1.0)
    optimizer = tf.keras.optimizers.SGD(learning_rate=text_rates[3])  # Keras accepts -0.05
    with tf.GradientTape() as tape:
        loss = w**2
    optimizer.apply_gradients([(tape.gradient(loss, w), w)])
    clamped = schedules.PolynomialDecay(0.1, 2, end_learning_rate=0.0)
    return {
        "the text's linear decay, 0.1 (1 - 0.5 t)": text_rates,
        "w after a step at t = 3 (from w = 1, L = w²)": float(w),
        "L after it": float(w**2),
        "clamped: PolynomialDecay(0.1, 2, end_learning_rate=0.0)": learning_rates(clamped, 6),
    }
