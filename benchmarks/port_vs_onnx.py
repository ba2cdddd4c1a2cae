"""Keras → PyTorch today (tf2onnx → ONNX → onnx2torch) next to ``ptref.port``, model by model, measured.

For every model of the port zoo (:func:`zoo`), with its random weights and example inputs:

- converted? (the first line of the error if not; ``from_keras`` first, then ``from_function`` on the model's call);
- forward: max abs and max rel difference of the torch outputs from Keras's (inference mode);
- trainable: the share of the Keras model's trainable weight elements that are trainable torch ``Parameter``s;
- train ≠ eval: whether the torch module's ``train()`` output differs from ``eval()``'s, where Keras's
  ``training=True`` output differs from ``training=False`` (Dropout, BatchNormalization);
- wrappers: leaf modules that are ONNX op wrappers (``onnx2torch``'s ``OnnxXxx`` classes) out of all leaf modules;
- layout: the input layout the torch module takes.

The ONNX tools live outside ptref's environment (a separate virtualenv that sees the project's packages)::

    python3 -m venv /work/onnxvenv
    echo /work/main/.venv/lib/python3.11/site-packages > /work/onnxvenv/lib/python3.11/site-packages/main.pth
    /work/onnxvenv/bin/pip install -c constraints.txt tf2onnx onnx onnx2torch onnxruntime   # pins TF's protobuf/numpy
    PYTHONPATH=. OMP_NUM_THREADS=1 /work/onnxvenv/bin/python benchmarks/port_vs_onnx.py [--markdown]

Prints one row per model and tool (``--markdown``: the table ``docs/port.md`` carries). The ``ptref port`` rows
are ``ptref.port.from_keras`` in its default layout (images channels first, compared after moving the channels
back; sequences and vectors as Keras has them).
"""

from __future__ import annotations

import argparse
import re
import tempfile
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ptref.parity.tf import import_keras, import_tensorflow

tf = import_tensorflow()  # torch._dynamo first, then TensorFlow: the other order aborts in LLVM
keras = import_keras()
layers = keras.layers

Built = tuple[keras.Model, list[np.ndarray]]


def zoo() -> dict[str, Callable[[], Built]]:
    """The models compared: the port's zoo (``compare/port_models.py``) when it is there, else a small list here."""
    try:
        from compare.port_models import ZOO
    except ImportError:
        return {builder.__name__: builder for builder in (mlp_dropout, sequential_convnet, convnet_bn, text_cnn,
                                                          bidirectional_lstm)}
    return dict(ZOO)


def _inputs(shape: tuple[int, ...], seed: int, vocabulary: int | None = None) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    if vocabulary:
        return [rng.integers(0, vocabulary, (4, *shape)).astype("int32")]
    return [rng.normal(size=(4, *shape)).astype("float32")]


def mlp_dropout() -> Built:
    inputs = keras.Input((20,))
    x = layers.Dropout(0.2)(layers.Dense(32, activation="relu")(inputs))
    return keras.Model(inputs, layers.Dense(5, activation="softmax")(x), name="mlp_dropout"), _inputs((20,), 0)


def sequential_convnet() -> Built:
    model = keras.Sequential([keras.Input((28, 28, 1)), layers.Conv2D(8, 3, activation="relu"), layers.MaxPooling2D(),
                              layers.Flatten(), layers.Dropout(0.5), layers.Dense(10, activation="softmax")],
                             name="sequential_convnet")
    return model, _inputs((28, 28, 1), 1)


def convnet_bn() -> Built:
    inputs = keras.Input((16, 16, 3))
    x = layers.ReLU()(layers.BatchNormalization()(layers.Conv2D(8, 3, padding="same")(inputs)))
    x = layers.Dropout(0.3)(layers.GlobalAveragePooling2D()(x))
    return keras.Model(inputs, layers.Dense(4, activation="softmax")(x), name="convnet_bn"), _inputs((16, 16, 3), 2)


def text_cnn() -> Built:
    inputs = keras.Input((40,), dtype="int32")
    x = layers.Conv1D(16, 7, strides=3, activation="relu")(layers.Embedding(100, 16)(inputs))
    x = layers.GlobalMaxPooling1D()(x)
    return keras.Model(inputs, layers.Dense(1, activation="sigmoid")(x), name="text_cnn"), _inputs((40,), 3, 100)


def bidirectional_lstm() -> Built:
    inputs = keras.Input((20,), dtype="int32")
    x = layers.Bidirectional(layers.LSTM(8))(layers.Embedding(100, 16)(inputs))
    return (keras.Model(inputs, layers.Dense(1, activation="sigmoid")(x), name="bidirectional_lstm"),
            _inputs((20,), 4, 100))


def first_line(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}".strip().splitlines()[0]
    return text[:140]


def to_onnx(model: keras.Model, folder: str) -> tuple[Any, str]:
    """The ONNX model of ``model`` and how it was made (``from_keras``, else ``from_function``)."""
    import tf2onnx

    signature = [tf.TensorSpec(t.shape, t.dtype, name=f"input_{i}") for i, t in enumerate(model.inputs)]
    try:
        onnx_model, _ = tf2onnx.convert.from_keras(model, input_signature=signature, opset=17)
        return onnx_model, "from_keras"
    except Exception as error:  # noqa: BLE001  (any failure of the tool is a measurement)
        keras_error = first_line(error)

    @tf.function(input_signature=signature)
    def call(*args: tf.Tensor) -> tf.Tensor:
        return model(list(args) if len(args) > 1 else args[0], training=False)

    onnx_model, _ = tf2onnx.convert.from_function(call, input_signature=signature, opset=17)
    return onnx_model, f"from_function (from_keras: {keras_error})"


def keras_outputs(model: keras.Model, inputs: list[np.ndarray], training: bool) -> np.ndarray:
    return np.asarray(model(inputs if len(inputs) > 1 else inputs[0], training=training))


def torch_outputs(module: torch.nn.Module, inputs: list[torch.Tensor], training: bool) -> np.ndarray:
    module.train(training)
    torch.manual_seed(0)
    with torch.no_grad():
        out = module(*inputs)
    out = out[0] if isinstance(out, (list, tuple)) else out
    return out.detach().numpy()


def differences(actual: np.ndarray, expected: np.ndarray) -> tuple[float, float]:
    diff = np.abs(actual.astype(np.float64) - expected)
    return float(diff.max()), float((diff / np.maximum(np.abs(expected), 1e-12)).max())


def trainable_share(module: torch.nn.Module, model: keras.Model) -> float:
    keras_count = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    torch_count = sum(p.numel() for p in module.parameters() if p.requires_grad)
    return torch_count / keras_count if keras_count else float("nan")


def keras_modes_differ(model: keras.Model, inputs: list[np.ndarray]) -> bool:
    keras.utils.set_random_seed(0)
    return not np.allclose(keras_outputs(model, inputs, True), keras_outputs(model, inputs, False), atol=1e-6)


def measure(module: torch.nn.Module, model: keras.Model, inputs: list[np.ndarray],
            torch_inputs: list[torch.Tensor], channels_first: bool = False) -> dict[str, Any]:
    """The columns for one converted module (``channels_first``: its image outputs have channels on axis 1)."""
    expected = keras_outputs(model, inputs, False).astype(np.float64)
    actual = torch_outputs(module, torch_inputs, False)
    if channels_first and actual.ndim in (4, 5):
        actual = np.moveaxis(actual, 1, -1)
    abs_error, rel_error = differences(actual, expected)
    modes_differ = not np.allclose(torch_outputs(module, torch_inputs, True),
                                   torch_outputs(module, torch_inputs, False), atol=1e-6)
    leaves = [m for m in module.modules() if not list(m.children())]
    wrappers = sum(type(m).__module__.startswith("onnx2torch") for m in leaves)
    return {"converted": "yes", "abs": abs_error, "rel": rel_error, "trainable": trainable_share(module, model),
            "train_eval": modes_differ, "wrappers": f"{wrappers}/{len(leaves)}"}


def onnx_column(model: keras.Model, inputs: list[np.ndarray]) -> dict[str, Any]:
    from onnx2torch import convert

    with tempfile.TemporaryDirectory() as folder:
        try:
            onnx_model, how = to_onnx(model, folder)
        except Exception as error:  # noqa: BLE001
            return {"converted": f"no: tf2onnx: {first_line(error)}"}
        try:
            module = convert(onnx_model)
        except Exception as error:  # noqa: BLE001
            return {"converted": f"no: onnx2torch: {first_line(error)}", "how": how}
    torch_inputs = [torch.from_numpy(x) for x in inputs]
    try:
        row = measure(module, model, inputs, torch_inputs)
    except Exception as error:  # noqa: BLE001
        return {"converted": f"no: running it: {first_line(error)}", "how": how}
    shape = [d.dim_value or "N" for d in onnx_model.graph.input[0].type.tensor_type.shape.dim]
    return {**row, "how": how, "layout": f"{shape} (Keras's)"}


def port_column(model: keras.Model, inputs: list[np.ndarray]) -> dict[str, Any]:
    """``ptref.port.from_keras``'s columns, or why it cannot be measured here."""
    try:
        from ptref.port import from_keras
    except ImportError as error:
        return {"converted": f"not measured: ptref.port.from_keras is not available here ({error})"}
    try:
        module = from_keras(model)
    except Exception as error:  # noqa: BLE001
        return {"converted": f"no: {first_line(error)}"}
    # the port takes images channels first; sequences and vectors as Keras does
    images = any(x.ndim in (4, 5) for x in inputs)
    torch_inputs = [torch.from_numpy(np.moveaxis(x, -1, 1).copy() if x.ndim in (4, 5) else x) for x in inputs]
    row = measure(module, model, inputs, torch_inputs, channels_first=images)
    return {**row, "layout": "channels first" if images else "Keras's"}


def rows() -> list[dict[str, Any]]:
    table = []
    for name, build in zoo().items():
        keras.utils.set_random_seed(0)
        model, inputs = build()
        entry = {"model": name, "keras_modes_differ": keras_modes_differ(model, inputs)}
        for column, function in (("onnx", onnx_column), ("port", port_column)):
            try:
                entry[column] = function(model, inputs)
            except Exception as error:  # noqa: BLE001  (a crash of one tool is a row, not the end of the table)
                traceback.print_exc()
                entry[column] = {"converted": f"no: {first_line(error)}"}
        table.append(entry)
        print(entry, flush=True)
    return table


def converted_text(column: dict[str, Any]) -> str:
    """The "converted?" cell: yes (and how, when not the first way tried), or no and why, in a few words."""
    text = column.get("converted", "?")
    if text == "yes":
        how = column.get("how", "from_keras")
        return "yes" if how == "from_keras" else f"yes, by {how}"
    missing = re.search(r"operation_type='(\w+)'", text)
    if missing:
        return f"**no**: onnx2torch has no `{missing.group(1)}` converter"
    return "**no**: " + text.removeprefix("no: ").replace("|", "/")


def cell(column: dict[str, Any], keras_differs: bool) -> list[str]:
    if column.get("converted") != "yes":
        return [converted_text(column), "", "", "", "", ""]
    kept = ("yes" if column["train_eval"] else "**no**") if keras_differs else "n/a"
    return [converted_text(column), f"{column['abs']:.1e} / {column['rel']:.1e}", f"{100 * column['trainable']:.0f}%",
            kept, column["wrappers"], column.get("layout", "")]


def markdown(table: list[dict[str, Any]]) -> str:
    head = ("| model | tool | converted? | forward max abs / rel | Keras weights trainable | train ≠ eval kept | "
            "ONNX wrapper modules | input layout |\n|---|---|---|---|---|---|---|---|")
    lines = [head]
    for entry in table:
        for tool, key in (("tf2onnx + onnx2torch", "onnx"), ("ptref port", "port")):
            lines.append("| " + " | ".join([entry["model"], tool, *cell(entry[key], entry["keras_modes_differ"])])
                         + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--markdown", action="store_true", help="print the table for docs/port.md")
    arguments = parser.parse_args()
    table = rows()
    if arguments.markdown:
        print(markdown(table))


if __name__ == "__main__":
    main()
