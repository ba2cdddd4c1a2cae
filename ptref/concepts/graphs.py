"""Computation graphs and sessions: TF1 build-then-run ↔ PyTorch eager, tracing, folding, serialization.

TF1 builds a graph of ops (nodes) joined by tensors (edges), then runs it in a ``Session``. PyTorch runs each
op at once (eager, like TF2) and records a graph only for autograd; a graph to inspect, optimize or ship
comes from tracing: ``torch.fx`` (Python-level) or ``torch.export`` (ATen-level, serializable). TensorBoard
draws either framework's graph from an event file. TensorFlow twin: ``compare/concepts/graphs_tf.py``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import torch
from torch import nn
from torch.fx.experimental.const_fold import split_const_subgraphs


def graph_in_event_file(logdir: str) -> dict[str, tuple[str, list[str]]]:
    """``{node name: (op type, input names)}`` of the graph in ``logdir``'s event file, read as TensorBoard does.

    TensorBoard's reader (like ``torch.utils.tensorboard``) loads TensorFlow if it can, so it is imported only
    when called; ``ptref``'s commands make it use its own TensorFlow-free stub.
    """
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(logdir)
    events.Reload()
    return {node.name: (node.op, list(node.input)) for node in events.Graph().node}


def build_then_run() -> dict[str, object]:
    """The course's first graph: a = 2, b = 3, c = a + b.

    TF1 builds c as a symbol (``Tensor("add:0", shape=(), dtype=int32)``) and ``Session.run(c)`` computes 5;
    in PyTorch c is 5 the moment the line runs.
    """
    a = torch.tensor(2)
    b = torch.tensor(3)
    c = a + b
    return {"c as built": str(c), "c": c.item()}


def placeholders_are_arguments() -> dict[str, list[float]]:
    """A TF1 ``placeholder`` fed through ``feed_dict`` is simply a function argument in PyTorch."""

    def affine(x: torch.Tensor) -> torch.Tensor:
        return 2 * x + 1

    x = torch.tensor([1.0, 2.0, 3.0])
    return {"2x + 1 at [1, 2, 3]": affine(x).tolist()}


def variables_are_parameters() -> dict[str, object]:
    """``tf.Variable`` ↔ ``nn.Parameter``: mutable state a module tracks and an optimizer updates.

    ``v.assign_sub(0.5)`` ↔ ``p -= 0.5`` under ``torch.no_grad()``; ``module.trainable_variables`` ↔
    ``module.parameters()``.
    """
    model = nn.Module()
    model.weight = nn.Parameter(torch.tensor(1.0))
    with torch.no_grad():
        model.weight -= 0.5
    return {
        "weight": model.weight.item(),
        "trainable": model.weight.requires_grad,
        "tracked by the module": len(list(model.parameters())),
    }


def tracing_runs_python_once() -> dict[str, object]:
    """``tf.function`` runs the Python body once to trace a graph, then replays the graph.

    Eager PyTorch runs the Python body on every call; ``torch.fx.symbolic_trace`` runs it once, like
    ``tf.function``. (``torch.compile`` is the closer twin, compiling the traced graph, at seconds per graph.)
    """
    python_runs = []

    def affine(x: torch.Tensor) -> torch.Tensor:
        python_runs.append(1)
        return 2 * x + 1

    eager = [affine(torch.tensor(v)).item() for v in (1.0, 2.0, 3.0)]
    eager_runs = len(python_runs)
    traced = torch.fx.symbolic_trace(affine)
    replayed = [traced(torch.tensor(v)).item() for v in (1.0, 2.0, 3.0)]
    return {
        "eager results": eager,
        "Python body ran (eager, 3 calls)": eager_runs,
        "traced results": replayed,
        "Python body ran (traced, 3 calls)": len(python_runs) - eager_runs,
    }


def graph_nodes_and_edges() -> dict[str, list[str]]:
    """A traced graph: its nodes are ops, its edges the tensors flowing between them.

    TF: ``tf.function(f).get_concrete_function(...).graph.get_operations()`` and each op's ``inputs``;
    PyTorch: ``torch.fx.symbolic_trace(f).graph.nodes`` and each node's ``all_input_nodes``.
    """

    def dense_relu(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.relu(x @ w + b)

    nodes = torch.fx.symbolic_trace(dense_relu).graph.nodes
    return {
        "nodes": [node.name for node in nodes],
        "edges": [f"{a.name} -> {b.name}" for b in nodes for a in b.all_input_nodes],
    }


def constant_folding() -> dict[str, object]:
    """Constant folding: x · (2 + 3) becomes x · 5 before the graph runs, since 2 + 3 needs no input.

    TF1's Grappler folds it when ``Session.run`` first optimizes the graph; with ``torch.fx`` it is a pass,
    ``split_const_subgraphs``, that computes the input-free part once and stores the result.
    """

    class Scale(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = nn.Parameter(torch.tensor(2.0), requires_grad=False)
            self.b = nn.Parameter(torch.tensor(3.0), requires_grad=False)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * (self.a + self.b)

    traced = torch.fx.symbolic_trace(Scale())
    folded = split_const_subgraphs(traced)
    folded.run_folding()

    before, after = traced.graph.nodes, folded.graph.nodes
    constants = [getattr(folded, n.target) for n in after if n.op == "get_attr"]
    return {
        "ops before": [n.name for n in before if n.op == "call_function"],
        "ops after": [n.name for n in after if n.op == "call_function"],
        "constants after": [c.item() for c in constants],
        "x = [1, 2]": folded(torch.tensor([1.0, 2.0])).tolist(),
    }


def serialize_without_the_class() -> dict[str, object]:
    """Ship a model without its Python code: TF SavedModel ↔ ``torch.export`` + ``.pt2``.

    ``torch.export.load`` rebuilds the program from the file alone, like ``tf.saved_model.load``.
    """

    class DenseRelu(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.w = nn.Parameter(torch.tensor([[1.0, -2.0], [3.0, 4.0], [-5.0, 6.0]]))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.relu(x @ self.w)

    x = torch.tensor([[1.0, 1.0, 1.0], [1.0, 0.0, 2.0]])
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "dense_relu.pt2"
        torch.export.save(torch.export.export(DenseRelu(), (x,)), path)
        files = sorted(p.name for p in Path(directory).iterdir())
        reloaded = torch.export.load(path).module()  # DenseRelu is not needed
        output = reloaded(x)
    return {
        "files": files,
        "reloaded output": output.tolist(),
        "original": DenseRelu()(x).tolist(),
    }


def tensorboard_graph() -> dict[str, object]:
    """The course's house-price graph in TensorBoard: TF1 writes the graph it built, PyTorch one it traced.

    TF1: ``tf.compat.v1.summary.FileWriter(logdir, graph)``; PyTorch: ``SummaryWriter(logdir).add_graph(model,
    example_input)``, which runs the model once under ``torch.jit.trace``. The nodes pair up: ``MatMul`` ↔
    ``aten::matmul``, the placeholder ``X`` ↔ the input node, reading variable ``W`` ↔ ``prim::GetAttr``.
    TF1's file holds everything that was built, the loss, its gradients and the update op included; the traced
    graph holds the forward pass only, since autograd builds the backward pass anew at every call. ``ptref fit``
    writes its model's graph the same way (``log_graph``); ``tensorboard --logdir DIR`` shows it.
    """
    from torch.utils.tensorboard import SummaryWriter

    class HousePrice(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.W = nn.Parameter(torch.zeros(3, 1))  # x0 = 1, area, bedrooms

        def forward(self, X: torch.Tensor) -> torch.Tensor:
            return X @ self.W

    with tempfile.TemporaryDirectory() as logdir:
        with SummaryWriter(logdir) as writer:
            writer.add_graph(HousePrice(), torch.zeros(1, 3))
        nodes = graph_in_event_file(logdir)
    (output,) = [inputs for name, (op, inputs) in nodes.items() if name.startswith("output/")]
    (y_pred,) = output
    return {
        "nodes": len(nodes),
        "y_pred": [y_pred, nodes[y_pred][0]],
        "y_pred's inputs": [[name, nodes[name][0]] for name in nodes[y_pred][1]],
        "gradient and update nodes": sum("grad" in name.lower() for name in nodes),
        "op types": sorted({op for op, _ in nodes.values()}),
    }


HELPERS = (graph_in_event_file,)

STEPS = (
    build_then_run,
    placeholders_are_arguments,
    variables_are_parameters,
    tracing_runs_python_once,
    graph_nodes_and_edges,
    constant_folding,
    serialize_without_the_class,
    tensorboard_graph,
)
