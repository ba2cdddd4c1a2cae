"""The graphs lesson's TensorBoard step: TF1's ``FileWriter`` graph and PyTorch's traced graph, read back, pair up.

TensorFlow runs live. The step's two sides build the course's house-price model ``y_pred = X·W`` (TF1 with its
loss and ``GradientDescentOptimizer``; PyTorch traced by ``SummaryWriter.add_graph``), write it to an event file
and read the graph back. No numbers: the comparisons are of graph structure, exact.
"""

from __future__ import annotations

import functools
import tempfile

import torch
from torch import nn
from torch.utils.tensorboard import SummaryWriter

from ptref.concepts import graphs, lesson

# The TF1 op and the node torch.jit.trace records for the same role in y_pred = X·W.
TWINS = {"MatMul": "aten::matmul", "Placeholder": "IO Node", "ReadVariableOp": "prim::GetAttr"}


@functools.cache
def sides() -> tuple[dict, dict]:
    """``(TensorFlow values, PyTorch values)`` of the step, both run by ``ptref lesson``'s own runner."""
    (step,), status = lesson.run_lesson("graphs", only="tensorboard_graph")
    assert status.startswith("TensorFlow: running live"), status
    assert step.tf.values is not None, step.tf.note
    return step.tf.values, step.torch.values


def test_y_pred_is_the_matmul_of_the_input_and_the_weights_in_both() -> None:
    tf_values, torch_values = sides()
    assert TWINS[tf_values["y_pred"][1]] == torch_values["y_pred"][1]
    tf_inputs = [TWINS[op] for _, op in tf_values["y_pred's inputs"]]
    assert tf_inputs == [op for _, op in torch_values["y_pred's inputs"]] == ["IO Node", "prim::GetAttr"]


def test_tf1_file_holds_the_training_graph_and_the_trace_the_forward_pass_only() -> None:
    tf_values, torch_values = sides()
    assert tf_values["gradient and update nodes"] > 0 == torch_values["gradient and update nodes"]
    assert "ResourceApplyGradientDescent" in tf_values["op types"]  # GradientDescentOptimizer's update of W
    assert set(torch_values["op types"]) == set(TWINS.values())
    assert tf_values["nodes"] > torch_values["nodes"]


def test_tensorboard_and_tensorflow_read_the_same_graph_from_a_pytorch_event_file() -> None:
    """TensorFlow's own record reader (the TF side's helper) and TensorBoard's agree on PyTorch's file."""
    twin = lesson.load_twin("graphs")
    with tempfile.TemporaryDirectory() as logdir:
        with SummaryWriter(logdir) as writer:
            writer.add_graph(nn.Linear(3, 1), torch.zeros(1, 3))
        read_by_tensorflow = twin.graph_in_event_file(logdir)
        read_by_tensorboard = graphs.graph_in_event_file(logdir)
    assert read_by_tensorflow == read_by_tensorboard
    assert "aten::linear" in {op for op, _ in read_by_tensorboard.values()}
