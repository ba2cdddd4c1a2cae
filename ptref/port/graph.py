"""A Keras model read as a list of layer calls in topological order, each tensor named after its layer.

Sequential and Functional models are both graphs of nodes in Keras 3 (a built Sequential keeps a Functional
inside); each node is one call of one layer. A layer called more than once (shared weights), a layer with more
than one output, or a model without a known input shape is refused with a :class:`PortError` naming the layer.
"""

from __future__ import annotations

import builtins
import keyword
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import nn

from ptref.parity.tf import import_keras

# Names the generated module uses itself, and nn.Module's attributes (a submodule may not shadow them).
_TAKEN = {"self", "torch", "nn", "Tensor", "ptref", "Path", "KerasMap", "LayerLink", "WeightLink", "load_model"}
_TAKEN |= set(keyword.kwlist) | set(dir(builtins)) | set(dir(nn.Module))


class PortError(ValueError):
    """A Keras model, layer or option that ``ptref.port`` cannot translate (one line, naming the layer)."""


@dataclass(frozen=True)
class Tensor:
    """A Keras tensor of the graph: the Python variable holding it, its Keras shape (batch ``None``), dtype."""

    name: str
    shape: tuple[int | None, ...]
    dtype: str

    @property
    def rank(self) -> int:
        return len(self.shape)


@dataclass
class Node:
    """One call of ``layer`` (position ``index`` in ``model.layers``) on ``inputs``, giving ``output``."""

    layer: Any
    index: int
    name: str  # the Python identifier of its submodule and output variable
    inputs: list[Tensor]
    output: Tensor

    def where(self) -> str:
        sources = [t.name for t in self.inputs]
        kind = type(self.layer).__name__
        return f"layer {self.layer.name!r} ({kind}, #{self.index} in model.layers, inputs {sources})"

    def unsupported(self, reason: str) -> PortError:
        return PortError(f"ptref.port: {self.where()}: {reason}")


@dataclass
class Graph:
    name: str
    inputs: list[Tensor]
    nodes: list[Node]
    outputs: list[Tensor]
    names: set[str] = field(default_factory=set)

    def identifier(self, wanted: str) -> str:
        """A fresh Python identifier close to ``wanted`` (a Keras name), unique in the generated module."""
        base = re.sub(r"\W", "_", wanted) or "layer"
        base = f"layer_{base}" if base[0].isdigit() else base
        base = f"{base}_" if base in _TAKEN else base
        name, count = base, 1
        while name in self.names:
            count += 1
            name = f"{base}_{count}"
        self.names.add(name)
        return name


def load_keras(model_or_path: Any) -> Any:
    """A live Keras model, or the one saved at a ``.keras``/``.h5`` path (loaded without its compile state)."""
    if isinstance(model_or_path, (str, Path)):
        path = Path(model_or_path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such Keras model file (.keras or .h5)")
        return import_keras().models.load_model(path, compile=False)
    return model_or_path


def read_graph(model: Any) -> Graph:
    """The layer calls of ``model`` (Sequential or Functional) in an order where inputs come before use."""
    keras = import_keras()
    from keras.src.ops.function import make_node_key

    functional = getattr(model, "_functional", None) if isinstance(model, keras.Sequential) else model
    if functional is None or not hasattr(functional, "_nodes_by_depth"):
        raise PortError(
            f"ptref.port: model {model.name!r} ({type(model).__name__}) has no graph: give it an input shape "
            "(keras.Input) or build it; subclassed models are not supported"
        )
    graph = Graph(model.name, [], [], [])
    tensors: dict[int, Tensor] = {}
    for tensor in functional.inputs:
        layer = tensor._keras_history.operation
        tensors[id(tensor)] = Tensor(graph.identifier(layer.name), tuple(tensor.shape), str(tensor.dtype))
        graph.inputs.append(tensors[id(tensor)])
    positions = {id(layer): index for index, layer in enumerate(model.layers)}
    for operation in functional.operations:
        if isinstance(operation, keras.layers.InputLayer):
            continue
        calls = [
            node
            for index, node in enumerate(operation._inbound_nodes)
            if make_node_key(operation, index) in functional._nodes
        ]
        inputs = [tensors[id(t)] for t in calls[0].input_tensors if id(t) in tensors]
        node = Node(operation, positions.get(id(operation), -1), graph.identifier(operation.name), inputs, None)
        if len(calls) != 1:
            raise node.unsupported(f"called {len(calls)} times (shared layers are not supported)")
        if len(calls[0].outputs) != 1:
            raise node.unsupported(f"returns {len(calls[0].outputs)} tensors (one output per layer is supported)")
        output = calls[0].outputs[0]
        node.output = tensors[id(output)] = Tensor(node.name, tuple(output.shape), str(output.dtype))
        graph.nodes.append(node)
    graph.outputs = [tensors[id(t)] for t in functional.outputs]
    return graph
