"""Keras -> PyTorch: a Keras model's graph translated to a readable ``nn.Module``, its weights copied exactly.

TensorFlow side::

    model = keras.models.load_model("model.keras")      # or a live keras.Model, Sequential or Functional
    model.predict(x_nhwc)

PyTorch side::

    net = ptref.port.from_keras("model.keras")          # images (N, C, H, W); layout="channels_last" keeps Keras's
    net.eval()(x_nchw)                                   # == model.predict(x_nhwc), channels moved
    ptref.port.write_source("model.keras", "ported/")    # ported/model.py (readable source) + ported/weights.pt

The module is the class that :func:`write_source` writes, built in memory: one translation (``ptref.port.table``)
serves both. ``module.keras_map()`` pairs every Keras weight with its tensor and every Keras layer with the
submodule computing it (``ptref.parity.mapping``). A layer or option without a translation raises
:class:`PortError` naming the layer, its class and where it sits; nothing is skipped. TensorFlow is imported only
when a Keras model is read.
"""

from __future__ import annotations

import linecache
import types
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ptref.port.codegen import class_name_for, generate, keras_weight_key
from ptref.port.graph import PortError, load_keras, read_graph
from ptref.port.table import TRANSLATORS

SUPPORTED = tuple(sorted(TRANSLATORS))  # Keras layer classes with a translation (InputLayer besides)

__all__ = ["SUPPORTED", "PortError", "from_keras", "keras_weights", "load_keras_weights", "port_source", "write_source"]


def port_source(model_or_path: Any, *, class_name: str | None = None, layout: str = "channels_first") -> str:
    """The Python source of the ported module (what :func:`write_source` writes as ``model.py``)."""
    model = load_keras(model_or_path)
    return generate(read_graph(model), class_name or class_name_for(model.name), layout)


def keras_weights(model: Any) -> dict[str, np.ndarray]:
    """Every Keras weight of ``model`` under the key ``keras_map()`` uses (``"<layer>/<weight path>"``)."""
    values: dict[str, np.ndarray] = {}
    for layer in model.layers:
        for variable in layer.weights:
            key = keras_weight_key(layer, variable)
            if key in values:
                raise PortError(f"ptref.port: two Keras weights share the key {key!r} (layer {layer.name!r})")
            values[key] = np.asarray(variable)
    return values


@torch.no_grad()
def load_keras_weights(module: nn.Module, model: Any) -> nn.Module:
    """Copy the Keras ``model``'s weights into the ported ``module`` through ``module.keras_map()`` (returns it).

    Every tensor of ``module.state_dict()`` must be fed by one Keras weight, and shapes must agree after the
    conversion; otherwise :class:`PortError` names the weight.
    """
    values, state = keras_weights(model), module.state_dict()
    links = module.keras_map().weights
    if missing := sorted(set(state) - {link.torch for link in links}):
        raise PortError(f"ptref.port: tensors {missing} of {type(module).__name__} have no Keras weight")
    for link in links:
        value = torch.from_numpy(np.array(link.to_torch(values[link.keras]), order="C"))  # 0-d stays 0-d
        if tuple(value.shape) != tuple(state[link.torch].shape):
            raise PortError(
                f"ptref.port: Keras weight {link.keras} {tuple(values[link.keras].shape)} becomes "
                f"{tuple(value.shape)}, but {link.torch} is {tuple(state[link.torch].shape)}"
            )
        state[link.torch].copy_(value)
    return module


def _build(source: str, class_name: str) -> type[nn.Module]:
    """The generated class, compiled in memory (its source registered so tracebacks and ``inspect`` show it)."""
    filename = f"<ptref.port {class_name}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    namespace = types.ModuleType(f"ptref_port_{class_name}")
    exec(compile(source, filename, "exec"), namespace.__dict__)  # noqa: S102  (our own generated source)
    return getattr(namespace, class_name)


def from_keras(model_or_path: Any, *, layout: str = "channels_first", class_name: str | None = None) -> nn.Module:
    """The Keras model (live, ``.keras`` or ``.h5``) as a torch module with its weights copied (train mode, as any
    new ``nn.Module``; call ``.eval()`` for inference)."""
    model = load_keras(model_or_path)
    class_name = class_name or class_name_for(model.name)
    module = _build(port_source(model, class_name=class_name, layout=layout), class_name)()
    return load_keras_weights(module, model)


def write_source(
    model_or_path: Any, folder: str | Path, *, class_name: str | None = None, layout: str = "channels_first"
) -> Path:
    """Write ``folder/model.py`` (the module's readable source, with ``load_model()``) and ``folder/weights.pt``
    (its ``state_dict``); returns the path of ``model.py``."""
    model = load_keras(model_or_path)
    class_name = class_name or class_name_for(model.name)
    source = port_source(model, class_name=class_name, layout=layout)
    module = load_keras_weights(_build(source, class_name)(), model)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.py").write_text(source)
    torch.save(module.state_dict(), folder / "weights.pt")
    return folder / "model.py"
