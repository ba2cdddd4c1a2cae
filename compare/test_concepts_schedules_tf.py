"""The schedules lesson with TensorFlow live: Keras's schedules and ptref's / torch's, step by step.

Tolerance, every comparison: rtol 1e-6, atol 1e-8. Keras evaluates a schedule in float32 (a handful of ops,
each rounding by ≤ 6e-8 relative: ~3e-7 measured), ptref and torch in float64. The absolute part covers rates
near the end of a cosine, 0.1 · ½(1 + cos θ) with cos θ ≈ −1: float32's rounding of 1 + cos θ is absolute
(~6e-8, times 0.1 → 6e-9, measured 4.4e-9), not relative to the small rate it leaves.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import pytest

from ptref.concepts import lesson

RTOL, ATOL = 1e-6, 1e-8


@functools.cache
def ran() -> dict[str, tuple[dict, dict]]:
    """``step -> (TensorFlow values, PyTorch values)``; fails if TensorFlow did not run."""
    steps, status = lesson.run_lesson("schedules")
    assert status.startswith("TensorFlow: running live"), status
    pairs = {}
    for step in steps:
        if not step.is_helper:
            assert step.tf.values is not None, f"schedules.{step.name}: {step.tf.note}"
            pairs[step.name] = (step.tf.values, step.torch.values)
    return pairs


def close(actual: object, expected: object, what: str) -> None:
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL, err_msg=what)


@pytest.mark.parametrize(
    "step",
    [
        "step_decay",
        "exponential_decay",
        "per_epoch_vs_per_update",
        "inverse_time_decay",
        "polynomial_decay",
        "cosine_decay",
        "cosine_restarts",
        "warmup",
        "errata_inverse_time_is_not_exponential",
        "errata_linear_decay_goes_negative",
    ],
)
def test_every_keras_schedule_equals_ptrefs_of_the_same_name(step: str) -> None:
    tf_values, torch_values = ran()[step]
    assert set(tf_values) <= set(torch_values), step  # ptref shows every Keras schedule, torch's beside them
    for key, value in tf_values.items():
        close(torch_values[key], value, f"{step}: {key}")


@pytest.mark.parametrize(
    ("step", "keras", "torch_equivalent"),
    [
        ("step_decay", "staircase ExponentialDecay", "StepLR(step_size=4, gamma=0.5)"),
        ("step_decay", "PiecewiseConstantDecay", "MultiStepLR(milestones=[5, 9])"),
        ("exponential_decay", "ExponentialDecay", "ExponentialLR(gamma=0.5 ** (1 / 4))"),
        ("exponential_decay", "ExponentialDecay", "KerasScheduleLR(ExponentialDecay)"),
        ("per_epoch_vs_per_update", "rate per update", "ExponentialLR(gamma=0.5), stepped per epoch"),
        ("inverse_time_decay", "InverseTimeDecay", "LambdaLR(1 / (1 + 0.5 s))"),
        ("polynomial_decay", "PolynomialDecay(power=2, end_learning_rate=0.0)", "PolynomialLR(total_iters=8, power=2)"),
        ("polynomial_decay", "linear PolynomialDecay(end_learning_rate=0.0)", "LinearLR(1.0, 0.0, total_iters=8)"),
        (
            "errata_linear_decay_goes_negative",
            "clamped: PolynomialDecay(0.1, 2, end_learning_rate=0.0)",
            "clamped: LinearLR(1.0, 0.0, total_iters=2)",
        ),
    ],
)
def test_torch_scheduler_stepped_per_update_equals_keras(step: str, keras: str, torch_equivalent: str) -> None:
    tf_values, torch_values = ran()[step]
    close(torch_values[torch_equivalent], tf_values[keras], f"{step}: {torch_equivalent} vs Keras {keras}")


def test_multistep_at_keras_boundaries_switches_one_update_early() -> None:
    tf_values, torch_values = ran()["step_decay"]
    keras = np.array(tf_values["PiecewiseConstantDecay"])
    torch_rates = np.array(torch_values["MultiStepLR(milestones=[4, 8])"])
    differ = np.flatnonzero(~np.isclose(torch_rates, keras, rtol=RTOL, atol=ATOL))
    assert differ.tolist() == [4, 8]  # Keras keeps the old rate at s = boundary


def test_exponential_lr_stepped_per_update_is_not_kerass_per_epoch_halving() -> None:
    tf_values, torch_values = ran()["per_epoch_vs_per_update"]
    per_update = torch_values["ExponentialLR(gamma=0.5), stepped per update"]
    assert per_update[-1] == pytest.approx(tf_values["rate per update"][-1] / 2**9, rel=RTOL)  # 0.5¹¹ vs 0.5²


@pytest.mark.parametrize(
    ("step", "keras", "torch_schedule", "equal_through"),
    [
        ("cosine_decay", "CosineDecay", "CosineAnnealingLR(T_max=8, eta_min=0.01)", 8),
        (
            "warmup",
            "CosineDecay(warmup_target=0.1, warmup_steps=4)",
            "SequentialLR(LinearLR, CosineAnnealingLR)",
            12,
        ),
    ],
)
def test_torch_cosine_equals_keras_to_the_end_of_the_decay_then_climbs(step, keras, torch_schedule, equal_through):
    tf_values, torch_values = ran()[step]
    keras_rates, torch_rates = np.array(tf_values[keras]), np.array(torch_values[torch_schedule])
    close(torch_rates[: equal_through + 1], keras_rates[: equal_through + 1], step)
    assert (torch_rates[equal_through + 1 :] > keras_rates[equal_through + 1 :] + 1e-3).all()


def test_warm_restarts_equal_keras_with_m_mul_1() -> None:
    tf_values, torch_values = ran()["cosine_restarts"]
    close(
        torch_values["CosineAnnealingWarmRestarts(T_0=4, T_mult=2, eta_min=0.01)"],
        tf_values["CosineDecayRestarts(0.1, 4, t_mul=2.0, m_mul=1.0, alpha=0.1)"],
        "restarts",
    )


def test_kerass_m_mul_lowers_each_restart_which_torch_cannot() -> None:
    halved = ran()["cosine_restarts"][0]["CosineDecayRestarts(0.1, 4, t_mul=2.0, m_mul=0.5, alpha=0.1)"]
    peaks = [halved[0], halved[4], halved[12]]  # restarts i = 0, 1, 2
    close(peaks, [0.1 * (0.9 * 0.5**i + 0.1) for i in range(3)], "peaks")


def test_the_texts_negative_rate_climbs_the_loss_in_keras_and_in_torch() -> None:
    tf_values, torch_values = ran()["errata_linear_decay_goes_negative"]
    for values in (tf_values, torch_values):
        assert values["the text's linear decay, 0.1 (1 - 0.5 t)"][3] == pytest.approx(-0.05, rel=1e-12)
        assert values["L after it"] > 1.0
    # both float32: w = 1 − (−0.05)·2 rounds once or twice, ≤ 2 ulps of 1.1 (2.4e-7)
    key = "w after a step at t = 3 (from w = 1, L = w²)"
    assert tf_values[key] == pytest.approx(torch_values[key], rel=3e-7, abs=1e-12)


def test_the_texts_exponential_is_inverse_time_in_keras_too() -> None:
    tf_values, _ = ran()["errata_inverse_time_is_not_exponential"]
    close(
        tf_values["InverseTimeDecay(0.1, 1, 0.5)"],
        tf_values["the text's 'exponential decay', 0.1 / (1 + 0.5 t)"],
        "inverse time",
    )
    exponential = tf_values["ExponentialDecay(0.1, 1, e^-0.5) = 0.1 e^(-0.5 t)"]
    close(exponential, [0.1 * math.exp(-0.5 * t) for t in range(10)], "exponential")
