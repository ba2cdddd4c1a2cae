"""Copy weights between a Keras model and the matching ptref (torch) model, both ways, exactly.

TensorFlow side::

    model.get_weights()              # [kernel, bias, kernel, bias, gamma, beta, moving_mean, moving_var, ...]
    model.set_weights(arrays)
    keras.models.load_model("model.keras")   # or "model.h5"

Layers are matched in order: every ``nn.Linear`` / ``nn.Conv{1,2,3}d`` / batch-norm / ``ptref.nn`` layer-norm and
recurrent module of the torch model takes the next Keras ``Dense`` / ``Conv{1,2,3}D`` / ``BatchNormalization`` /
``LayerNormalization`` / ``SimpleRNN``/``LSTM``/``GRU`` weights from the flat ``get_weights()`` list.
The layouts differ (``ptref.nn.layout``, ``docs/keras-numerics.md``, "Layers and initialization"):

=======================================  ==========================================  =========================
Keras                                    torch                                       mapping
=======================================  ==========================================  =========================
Dense kernel ``(in, out)``, bias         Linear weight ``(out, in)``, bias           transpose
Conv2D kernel ``HWIO``, bias             Conv2d weight ``OIHW``, bias                ``permute(3, 2, 0, 1)``
Conv1D/Conv3D kernel ``(*k, I, O)``      Conv1d/Conv3d weight ``(O, I, *k)``         the same permutation
Dense after Flatten of ``(H, W, C)``     Linear after ``nn.Flatten`` of ``(C, H, W)``  row permutation + transpose
BatchNormalization gamma, beta,          weight, bias, running_mean, running_var     as is
moving_mean, moving_variance             (with ``renorm=True`` then moving_stddev,
(renorm: + moving_stddev, renorm_mean,   renorm_mean, renorm_stddev)
renorm_stddev)
LayerNormalization gamma, beta           LayerNormalization weight, bias             as is
SimpleRNN/LSTM/GRU kernel,               ptref.nn SimpleRNN/LSTM/GRU kernel,         as is (Keras's layout)
recurrent_kernel, bias                   recurrent_kernel, bias
Dense(1) kernel ``(n, 1)``, bias ``(1,)``  :class:`~ptref.models.LinearRegression`      ``W = [bias; kernel]`` in the
                                                                                     course's bias-column form
=======================================  ==========================================  =========================

Only values are copied, never hyperparameters: a Keras ``BatchNormalization(momentum=0.99, epsilon=1e-3)``
needs :class:`ptref.nn.BatchNormalization` (or ``nn.BatchNorm2d(eps=1e-3, momentum=0.01)``) on the torch side.
Every copy is a float32 bit copy, so round trips are exact. TensorFlow/Keras is imported only inside the
functions that take a Keras model or file, never when this module is imported.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ptref.nn import GRU, LSTM, BatchNormalization, LayerNormalization, SimpleRNN
from ptref.nn.layout import dense_kernel_to_linear, flattened_dense_kernel_to_linear

KerasSource = Sequence[np.ndarray] | str | Path | Any  # arrays, a .keras/.h5 path, or a live keras.Model
_NORMS = (nn.modules.batchnorm._BatchNorm, BatchNormalization)
_CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
_AS_IS = (LayerNormalization, SimpleRNN, LSTM, GRU)  # hold Keras's arrays in Keras's layout


def keras_arrays(source: KerasSource) -> list[np.ndarray]:
    """The flat ``get_weights()`` list of a Keras model, a ``.keras``/``.h5`` file, or arrays as given."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such Keras model file (.keras or .h5)")
        import keras  # lazily: ptref never imports TensorFlow unless asked to read a Keras model

        source = keras.models.load_model(path, compile=False)
    if hasattr(source, "get_weights"):
        return [np.asarray(array) for array in source.get_weights()]
    return [np.asarray(array) for array in source]


def load_keras_weights(model: nn.Module, source: KerasSource, example_input: torch.Tensor | None = None) -> nn.Module:
    """Keras → ptref: copy ``source``'s weights into ``model`` in place (and return it).

    TF: ``torch_model.load_state_dict(<keras weights>)`` has no TF counterpart; this is the port's
    ``set_weights``. ``example_input`` (default: the model's ``example_input_array``) is run once to learn the
    ``(C, H, W)`` shape each ``nn.Flatten`` sees, for the Dense-after-Flatten permutation.
    """
    arrays = keras_arrays(source)
    if _is_linear_regression(model):
        _check_count(arrays, 2, model)
        kernel, bias = (torch.from_numpy(np.array(a, dtype=np.float32)).reshape(-1) for a in arrays)
        with torch.no_grad():
            for target, value in zip(model._kernel_and_bias(), (kernel, bias)):
                target.copy_(value)
        return model
    layers = _weight_layers(model, example_input)
    _check_count(arrays, sum(len(_tensors(layer)) for layer, _ in layers), model)
    position = 0
    with torch.no_grad():
        for layer, flat_shape in layers:
            for index, target in enumerate(_tensors(layer)):
                value = torch.from_numpy(np.array(arrays[position], dtype=np.float32))
                position += 1
                if index == 0 and isinstance(layer, _CONVS):  # (*k, I, O) -> (O, I, *k)
                    value = value.permute(-1, -2, *range(value.dim() - 2)).contiguous()
                elif index == 0 and isinstance(layer, nn.Linear):
                    value = (
                        flattened_dense_kernel_to_linear(value, *flat_shape)
                        if flat_shape
                        else dense_kernel_to_linear(value)
                    )
                if value.shape != target.shape:
                    raise ValueError(
                        f"{type(layer).__name__} expects {tuple(target.shape)}, Keras array {position - 1} maps to "
                        f"{tuple(value.shape)}: the Keras and torch architectures differ"
                    )
                target.copy_(value)
    return model


def ptref_arrays(model: nn.Module, example_input: torch.Tensor | None = None) -> list[np.ndarray]:
    """ptref → Keras: ``model``'s weights as the flat list a Keras ``set_weights`` takes."""
    if _is_linear_regression(model):
        kernel, bias = model._kernel_and_bias()
        return [kernel.detach().numpy().reshape(-1, 1).copy(), bias.detach().numpy().copy()]
    arrays = []
    for layer, flat_shape in _weight_layers(model, example_input):
        for index, tensor in enumerate(_tensors(layer)):
            value = tensor.detach()
            if index == 0 and isinstance(layer, _CONVS):
                value = value.permute(*range(2, value.dim()), 1, 0)  # (O, I, *k) -> (*k, I, O)
            elif index == 0 and isinstance(layer, nn.Linear):
                if flat_shape:  # (out, C*H*W) -> (H*W*C, out): inverse of flattened_dense_kernel_to_linear
                    height, width, channels = flat_shape
                    value = value.reshape(-1, channels, height, width).permute(2, 3, 1, 0).reshape(-1, len(value))
                else:
                    value = value.T
            arrays.append(value.contiguous().numpy().copy())
    return arrays


def to_keras(model: nn.Module, keras_model: Any, example_input: torch.Tensor | None = None) -> Any:
    """ptref → Keras: ``keras_model.set_weights(...)`` with ``model``'s weights (returns ``keras_model``)."""
    keras_model.set_weights(ptref_arrays(model, example_input))
    return keras_model


def _is_linear_regression(model: nn.Module) -> bool:
    from ptref.models.linear_regression import LinearRegression

    return isinstance(model, LinearRegression)


def _tensors(layer: nn.Module) -> list[torch.Tensor]:
    """The layer's tensors in Keras's ``get_weights()`` order."""
    if isinstance(layer, _NORMS):  # the renorm buffers exist only with renorm=True
        names = ["weight", "bias", "running_mean", "running_var", "moving_stddev", "renorm_mean", "renorm_stddev"]
    elif isinstance(layer, (SimpleRNN, LSTM, GRU)):
        names = ["kernel", "recurrent_kernel", "bias"]
    else:
        names = ["weight", "bias"]
    return [getattr(layer, name) for name in names if getattr(layer, name, None) is not None]


def _weight_layers(model: nn.Module, example_input: torch.Tensor | None) -> list[tuple[nn.Module, tuple | None]]:
    """``(layer, flat_shape)`` for every weight layer in order; ``flat_shape = (H, W, C)`` for the first Linear
    after an ``nn.Flatten`` of a 4-D map with more than one pixel, else ``None``."""
    flatten_inputs: dict[nn.Module, tuple[int, ...]] = {}
    flattens = [module for module in model.modules() if type(module) is nn.Flatten]
    if flattens:
        if example_input is None:
            example_input = getattr(model, "example_input_array", None)
        if example_input is None:
            raise ValueError("the model flattens feature maps: pass example_input so their shape is known")
        hooks = [
            flatten.register_forward_hook(lambda module, inputs, _: flatten_inputs.update({module: inputs[0].shape}))
            for flatten in flattens
        ]
        was_training = model.training
        try:
            with torch.no_grad():
                model.eval()(example_input)
        finally:
            model.train(was_training)
            for hook in hooks:
                hook.remove()
    layers: list[tuple[nn.Module, tuple | None]] = []
    pending: tuple | None = None
    for module in model.modules():
        if module in flatten_inputs:
            shape = flatten_inputs[module]
            pending = (shape[2], shape[3], shape[1]) if len(shape) == 4 and shape[2] * shape[3] > 1 else None
        elif isinstance(module, (nn.Linear, *_CONVS, *_NORMS, *_AS_IS)):
            layers.append((module, pending if isinstance(module, nn.Linear) else None))
            if isinstance(module, nn.Linear):
                pending = None
    return layers


def _check_count(arrays: list[np.ndarray], expected: int, model: nn.Module) -> None:
    if len(arrays) != expected:
        raise ValueError(
            f"{type(model).__name__} has {expected} weight tensors in Keras order, the Keras model {len(arrays)}: "
            "the architectures differ"
        )
