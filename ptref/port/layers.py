"""The translation table: each supported Keras layer class -> the torch submodule(s) computing it.

A translator gets the layer's :class:`~ptref.port.graph.Node` and the layout its input arrives in, and returns
a :class:`Translation`: constructor code for each submodule (called in turn), the torch tensor behind each Keras
weight (in the layer's ``weights`` order) with its conversion, and the layout the submodules take. Layouts:

* ``CHANNELS_FIRST``: the Keras channel axis (last) sits second, as torch's convolutions, pooling and batch norm
  want it;
* ``CHANNELS_LAST``: Keras's own layout, as Linear, Embedding, the recurrent layers and reshapes want it;
* ``ANY``: elementwise layers, which work in whatever layout the input has.

Moving a tensor between the first two is the code generator's job (``ptref.port.codegen``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ptref.port.graph import Node

CHANNELS_FIRST, CHANNELS_LAST, ANY = "channels_first", "channels_last", "any"


@dataclass
class Module:
    """``self.<attribute> = <constructor>``; ``weights``: (tensor name in it, conversion code or None) per
    Keras weight it holds, in Keras's order."""

    attribute: str
    constructor: str
    weights: list[tuple[str, str | None]] = field(default_factory=list)


@dataclass
class Translation:
    modules: list[Module]
    takes: str


def code(function: str, *args: Any, defaults: dict[str, Any] | None = None, **kwargs: Any) -> str:
    """``function(arg, ..., key=value, ...)`` as source, leaving out keywords equal to ``defaults``."""
    defaults = defaults or {}
    shown = [_literal(a) for a in args]
    shown += [f"{k}={_literal(v)}" for k, v in kwargs.items() if k not in defaults or defaults[k] != v]
    return f"{function}({', '.join(shown)})"


def _literal(value: Any) -> str:
    if isinstance(value, (tuple, list)) and len(value) == 1 and not isinstance(value[0], (tuple, list)):
        return repr(value[0])  # Keras's 1-D sizes are 1-tuples; torch takes the int
    if isinstance(value, list):
        return repr(tuple(value))
    return value if isinstance(value, _Code) else repr(value)


class _Code(str):
    """Source text passed through :func:`code` as is (a nested constructor)."""


def torch_axis(axis: int, rank: int, layout: str) -> int:
    """Keras ``axis`` of a rank-``rank`` tensor -> its torch axis in ``layout`` (channels move from last to 1)."""
    axis %= rank
    if layout != CHANNELS_FIRST or rank < 3:
        return axis
    return 1 if axis == rank - 1 else axis + (axis > 0)


# Keras activation name -> torch module constructor (``{dim}``: the softmax axis in the output's layout).
ACTIVATIONS = {
    "relu": "nn.ReLU()",
    "relu6": "nn.ReLU6()",
    "sigmoid": "nn.Sigmoid()",
    "tanh": "nn.Tanh()",
    "softmax": "nn.Softmax(dim={dim})",
    "log_softmax": "nn.LogSoftmax(dim={dim})",
    "elu": "nn.ELU()",
    "selu": "nn.SELU()",
    "gelu": "nn.GELU()",  # keras.activations.gelu's default: approximate=False (erf)
    "silu": "nn.SiLU()",
    "swish": "nn.SiLU()",
    "hard_sigmoid": "nn.Hardsigmoid()",  # Keras 3: relu6(x + 3) / 6, torch's definition
    "hard_silu": "nn.Hardswish()",
    "hard_swish": "nn.Hardswish()",
    "softplus": "nn.Softplus()",
    "softsign": "nn.Softsign()",
    "mish": "nn.Mish()",
    "leaky_relu": "nn.LeakyReLU(0.2)",  # keras.activations.leaky_relu's default slope
}


@dataclass
class Site:
    """What a translator sees: the node, its Keras config, the layout of its input, a namer for extra modules."""

    node: Node
    config: dict
    layout: str
    namer: Callable[[str], str]


def activation_module(site: Site, name: Any, attribute: str, rank: int, layout: str) -> Module | None:
    """The module for Keras ``activation=name`` on an output of ``rank`` in ``layout``; None for linear."""
    if name in (None, "linear"):
        return None
    if not isinstance(name, str) or name not in ACTIVATIONS:
        raise site.node.unsupported(f"activation {name!r} is not one of {sorted(ACTIVATIONS)} or 'linear'")
    return Module(attribute, ACTIVATIONS[name].format(dim=torch_axis(-1, rank, layout)))


def with_activation(site: Site, modules: list[Module], takes: str) -> Translation:
    """``modules`` followed by the layer's own ``activation=`` (if any), applied in the modules' layout."""
    name = site.config.get("activation")
    if name not in (None, "linear"):
        attribute = site.namer(f"{site.node.name}_{name}")
        modules = [*modules, activation_module(site, name, attribute, site.node.output.rank, takes)]
    return Translation(modules, takes)
