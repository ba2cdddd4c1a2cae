"""The :class:`~ptref.parity.mapping.KerasMap` of a torch model that carries none, by ``ptref.interop``'s order rule.

Keras's weight layers (those with weights, in ``model.layers`` order, each with its weights in ``layer.weights``
order) are matched one to one with the torch model's weight modules in ``ptref.interop``'s order (``nn.Linear``,
``nn.Conv{1,2,3}d``, batch norms, ``ptref.nn`` layer norms and recurrent layers, in ``model.modules()`` order).
Each pair gives

* one :class:`WeightLink` per Keras weight, with the layout change ``ptref.interop`` applies (Dense kernel
  transposed, convolution kernel ``(*k, I, O)`` ↔ ``(O, I, *k)``, the Dense after a Flatten of an ``(H, W, C)`` map
  permuted to torch's ``(C, H, W)`` order, everything else as is);
* one :class:`LayerLink`: the Keras layer's output is the torch module's, or, when the Keras layer fuses an
  activation (``Dense(64, activation="relu")``), the output of the activation module torch runs right after it; with
  none there (a model returning logits where Keras returns softmax), the link carries the activation, which the
  engine applies with Keras's own function.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import numpy as np
import torch
from torch import nn

from ptref import interop
from ptref.parity.mapping import KerasMap, LayerLink, WeightLink

# torch activation modules and the Keras activation name each one computes
ACTIVATIONS: dict[type[nn.Module], str] = {
    nn.ReLU: "relu", nn.Softmax: "softmax", nn.Sigmoid: "sigmoid", nn.Tanh: "tanh", nn.ELU: "elu", nn.GELU: "gelu",
    nn.SiLU: "silu", nn.Softplus: "softplus", nn.SELU: "selu", nn.ReLU6: "relu6", nn.LogSoftmax: "log_softmax",
}
_CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)


def keras_weight_names(keras_model: Any, keys: Collection[str] = ()) -> dict[int, str]:
    """``id(variable) -> "<layer name>/<weight name>"`` for every weight of the model's layers; a weight whose
    :func:`keras_weight_key` is in ``keys`` (a map that names nested weights, such as Bidirectional's two
    ``kernel``) goes by that key instead."""
    names = {}
    for layer in keras_model.layers:
        for w in layer.weights:
            key = keras_weight_key(layer, w)
            names[id(w)] = key if key in keys else f"{layer.name}/{w.name}"
    return names


def keras_weight_key(layer: Any, variable: Any) -> str:
    """``"<layer name>/<path inside the layer>"`` (``dense/kernel``, ``bidirectional/forward_lstm/lstm_cell/kernel``)
    whatever model the layer sits in (a Sequential prefixes its own name to the paths; a reloaded Bidirectional
    drops its own)."""
    parts = variable.path.split("/")
    inside = parts[parts.index(layer.name) + 1 :] if layer.name in parts else parts
    return "/".join([layer.name, *inside])


def infer_map(keras_model: Any, torch_model: nn.Module, keras_input: np.ndarray) -> KerasMap:
    """The map of ``torch_model`` to ``keras_model`` by layer order; ``keras_input``: a batch in Keras's layout.

    Raises ``ValueError`` naming the first Keras layer and torch module whose weights do not pair up.
    """
    keras_layers = [layer for layer in keras_model.layers if layer.weights]
    if _is_bias_column_regression(torch_model):
        return _bias_column_map(keras_layers)
    input_layout = _input_layout(torch_model, keras_input)
    torch_input = to_torch_input(keras_input, input_layout)
    flat = interop._weight_layers(torch_model, torch_input)
    names = {module: name for name, module in torch_model.named_modules()}
    tensors = {id(t): name for name, t in [*torch_model.named_parameters(), *torch_model.named_buffers()]}
    if len(keras_layers) != len(flat):
        keras_names = ", ".join(layer.name for layer in keras_layers)
        torch_names = ", ".join(names[m] for m, _ in flat)
        raise ValueError(
            f"the Keras model has {len(keras_layers)} layers with weights ({keras_names}), "
            f"the torch model {len(flat)} weight modules ({torch_names}): the architectures "
            "differ (or give the torch model a keras_map())"
        )
    outputs, order = _torch_leaf_outputs(torch_model, torch_input)
    weights, layers = [], []
    for layer, (module, flat_shape) in zip(keras_layers, flat):
        targets = interop._tensors(module)
        if len(layer.weights) != len(targets):
            raise ValueError(
                f"Keras layer {layer.name!r} ({type(layer).__name__}, {len(layer.weights)} weights) pairs with torch "
                f"module {names[module]!r} ({type(module).__name__}, {len(targets)} tensors): the architectures differ"
            )
        for index, (variable, tensor) in enumerate(zip(layer.weights, targets)):
            to_torch, to_keras = _converters(module, flat_shape) if index == 0 else (_same, _same)
            weights.append(WeightLink(f"{layer.name}/{variable.name}", tensors[id(tensor)], to_torch, to_keras,
                                      trainable=bool(variable.trainable)))
        layers.append(_layer_link(layer, module, names, outputs, order))
    return KerasMap(weights=weights, layers=layers, input_layout=input_layout)


def to_torch_input(keras_input: np.ndarray, layout: str) -> torch.Tensor:
    """A batch in Keras's layout as the torch model takes it (channels moved second for ``"channels_first"``)."""
    array = np.asarray(keras_input)
    if layout == "channels_first" and array.ndim >= 3:
        array = np.moveaxis(array, -1, 1)
    return torch.from_numpy(np.ascontiguousarray(array))


def _same(array: np.ndarray) -> np.ndarray:
    return array


def _converters(module: nn.Module, flat_shape: tuple[int, int, int] | None) -> tuple[Any, Any]:
    """``(to_torch, to_keras)`` for the first tensor (kernel) of a weight module, as ``ptref.interop`` copies it."""
    if isinstance(module, _CONVS):  # Keras (*k, I, O) <-> torch (O, I, *k)
        return (lambda a: np.ascontiguousarray(np.moveaxis(a, (-1, -2), (0, 1))),
                lambda t: np.ascontiguousarray(np.moveaxis(t, (0, 1), (-1, -2))))
    if isinstance(module, nn.Linear) and flat_shape:  # rows of an (H, W, C) flatten <-> columns of a (C, H, W) one
        height, width, channels = flat_shape

        def to_torch(a: np.ndarray) -> np.ndarray:  # Keras (H·W·C, O) -> torch (O, C·H·W)
            blocks = a.reshape(height, width, channels, -1).transpose(3, 2, 0, 1)
            return np.ascontiguousarray(blocks.reshape(a.shape[1], -1))

        def to_keras(t: np.ndarray) -> np.ndarray:  # torch (O, C·H·W) -> Keras (H·W·C, O)
            blocks = t.reshape(-1, channels, height, width).transpose(2, 3, 1, 0)
            return np.ascontiguousarray(blocks.reshape(-1, t.shape[0]))

        return to_torch, to_keras
    if isinstance(module, nn.Linear):
        return (lambda a: np.ascontiguousarray(a.T), lambda t: np.ascontiguousarray(t.T))
    return _same, _same


def _input_layout(torch_model: nn.Module, keras_input: np.ndarray) -> str:
    """``"channels_first"`` when Keras's input has spatial axes and the torch model starts with a convolution."""
    first = next((m for m in torch_model.modules() if isinstance(m, (nn.Linear, *_CONVS))), None)
    return "channels_first" if np.ndim(keras_input) >= 3 and isinstance(first, _CONVS) else "same"


def _torch_leaf_outputs(model: nn.Module, x: torch.Tensor) -> tuple[dict[nn.Module, tuple], list[nn.Module]]:
    """Output shape of every module in one inference pass, and the leaf modules in the order they ran."""
    shapes: dict[nn.Module, tuple] = {}
    order: list[nn.Module] = []

    def record(module: nn.Module, _: Any, output: Any) -> None:
        if isinstance(output, torch.Tensor):
            shapes[module] = tuple(output.shape)
        if not list(module.children()):
            order.append(module)

    hooks = [m.register_forward_hook(record) for m in model.modules()]
    was_training = model.training
    try:
        with torch.no_grad():
            model.eval()(x)
    finally:
        model.train(was_training)
        for hook in hooks:
            hook.remove()
    return shapes, order


def _layer_link(layer: Any, module: nn.Module, names: dict, shapes: dict, order: list) -> LayerLink:
    activation = getattr(getattr(layer, "activation", None), "__name__", None)
    activation = None if activation in (None, "linear") else activation
    target = module
    if activation and module in order:
        position = order.index(module)
        following = order[position + 1] if position + 1 < len(order) else None
        if following is not None and ACTIVATIONS.get(type(following)) == activation:
            target, activation = following, None
    keras_shape = tuple(layer.output.shape[1:])
    torch_shape = shapes.get(target, ())[1:]
    moved = (keras_shape[-1], *keras_shape[:-1]) if len(keras_shape) >= 2 else keras_shape
    channels_first = torch_shape == moved and (torch_shape != keras_shape or isinstance(module, _CONVS))
    return LayerLink(layer.name, names[target], "channels_first" if channels_first else "same", activation)


def _is_bias_column_regression(model: nn.Module) -> bool:
    from ptref.models.linear_regression import LinearRegression

    return isinstance(model, LinearRegression) and model.linear is None


def _bias_column_map(keras_layers: list) -> KerasMap:
    """The course's ``y = X·W``, ``W = [bias; kernel]``: Keras's kernel is ``W[1:]``, its bias ``W[0]``."""
    if len(keras_layers) != 1 or len(keras_layers[0].weights) != 2:
        raise ValueError("LinearRegression pairs with a Keras model of one Dense layer: the architectures differ")
    layer = keras_layers[0]
    return KerasMap(
        weights=[WeightLink(f"{layer.name}/kernel", "W", index=slice(1, None)),
                 WeightLink(f"{layer.name}/bias", "W", index=0)],
        layers=[LayerLink(layer.name, "")],
    )
