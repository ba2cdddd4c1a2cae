"""Levels 4-5: whole training runs, Keras/TF1 against ptref trained by the real Lightning Trainer."""

from __future__ import annotations

import time

import pytest

from compare import training
from compare.tolerances import TRAJECTORY_LOSS


@pytest.mark.trajectory
@pytest.mark.parametrize("workflow", ["softmax", "mlp", "cnn", "cnn_bn"])
def test_fifty_adam_steps_follow_the_keras_trajectory(workflow: str) -> None:
    loss, weights = training.trajectory(workflow, steps=50, batch_size=32)
    assert len(loss.details["torch_loss"]) == len(loss.details["keras_loss"]) == 50
    assert loss.details["keras_loss"][-1] < loss.details["keras_loss"][0]  # it trained: the check is not vacuous
    assert loss.ok, f"loss per step: max rel gap {loss.metric:.3g} > {TRAJECTORY_LOSS.value}"
    assert weights.ok, f"final weights: max abs gap {weights.metric:.3g} > {weights.tolerance.value}"


@pytest.mark.trajectory
@pytest.mark.parametrize("bias_column", [True, False], ids=["ones-column", "nn.Linear"])
def test_house_price_tf1_session_and_lightning_descend_identically(bias_column: bool) -> None:
    loss, weights = training.house_price_tf1(steps=200, bias_column=bias_column)
    assert loss.details["keras_loss"][-1] < 0.5 * loss.details["keras_loss"][0]
    assert loss.ok, f"loss per step: max rel gap {loss.metric:.3g}"
    assert weights.ok, f"final weights: max abs gap {weights.metric:.3g}"


@pytest.mark.statistical
def test_mean_accuracy_over_three_seeds_agrees(capsys: pytest.CaptureFixture) -> None:
    start = time.perf_counter()
    (result,) = training.statistical(seeds=(0, 1, 2), epochs=1, init_effect=False)
    means = result.details["means"]
    assert all(80 < mean < 95 for mean in means.values()), means  # both really learned
    assert result.ok, f"mean accuracies {means} differ by {result.metric:.2f} points > {result.tolerance.value}"
    with capsys.disabled():
        print(f"\nstatistical parity: {means}, {time.perf_counter() - start:.0f} s")
