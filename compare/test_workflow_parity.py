"""Levels 1-3 for every workflow: Keras and ptref with the same weights give the same outputs, gradients
and optimizer steps (checks in ``compare/checks.py``; tolerances and their reasons in ``compare/tolerances.py``).

The "teeth" tests apply a deliberately wrong mapping and require the parity check it stands for to fail.
"""

from __future__ import annotations

import pytest

from compare import checks, teeth as wrong
from compare.workflows import WORKFLOWS
from ptref.parity import Check


def assert_ok(result: Check) -> None:
    assert result.ok, result.message()


@pytest.mark.forward
@pytest.mark.parametrize("direction", ["keras->ptref", "ptref->keras"])
@pytest.mark.parametrize("workflow", WORKFLOWS)
def test_outputs_agree_on_real_data_with_transferred_weights(workflow: str, direction: str) -> None:
    outputs, layers = checks.forward(workflow, direction)
    assert outputs.details["examples"] == (47 if workflow == "house_price" else 256)
    assert len(layers.details["per_layer"]) >= 1
    assert_ok(outputs)
    assert_ok(layers)


@pytest.mark.gradient
@pytest.mark.parametrize("workflow", WORKFLOWS)
def test_gradient_tape_matches_autograd_per_parameter(workflow: str) -> None:
    result = checks.gradient(workflow)
    assert len(result.details["per_parameter"]) >= 2
    assert_ok(result)


@pytest.mark.step
@pytest.mark.parametrize("optimizer", list(checks.KERAS_OPTIMIZERS))
def test_one_step_of_each_keras_optimizer_matches(optimizer: str) -> None:
    assert_ok(checks.step("mlp", optimizer))


@pytest.mark.step
@pytest.mark.parametrize("workflow", ["house_price", "cnn", "cnn_bn"])
def test_one_sgd_step_matches_including_batchnorm_moving_statistics(workflow: str) -> None:
    assert_ok(checks.step(workflow, "sgd"))


@pytest.mark.forward
@pytest.mark.parametrize("teeth", ["transposed_dense_kernel", "wrong_flatten_order"])
def test_wrong_weight_mapping_fails_forward_parity(teeth: str) -> None:
    result = wrong.TEETH[teeth]()
    assert result.expect_failure and not result.within, f"{teeth} went unnoticed: diff {result.metric:.3g}"
    assert result.metric > 100 * result.tolerance.value  # by a wide margin, not by luck
    assert result.where.split(" ↔ ")[0] == result.details["broken_layer"], result.where  # the layer that parts


@pytest.mark.step
@pytest.mark.parametrize("teeth", ["torch_default_adam", "rmsprop_epsilon_outside", "batchnorm_torch_momentum"])
def test_torch_conventions_fail_step_parity(teeth: str) -> None:
    result = wrong.TEETH[teeth]()
    assert result.expect_failure and not result.within, f"{teeth} went unnoticed: diff {result.metric:.3g}"
    assert result.metric > 10 * result.tolerance.value

