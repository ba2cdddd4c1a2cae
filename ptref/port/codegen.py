"""Write the PyTorch source of a Keras graph: a class named after the model, one submodule per Keras layer in
``__init__``, one line per layer in ``forward``, ``keras_map()``, and ``load_model()``.

Layouts: each tensor has the layout of its rank in the chosen ``layout`` (``channels_first``: rank-4 tensors are
``(N, C, H, W)``, every other rank as in Keras; ``channels_last``: all as in Keras). A submodule that computes
in the other layout (``ptref.port.layers``) is called on ``x.movedim(-1, 1)`` or ``x.movedim(1, -1)``, and its
output moved back where the tensor's layout differs.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from ptref.parity.infer import keras_weight_key
from ptref.port.graph import Graph, Node, Tensor
from ptref.port.layers import ANY, CHANNELS_FIRST, CHANNELS_LAST, Site
from ptref.port.table import TRANSLATORS

LAYOUTS = (CHANNELS_FIRST, CHANNELS_LAST)

_LAYOUT_TEXT = {
    CHANNELS_FIRST: (
        "Layout: images are channels-first, (N, C, H, W) where Keras has (N, H, W, C); sequences stay (N, time,\n"
        "features) and vectors (N, features), as in Keras. Flatten keeps Keras's (H, W, C) order\n"
        "(ptref.nn.FlattenChannelsLast), so a Linear after it holds Keras's Dense kernel, only transposed.\n"
        "Submodules that compute in the other layout are called on x.movedim(...)."
    ),
    CHANNELS_LAST: (
        "Layout: Keras's own, channels last: (N, H, W, C) images, (N, time, features) sequences. Convolution,\n"
        "pooling and batch-norm submodules compute channels-first: they are called on x.movedim(-1, 1) and their\n"
        "outputs moved back."
    ),
}


def tensor_layout(tensor: Tensor, layout: str) -> str:
    return CHANNELS_FIRST if layout == CHANNELS_FIRST and tensor.rank >= 4 else CHANNELS_LAST


def _move(expression: str, rank: int, source: str, target: str) -> str:
    if source == target or rank < 3:
        return expression
    return f"{expression}.movedim(-1, 1)" if target == CHANNELS_FIRST else f"{expression}.movedim(1, -1)"


def torch_shape(tensor: Tensor, layout: str) -> str:
    """``(N, C, H, W)``-style text of a tensor's shape in its torch layout."""
    sizes = ["N", *(str(s) for s in tensor.shape[1:])]
    if tensor_layout(tensor, layout) == CHANNELS_FIRST:
        sizes = [sizes[0], sizes[-1], *sizes[1:-1]]
    return f"({', '.join(sizes)})"


@dataclass
class _Parts:
    init: list[str] = field(default_factory=list)
    forward: list[str] = field(default_factory=list)
    weights: list[str] = field(default_factory=list)
    layers: list[str] = field(default_factory=list)


def _translate(node: Node, graph: Graph, layout: str, parts: _Parts) -> None:
    layer = node.layer
    translator = TRANSLATORS.get(type(layer).__name__)
    if translator is None:
        raise node.unsupported(f"no translation for Keras class {type(layer).__name__} (see ptref.port.SUPPORTED)")
    if not node.inputs:
        raise node.unsupported("takes no input tensor of the graph")
    site = Site(node, layer.get_config(), tensor_layout(node.inputs[0], layout), graph.identifier)
    translation = translator(site)
    takes = translation.takes
    output_layout = site.layout if takes == ANY else takes
    arguments = [
        _move(t.name, t.rank, tensor_layout(t, layout), tensor_layout(t, layout) if takes == ANY else takes)
        for t in node.inputs
    ]
    expression = ", ".join(arguments)
    for module in translation.modules:
        parts.init.append(f"self.{module.attribute} = {module.constructor}")
        expression = f"self.{module.attribute}({expression})"
    output = node.output
    moved = _move(expression, output.rank, output_layout, tensor_layout(output, layout))
    parts.forward.append(f"{output.name} = {moved}")
    links = [(f"{m.attribute}.{name}", convert) for m in translation.modules for name, convert in m.weights]
    if len(links) != len(layer.weights):
        raise node.unsupported(f"translated to {len(links)} tensors for its {len(layer.weights)} Keras weights")
    for variable, (torch_name, convert) in zip(layer.weights, links):
        extra = [f"*{convert}"] if convert else []
        extra += [] if variable.trainable else ["trainable=False"]
        arguments = ", ".join([_quote(keras_weight_key(layer, variable)), _quote(torch_name), *extra])
        parts.weights.append(f"WeightLink({arguments}),")
    link_layout = "channels_first" if output_layout == CHANNELS_FIRST and output.rank >= 3 else "same"
    attribute = translation.modules[-1].attribute
    parts.layers.append(f"LayerLink({_quote(layer.name)}, {_quote(attribute)}, {_quote(link_layout)}),")


def _quote(text: str) -> str:
    """A double-quoted Python string literal (the project's style; ``repr`` would use single quotes)."""
    return json.dumps(text)


def class_name_for(model_name: str) -> str:
    """``mnist_convnet`` -> ``MnistConvnet`` (a valid identifier)."""
    words = re.split(r"[^0-9a-zA-Z]+", model_name)
    name = "".join(w[:1].upper() + w[1:] for w in words if w) or "PortedModel"
    return f"Model{name}" if name[0].isdigit() else name


def generate(graph: Graph, class_name: str, layout: str) -> str:
    """The source of ``model.py`` for ``graph``."""
    if layout not in LAYOUTS:
        raise ValueError(f"ptref.port: layout={layout!r} is not one of {LAYOUTS}")
    parts = _Parts()
    for node in graph.nodes:
        _translate(node, graph, layout, parts)
    inputs = ", ".join(f"{t.name}: Tensor" for t in graph.inputs)
    outputs = ", ".join(t.name for t in graph.outputs)
    returns = "Tensor" if len(graph.outputs) == 1 else f"tuple[{', '.join(['Tensor'] * len(graph.outputs))}]"
    shapes = "; ".join(f"{t.name} {torch_shape(t, layout)}" for t in graph.inputs)
    results = "; ".join(f"{t.name} {torch_shape(t, layout)}" for t in graph.outputs)
    body = _TEMPLATE.format(
        model=graph.name, cls=class_name, inputs=inputs, returns=returns,
        shapes=shapes, results=results, outputs=outputs, layout=layout,
        init=_indent(parts.init, 8), forward=_indent(parts.forward, 8),
        weights=_indent(parts.weights, 16), layers=_indent(parts.layers, 16),
        input_layout=_quote(input_layout(graph, layout)),
    )
    imports = ["from pathlib import Path", "", "import torch", "from torch import Tensor, nn", ""]
    imports += [f"import {m}" for m in ("ptref.nn", "ptref.port.convert") if f"{m}." in body]
    imports += ["from ptref.parity.mapping import KerasMap, LayerLink, WeightLink"]
    header = (
        f'"""{class_name}: the Keras model {graph.name!r} ported to PyTorch by ptref.port.\n\n'
        f'{_LAYOUT_TEXT[layout]}\n"""\n'
    )
    return header + "\n" + "\n".join(imports) + "\n" + body


def input_layout(graph: Graph, layout: str) -> str:
    """``KerasMap.input_layout``: ``"channels_first"`` when the module takes images channels first (the parity
    engine then moves Keras's ``(N, H, W, C)`` inputs to ``(N, C, H, W)``), ``"same"`` when it takes Keras's layout."""
    moved = [tensor_layout(t, layout) == CHANNELS_FIRST for t in graph.inputs]
    return CHANNELS_FIRST if any(moved) else "same"


def _indent(lines: list[str], spaces: int) -> str:
    return "\n".join(wrapped for line in lines for wrapped in _wrap(" " * spaces + line))


LINE_LENGTH = 120  # the project's ruff line length: the written source passes the same check as ours


def _wrap(line: str) -> list[str]:
    """``line`` as is when it fits, else its outermost call with one argument per line (recursively), the way a
    person (or a formatter) would break ``name(a, b, c)`` that is too long."""
    if len(line) <= LINE_LENGTH:
        return [line]
    open_at = line.find("(")
    close_at = line.rfind(")")
    if open_at < 0 or close_at < open_at:
        return [line]
    head, inner, tail = line[: open_at + 1], line[open_at + 1 : close_at], line[close_at:]
    indent = " " * (len(line) - len(line.lstrip()) + 4)
    lines = [head]
    for argument in _split_arguments(inner):
        lines += _wrap(f"{indent}{argument},")
    return [*lines, " " * (len(indent) - 4) + tail]


def _split_arguments(text: str) -> list[str]:
    """The top-level comma-separated parts of ``text`` (commas inside brackets or string literals stay)."""
    parts, depth, quote, start = [], 0, "", 0
    for index, char in enumerate(text):
        if quote:
            quote = "" if char == quote and text[index - 1] != "\\" else quote
        elif char in "\"'":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(text[start:index].strip())
            start = index + 1
    parts.append(text[start:].strip())
    return [part for part in parts if part]


_TEMPLATE = '''

class {cls}(nn.Module):
    """The Keras model {model!r}: each submodule is named after the Keras layer it computes.

    Inputs: {shapes}.
    Outputs: {results}.
    Layout: {layout} (see the module docstring).
    """

    def __init__(self) -> None:
        super().__init__()
{init}

    def forward(self, {inputs}) -> {returns}:
{forward}
        return {outputs}

    def keras_map(self) -> KerasMap:
        """Each Keras weight and the tensor holding it here; each Keras layer and the submodule computing it."""
        return KerasMap(
            weights=[
{weights}
            ],
            layers=[
{layers}
            ],
            input_layout={input_layout},
        )


def load_model(weights: str | Path | None = None) -> {cls}:
    """A {cls} with the ported weights (``weights.pt`` beside this file unless ``weights`` names a file)."""
    model = {cls}()
    path = Path(__file__).with_name("weights.pt") if weights is None else Path(weights)
    model.load_state_dict(torch.load(path, weights_only=True))
    return model
'''
