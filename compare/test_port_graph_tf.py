"""``ptref.port.from_keras`` and ``write_source`` against the Keras models of ``compare/port_models.py`` running
live: the whole forward pass, every layer's output through ``keras_map()``, the written source, and the errors.

Tolerances (absolute + relative part, each with its reason):

- ``FORWARD``: atol 1e-5, rtol 1e-5 on the models' outputs, which are O(1) (softmax/sigmoid probabilities,
  logits of a few units). The deepest zoo entries are 10-15 layers of float32 sums of <= 3*3*48 products,
  batch norms and recurrences of <= 20 steps; TF (Eigen/oneDNN) and ATen add them in other orders, ~sqrt(n)
  ulps per layer, carried by contracting layers (normalizations, tanh/sigmoid). Measured <= 6e-7. A missing
  kernel permutation, Flatten order, padding side or gate order costs >= 1e-2.
- ``per_layer_close``: atol 1e-5 * max(1, max|Keras output|), rtol 1e-5 on each layer's output: intermediate
  maps before normalization reach O(10) and carry the same sums' rounding relative to their scale.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest
import torch
from torch import nn

import ptref.port
from compare.port_models import ZOO
from ptref.port import PortError, from_keras, write_source

FORWARD = {"atol": 1e-5, "rtol": 1e-5}
LAYOUTS = ("channels_first", "channels_last")
RUFF = Path(sys.executable).with_name("ruff")


def to_torch(x: np.ndarray, layout: str) -> torch.Tensor:
    """A Keras input as the port takes it: images channels-first in that layout, anything else as is."""
    moved = np.moveaxis(x, -1, 1) if layout == "channels_first" and x.ndim == 4 else x
    return torch.from_numpy(np.ascontiguousarray(moved))


def to_keras(y: torch.Tensor, layout: str) -> np.ndarray:
    """A torch output of ``layout`` ('channels_first' as LayerLink says it) in Keras's layout."""
    y = y.detach().numpy()
    return np.moveaxis(y, 1, -1) if layout == "channels_first" and y.ndim >= 3 else y


def keras_forward(model: keras.Model, inputs: list[np.ndarray]) -> np.ndarray:
    return np.asarray(model(inputs[0] if len(inputs) == 1 else inputs, training=False))


def torch_forward(module: nn.Module, inputs: list[np.ndarray], layout: str) -> np.ndarray:
    with torch.no_grad():
        output = module.eval()(*(to_torch(x, layout) for x in inputs))
    return to_keras(output, "channels_first" if layout == "channels_first" else "same")


def per_layer_close(model: keras.Model, module: nn.Module, inputs: list[np.ndarray], layout: str) -> int:
    """Every LayerLink's submodule output equals its Keras layer's output (hooked on one forward pass); returns
    how many layers were compared."""
    links = module.keras_map().layers
    probe = keras.Model(model.inputs, [model.get_layer(link.keras).output for link in links])
    expected = probe(inputs, training=False)
    seen: dict[str, torch.Tensor] = {}
    hooks = [
        module.get_submodule(link.torch).register_forward_hook(
            lambda _module, _inputs, output, name=link.torch: seen.__setitem__(name, output)
        )
        for link in links
    ]
    try:
        torch_forward(module, inputs, layout)
    finally:
        for hook in hooks:
            hook.remove()
    for link, keras_output in zip(links, expected):
        keras_output = np.asarray(keras_output)
        actual = to_keras(seen[link.torch], link.layout)
        scale = max(1.0, float(np.abs(keras_output).max()))
        np.testing.assert_allclose(
            actual, keras_output, atol=1e-5 * scale, rtol=1e-5, err_msg=f"layer {link.keras} ({link.torch})"
        )
    return len(links)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", sorted(ZOO))
def test_ported_model_computes_the_keras_forward(name: str, layout: str) -> None:
    model, inputs = ZOO[name]()
    module = from_keras(model, layout=layout)
    np.testing.assert_allclose(torch_forward(module, inputs, layout), keras_forward(model, inputs), **FORWARD)


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name", sorted(ZOO))
def test_every_keras_layer_output_equals_its_linked_submodule(name: str, layout: str) -> None:
    model, inputs = ZOO[name]()
    module = from_keras(model, layout=layout)
    compared = per_layer_close(model, module, inputs, layout)
    assert compared == len([layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)])


@pytest.mark.parametrize("name", ["mnist_convnet", "bidirectional_lstm", "squeeze_excite", "image_layers"])
def test_written_source_imports_only_torch_and_ptref_passes_ruff_and_reloads(name: str, tmp_path: Path) -> None:
    model, inputs = ZOO[name]()
    saved = tmp_path / "model.keras"
    model.save(saved)
    path = write_source(saved, tmp_path / "ported", class_name="Ported")
    source = path.read_text()
    imported = {
        line.split()[1].split(".")[0] for line in source.splitlines() if line.startswith(("import ", "from "))
    }
    assert imported <= {"torch", "ptref", "pathlib"}, imported  # pathlib: the standard library's, for load_model
    assert "exec" not in source and "pickle" not in source
    lint = subprocess.run([str(RUFF), "check", "--no-cache", str(path)], check=False, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    spec = importlib.util.spec_from_file_location("ported_model", path)
    written = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(written)
    reloaded = written.load_model()
    assert type(reloaded).__name__ == "Ported"
    np.testing.assert_allclose(
        torch_forward(reloaded, inputs, "channels_first"), keras_forward(model, inputs), **FORWARD
    )


def test_h5_file_ports_as_the_live_model(tmp_path: Path) -> None:
    model, inputs = ZOO["timeseries_classifier"]()
    model.save(tmp_path / "model.h5")
    module = from_keras(tmp_path / "model.h5")
    np.testing.assert_allclose(torch_forward(module, inputs, "channels_first"), keras_forward(model, inputs), **FORWARD)


def test_dropout_is_kept_train_differs_from_eval() -> None:
    model, inputs = ZOO["mnist_convnet"]()
    module = from_keras(model)
    x = to_torch(inputs[0], "channels_first")
    torch.manual_seed(0)
    assert not torch.equal(module.train()(x), module.eval()(x))


def test_keras_map_lists_every_weight_in_get_weights_order() -> None:
    model, _ = ZOO["densenet_block"]()
    links = from_keras(model).keras_map().weights
    assert len(links) == len(model.get_weights())
    keys = [f"{layer.name}/{w.name}" for layer in model.layers for w in layer.weights]
    assert [link.keras for link in links] == keys
    assert [link.trainable for link in links] == [w.trainable for layer in model.layers for w in layer.weights]


# --- teeth: one translation broken, the forward check must see it --------------------------------------------


def test_teeth_unpermuted_conv_kernel_fails_the_forward_check(monkeypatch: pytest.MonkeyPatch) -> None:
    model, inputs = ZOO["resnet_block"]()
    wrong = (lambda k: np.transpose(k, (3, 2, 1, 0)), lambda w: np.transpose(w, (3, 2, 1, 0)))  # H and W swapped
    monkeypatch.setattr(ptref.port.convert, "conv_kernel", lambda: wrong)
    module = from_keras(model)
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(
            torch_forward(module, inputs, "channels_first"), keras_forward(model, inputs), **FORWARD
        )


def test_teeth_channels_first_flatten_fails_the_forward_check(monkeypatch: pytest.MonkeyPatch) -> None:
    model, inputs = ZOO["mnist_convnet"]()
    flatten = ptref.port.table.TRANSLATORS["Flatten"]
    monkeypatch.setitem(
        ptref.port.table.TRANSLATORS, "Flatten", lambda site: flatten(site).__class__(
            [ptref.port.layers.Module(site.node.name, "nn.Flatten()")], "channels_first"
        )
    )
    module = from_keras(model)
    with pytest.raises(AssertionError):
        np.testing.assert_allclose(
            torch_forward(module, inputs, "channels_first"), keras_forward(model, inputs), **FORWARD
        )


# --- unsupported layers and options: one line naming the layer, its class and where it sits ------------------


def _sequence_model(layer: keras.layers.Layer, shape: tuple[int, ...] = (8, 3), **input_options) -> keras.Model:
    inputs = keras.Input(shape, **input_options)
    return keras.Model(inputs, layer(keras.layers.Dense(3, name="first")(inputs)))


UNSUPPORTED = {
    "unknown class": (lambda: _sequence_model(keras.layers.GaussianNoise(0.1, name="noisy")), "GaussianNoise"),
    "channels_first conv": (
        lambda: _sequence_model(keras.layers.Conv1D(2, 3, data_format="channels_first", name="noisy")),
        "data_format",
    ),
    "causal conv": (lambda: _sequence_model(keras.layers.Conv1D(2, 3, padding="causal", name="noisy")), "causal"),
    "return_state": (
        lambda: _sequence_model(keras.layers.LSTM(2, return_state=True, name="noisy")), "returns 3 tensors"
    ),
    "stateful rnn": (
        lambda: _sequence_model(keras.layers.GRU(2, stateful=True, name="noisy"), batch_size=2), "stateful"
    ),
    "noise_shape": (
        lambda: _sequence_model(keras.layers.Dropout(0.5, noise_shape=(None, 1, 3), name="noisy")), "noise_shape"
    ),
    "merge_mode None": (
        lambda: _sequence_model(
            keras.layers.Bidirectional(keras.layers.LSTM(2), merge_mode=None, name="noisy")
        ),
        "returns 2 tensors",
    ),
    "batch norm axis": (
        lambda: _sequence_model(keras.layers.BatchNormalization(axis=1, name="noisy")), "axis=1"
    ),
}


@pytest.mark.parametrize("case", sorted(UNSUPPORTED))
def test_unsupported_layer_is_a_one_line_error_naming_it(case: str) -> None:
    build, reason = UNSUPPORTED[case]
    with pytest.raises(PortError) as raised:
        from_keras(build())
    message = str(raised.value)
    assert "\n" not in message
    assert "'noisy'" in message and "#2 in model.layers" in message and "inputs ['first']" in message, message
    assert reason in message, message


def test_masking_embedding_is_refused() -> None:
    inputs = keras.Input((5,), dtype="int32")
    model = keras.Model(inputs, keras.layers.Embedding(10, 4, mask_zero=True, name="words")(inputs))
    with pytest.raises(PortError, match=r"'words' \(Embedding, #1 in model.layers.*mask_zero"):
        from_keras(model)


def test_shared_layer_is_refused() -> None:
    inputs = keras.Input((3,))
    shared = keras.layers.Dense(3, name="shared")
    model = keras.Model(inputs, shared(shared(inputs)))
    with pytest.raises(PortError, match=r"'shared' \(Dense.*called 2 times"):
        from_keras(model)


def test_keras_op_inside_a_functional_graph_is_refused() -> None:
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.ops.exp(keras.layers.Dense(3, name="first")(inputs)))
    with pytest.raises(PortError, match=r"no translation for Keras class Exp"):
        from_keras(model)
