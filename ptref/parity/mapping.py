"""Which Keras layer and weight is which torch module and tensor: the map every parity check walks.

A Keras model names its layers (``model.get_layer("conv2d_1")``) and their weights (``kernel``, ``bias``,
``moving_mean`` ...); a torch model names its submodules and tensors (``features.0.weight``). A :class:`KerasMap`
pairs them, with the layout change on each side:

* :class:`WeightLink` — one Keras weight and the torch tensor that holds it, with the conversion both ways
  (a Dense kernel ``(in, out)`` is a Linear weight ``(out, in)``: ``to_torch = transpose``).
* :class:`LayerLink` — one Keras layer and the torch submodule computing the same output, with the layout of the
  torch output (``"channels_first"`` when Keras's ``(N, H, W, C)`` is torch's ``(N, C, H, W)``).

A torch model may carry its own map (``model.keras_map() -> KerasMap``, as the modules written by
``ptref.port`` do); otherwise the map is inferred from the layer order (``ptref.interop``'s rule).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

Convert = Callable[[np.ndarray], np.ndarray]


def _same(array: np.ndarray) -> np.ndarray:
    return array


@dataclass(frozen=True)
class WeightLink:
    """Keras weight ``keras`` (``"<layer name>/<weight name>"``, e.g. ``"dense_1/kernel"``) is torch tensor
    ``torch`` (a ``state_dict`` key, e.g. ``"classifier.weight"``): ``torch_value = to_torch(keras_value)`` and
    ``keras_value = to_keras(torch_value)``, exactly (bit copies, permutations only)."""

    keras: str
    torch: str
    to_torch: Convert = _same
    to_keras: Convert = _same
    trainable: bool = True  # False for moving statistics (BatchNormalization's moving_mean/variance)
    index: Any = None  # the part ``tensor[index]`` of the torch tensor that holds it (None: the whole tensor)


@dataclass(frozen=True)
class LayerLink:
    """Keras layer ``keras`` (its name) computes what torch submodule ``torch`` (its qualified name, ``""`` for
    the whole model) outputs. ``layout``: ``"channels_first"`` when the torch output has the channel axis second
    where Keras has it last (compared after moving it), ``"same"`` otherwise."""

    keras: str
    torch: str
    layout: str = "same"
    activation: str | None = None  # Keras's fused activation (``Dense(..., activation="relu")``) that the torch
    # module's output still needs: applied (Keras's own function) to the torch output before comparing


@dataclass
class KerasMap:
    """The pairing of a Keras model and a torch model: weights in Keras's ``get_weights()`` order, layers in the
    Keras model's order (``model.layers``)."""

    weights: list[WeightLink] = field(default_factory=list)
    layers: list[LayerLink] = field(default_factory=list)
    input_layout: str = "same"  # "channels_first": the torch model takes Keras's (N, ..., C) input as (N, C, ...)
