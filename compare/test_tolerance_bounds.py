"""The "rel" tolerances' bound, |a − b| <= max(rtol·|b|, atol·S), on made-up series: no TensorFlow run needed.

A loss that falls towards 0 keeps the round-off of the run's larger losses; the trajectory check must accept
that and still catch a real gap, near zero and away from it.
"""

from __future__ import annotations

import numpy as np
import pytest

from ptref.parity import trajectory_checks
from ptref.parity.tolerance import GRADIENT, TRAJECTORY_LOSS, TRAJECTORY_WEIGHTS, Tolerance

KERAS_LOSSES = 2.3 * 0.8 ** np.arange(50)  # 2.3 down to 4e-5, as a run that fits its data
ROUND_OFF = 1e-6  # ~4 float32 ulps of the run's largest loss


def loss_check(ptref_losses: np.ndarray):
    weights = [np.ones((3, 2), np.float32)]
    loss, _ = trajectory_checks("made-up", "50 steps", KERAS_LOSSES.tolist(), ptref_losses.tolist(),
                                [0.0] * 50, weights, weights, TRAJECTORY_WEIGHTS)
    return loss


def test_round_off_of_the_runs_scale_on_a_near_zero_loss_passes():
    loss = loss_check(KERAS_LOSSES + ROUND_OFF)  # 2.5e-2 relative at the last step
    assert loss.ok, f"max gap {loss.metric:.3g} > {TRAJECTORY_LOSS.value}"


@pytest.mark.parametrize("step", [0, 5, 49], ids=["largest", "mid", "near-zero"])
def test_a_real_loss_gap_is_caught_anywhere_in_the_run(step):
    ptref_losses = KERAS_LOSSES.copy()
    ptref_losses[step] += max(3e-4 * KERAS_LOSSES[step], 1e-4)  # 3x the relative part, or 1e-4 near zero
    assert not loss_check(ptref_losses).ok


def test_gradient_bound_is_its_scaled_absolute_part_for_every_element():
    scale = 2.0
    expected = np.array([0.0, 0.5, scale])  # a bias whose true gradient is 0, and the model's largest gradient
    noise = np.array([1e-9, 0.0, 0.0])
    assert GRADIENT.gap(expected + noise, expected, scale).max() <= GRADIENT.value
    at_largest = expected + np.array([0.0, 0.0, 1.5e-5 * scale])  # numpy's atol + rtol·|b| would allow 2e-5·S
    assert GRADIENT.gap(at_largest, expected, scale).max() > GRADIENT.value


def test_a_relative_only_tolerance_is_refused():
    with pytest.raises(ValueError, match="needs an absolute part"):
        Tolerance("RELATIVE_ONLY", 1e-4, "rel", "no absolute part")
