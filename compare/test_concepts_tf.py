"""Every lesson run in TensorFlow (live) and in PyTorch: the same numbers, and the course's numbers, on both sides.

Both sides of a step are run once per lesson by ``ptref.concepts.lesson.run_lesson`` (what ``ptref lesson``
prints). Tolerances: values that are small integers or exact binary fractions are compared exactly; other
float32 results get rtol 1e-5 (same formulas in both frameworks; this suite runs TensorFlow with oneDNN on,
whose reordered sums move float32 results by ~1e-7 relative, ~2e-6 at most per the reference notes).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf
from torch import nn

from compare.lesson_pairs import ran
from ptref.concepts import gradients, lesson

RTOL = 1e-5


# --- autograd --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        ("square_derivative", {"y": 9.0, "dy/dx": 6.0}),
        ("persistent_tape", {"dz/dx": 108.0, "dy/dx": 6.0}),
        ("several_sources", {"f": 15.0, "df/dx": 12.0, "df/dy": 5.0}),
        ("second_derivative", {"dy/dx": 27.0, "d2y/dx2": 18.0}),
        ("worked_example", {"y": 700.0, "L": 2500.0, "dL/dy": -100.0, "dL/dW": -5000.0, "dL/db": -100.0}),
    ],
)
def test_autograd_gives_the_course_numbers_in_both(step: str, expected: dict) -> None:
    tf_values, torch_values = ran("autograd")[step]
    assert tf_values == torch_values == expected  # small integers: exact in float32


def test_gradient_descent_step_gives_w_15_b_200_1_in_both() -> None:
    tf_values, torch_values = ran("autograd")["gradient_descent_step"]
    assert tf_values["W"] == torch_values["W"] == 15.0
    for b in (tf_values["b"], torch_values["b"]):
        assert b == pytest.approx(200.1, abs=2e-5)  # float32 spacing at 200 is 1.5e-5


def test_two_layer_backprop_by_hand_agrees_across_frameworks() -> None:
    tf_values, torch_values = ran("autograd")["two_layer_backprop_by_hand"]
    for key in ("L", "dW1", "db1", "dW2", "db2"):
        np.testing.assert_allclose(tf_values[key], torch_values[key], rtol=RTOL, atol=1e-7, err_msg=key)
    assert tf_values["autograd agrees"] is torch_values["autograd agrees"] is True


# --- tensors ---------------------------------------------------------------------------------------------


def test_ranks_shapes_and_dynamic_shapes_agree() -> None:
    for step in ("ranks", "static_vs_dynamic_shape"):
        tf_values, torch_values = ran("tensors")[step]
        assert tf_values == torch_values, step
    assert ran("tensors")["static_vs_dynamic_shape"][0]["traced input shape"] == [None, 3]


def test_image_layouts_hold_the_same_pixels() -> None:
    tf_values, torch_values = ran("tensors")["image_layout"]
    for key in ("[H, W, C]", "[C, H, W]", "pixel h=1, w=2, channel 0"):
        assert tf_values[key] == torch_values[key], key
    n, h, w, c = tf_values["batch for Conv2D"]
    assert torch_values["batch for nn.Conv2d"] == [n, c, h, w]


def test_dtype_defaults_differ_only_for_integers() -> None:
    tf_values, torch_values = ran("tensors")["dtypes"]
    assert (tf_values["3.14"], torch_values["3.14"]) == ("float32", "torch.float32")
    assert (tf_values["[1, 2, 3]"], torch_values["[1, 2, 3]"]) == ("int32", "torch.int64")
    assert tf_values["3.14 + [1, 2, 3]"].startswith("InvalidArgumentError")  # TF refuses to promote
    assert torch_values["3.14 + [1, 2, 3]"] == "torch.float32"


def test_both_place_the_tensor_on_the_cpu() -> None:
    tf_values, torch_values = ran("tensors")["device_placement"]
    assert tf_values["x.device"].endswith("CPU:0") and torch_values["x.device"] == "cpu"
    assert tf_values["y"] == torch_values["y"] == [2.0, 4.0, 6.0]


# --- sparse ----------------------------------------------------------------------------------------------


def test_coo_indices_are_transposes_of_each_other() -> None:
    tf_values, torch_values = ran("sparse")["coo"]
    assert tf_values["indices"] == np.transpose(torch_values["indices"]).tolist()
    for key in ("values", "nnz", "dense"):
        assert tf_values[key] == torch_values[key], key


@pytest.mark.parametrize("step", ["csr", "one_hot_sparsity", "sparse_dense_matmul"])
def test_sparse_steps_agree_exactly(step: str) -> None:
    tf_values, torch_values = ran("sparse")[step]
    assert tf_values == torch_values  # integers and small exact floats


def test_one_hot_is_99_99_percent_sparse_and_saves_39988_bytes_in_both() -> None:
    for values in ran("sparse")["one_hot_sparsity"]:
        assert values["sparsity"] == pytest.approx(0.9999, abs=1e-12)
        assert (values["dense bytes"], values["sparse bytes"], values["bytes saved"]) == (40_000, 12, 39_988)


# --- graphs ----------------------------------------------------------------------------------------------


def test_tf1_session_and_eager_pytorch_both_compute_five() -> None:
    tf_values, torch_values = ran("graphs")["build_then_run"]
    assert tf_values["c"] == torch_values["c"] == 5
    assert tf_values["c as built"].startswith('Tensor("add:0"')  # a symbol until Session.run


@pytest.mark.parametrize(
    "step", ["placeholders_are_arguments", "variables_are_parameters", "tracing_runs_python_once", "constant_folding"]
)
def test_graph_steps_agree(step: str) -> None:
    tf_values, torch_values = ran("graphs")[step]
    assert tf_values == torch_values


def test_both_fold_two_plus_three_into_five() -> None:
    tf_values, _ = ran("graphs")["constant_folding"]
    assert (tf_values["ops before"], tf_values["ops after"], tf_values["constants after"]) == (
        ["add", "mul"],
        ["mul"],
        [5.0],
    )


def test_traced_graphs_have_the_same_nodes_and_edges() -> None:
    tf_values, torch_values = ran("graphs")["graph_nodes_and_edges"]

    def common_names(names: list[str]) -> list[str]:  # TF names the result op "Identity", fx "output"
        return [n.lower().replace("identity", "output") for n in names]

    assert common_names(tf_values["nodes"]) == torch_values["nodes"]
    assert sorted(common_names(tf_values["edges"])) == sorted(torch_values["edges"])


def test_savedmodel_and_exported_program_reload_to_the_same_output() -> None:
    tf_values, torch_values = ran("graphs")["serialize_without_the_class"]
    assert tf_values["reloaded output"] == torch_values["reloaded output"] == torch_values["original"]
    assert "saved_model.pb" in tf_values["files"] and torch_values["files"] == ["dense_relu.pt2"]


# --- training loop ---------------------------------------------------------------------------------------


def test_keras_fit_and_the_pytorch_loop_give_the_same_losses_and_weights() -> None:
    tf_values, torch_values = ran("training_loop")["training_loop"]
    assert tf_values["updates per epoch"] == torch_values["updates per epoch"] == 4
    np.testing.assert_allclose(tf_values["loss per epoch"], torch_values["loss per epoch"], rtol=RTOL)
    np.testing.assert_allclose([tf_values["w"], tf_values["b"]], [torch_values["w"], torch_values["b"]], rtol=RTOL)


def test_accumulated_gradient_is_doubled_in_both() -> None:
    tf_values, torch_values = ran("training_loop")["forgetting_zero_grad"]
    np.testing.assert_allclose(list(tf_values.values()), list(torch_values.values()), rtol=RTOL)
    for values in (tf_values, torch_values):
        assert values["two passes, no zero_grad"] == 2 * values["dL/dw, one pass"]  # x + x is exact


def test_batch_minibatch_single_curves_agree() -> None:
    tf_values, torch_values = ran("training_loop")["batch_vs_minibatch_vs_single"]
    expected_updates = {"batch": 1, "mini-batch": 4, "single": 32}
    assert tf_values["updates per epoch"] == torch_values["updates per epoch"] == expected_updates
    for name, curve in torch_values["loss per epoch"].items():
        np.testing.assert_allclose(tf_values["loss per epoch"][name], curve, rtol=RTOL, err_msg=name)


# --- gradients -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("step", ["exploding_gradients", "clip_by_value", "clip_by_norm"])
def test_exploding_and_clipped_chains_agree(step: str) -> None:
    tf_values, torch_values = ran("gradients")[step]
    assert tf_values.keys() == torch_values.keys()
    for key, value in torch_values.items():
        if value is None:  # the unclipped chain never gets below 0.01
            assert tf_values[key] is None, key
            continue
        # torch's clip_grad_norm_ adds 1e-6 to a norm of 3.3e6: 3e-13 relative, far inside RTOL; inf/nan match
        np.testing.assert_allclose(tf_values[key], value, rtol=RTOL, err_msg=key)


def test_clipping_values_are_5_and_5_over_sqrt_10() -> None:
    assert ran("gradients")["clip_by_value"][0]["gradient per layer, step 1"] == [5.0] * 10
    tf_norm_clipped = ran("gradients")["clip_by_norm"][0]["gradient per layer, step 1"]
    np.testing.assert_allclose(tf_norm_clipped, [5 / math.sqrt(10)] * 10, rtol=1e-6)


def test_sigmoid_vanishes_and_relu_he_does_not_in_both() -> None:
    """Each framework draws its own initial weights, so the norms differ; the shape of the curves must not."""
    for sigmoid, relu in zip(ran("gradients")["sigmoid_gradients_vanish"], ran("gradients")["relu_he_gradients_flow"]):
        norms = sigmoid["norm per layer"]
        assert all(a < b for a, b in zip(norms, norms[1:])) and norms[0] / norms[-1] < 1e-5
        assert max(relu["norm per layer"]) / min(relu["norm per layer"]) < 10


@pytest.mark.parametrize(("activation", "keras_activation"), [(nn.Sigmoid, "sigmoid"), (nn.ReLU, "relu")])
def test_same_weights_give_the_same_layer_gradient_norms(activation: type[nn.Module], keras_activation: str) -> None:
    twin = lesson.load_twin("gradients")
    model = gradients.deep_network(activation, he_init=activation is nn.ReLU)
    keras_model = twin.deep_network(keras_activation)
    linears = [m for m in model if isinstance(m, nn.Linear)]
    keras_model.set_weights([w for m in linears for w in (m.weight.detach().T.numpy(), m.bias.detach().numpy())])
    x, y = gradients.random_batch()
    torch_norms = gradients.layer_gradient_norms(model, x, y)
    tf_norms = twin.layer_gradient_norms(keras_model, tf.constant(x.numpy()), tf.constant(y.numpy()))
    # 11 float32 layers in each framework; the sigmoid norms reach 5e-9, still ~1e-6 relative apart. Relative only
    # on purpose: a norm is a product of per-layer factors, its error relative at every depth; an absolute part
    # scaled to the largest norm would exempt the vanishing ones.
    np.testing.assert_allclose(tf_norms, torch_norms, rtol=RTOL, atol=0)


# --- the command -----------------------------------------------------------------------------------------


def test_lesson_command_shows_tensorflow_running_live(capsys: pytest.CaptureFixture[str]) -> None:
    assert lesson.main(["autograd", "--step", "worked_example", "--width", "200"]) == 0
    out = capsys.readouterr().out
    assert "TensorFlow: running live" in out
    row = next(line for line in out.splitlines() if "→ dL/dW" in line)
    assert row.count("→ dL/dW = -5000.0") == 2  # TensorFlow's column and PyTorch's
