"""The graphs lesson: eager results, tracing, folding and a reloaded exported program."""

from __future__ import annotations

import numpy as np

from ptref.concepts import graphs


def test_two_plus_three_is_five_as_soon_as_it_runs() -> None:
    assert graphs.build_then_run() == {"c as built": "tensor(5)", "c": 5}


def test_placeholder_becomes_a_function_argument() -> None:
    assert graphs.placeholders_are_arguments() == {"2x + 1 at [1, 2, 3]": [3.0, 5.0, 7.0]}


def test_parameter_is_tracked_and_updated_like_a_variable() -> None:
    assert graphs.variables_are_parameters() == {"weight": 0.5, "trainable": True, "tracked by the module": 1}


def test_tracing_runs_the_python_body_once() -> None:
    traced = graphs.tracing_runs_python_once()
    assert traced["eager results"] == traced["traced results"] == [3.0, 5.0, 7.0]
    assert traced["Python body ran (eager, 3 calls)"] == 3
    assert traced["Python body ran (traced, 3 calls)"] == 1


def test_traced_graph_links_inputs_through_matmul_add_relu() -> None:
    graph = graphs.graph_nodes_and_edges()
    assert graph["nodes"] == ["x", "w", "b", "matmul", "add", "relu", "output"]
    assert set(graph["edges"]) == {
        "x -> matmul", "w -> matmul", "matmul -> add", "b -> add", "add -> relu", "relu -> output"
    }


def test_constant_subgraph_is_folded_to_five() -> None:
    folded = graphs.constant_folding()
    assert folded["ops before"] == ["add", "mul"]
    assert folded["ops after"] == ["mul"]
    assert folded["constants after"] == [5.0]
    assert folded["x = [1, 2]"] == [5.0, 10.0]


def test_exported_program_reloads_from_the_file_alone() -> None:
    shipped = graphs.serialize_without_the_class()
    x = np.array([[1.0, 1.0, 1.0], [1.0, 0.0, 2.0]])
    w = np.array([[1.0, -2.0], [3.0, 4.0], [-5.0, 6.0]])
    assert shipped["files"] == ["dense_relu.pt2"]
    assert shipped["reloaded output"] == shipped["original"] == np.maximum(x @ w, 0).tolist()  # integers: exact
