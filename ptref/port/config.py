"""The YAML that ``ptref fit`` trains a ported Keras model from: its compile setup, its data, Keras fit's loop.

TensorFlow original::

    model.compile(optimizer=..., loss=..., metrics=[...])
    model.fit(x_train, y_train, batch_size=32, epochs=5, validation_split=0.1)

PyTorch twin: ``write_fit_config(model, "DIR", "data.npz", epochs=5, validation_split=0.1)`` writes
``DIR/fit.yaml``; ``ptref fit --config DIR/fit.yaml`` then trains ``DIR/model.py``'s ``load_model()`` with
:class:`ptref.port.training.PortedModel` on :class:`ptref.data.npz.NpzDataModule`. TensorFlow is needed only to
read the Keras model, never to train.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ptref.port.training import check_compile_config

CONFIG_NAME = "fit.yaml"


def keras_input_layout(keras_model: Any) -> tuple[list[int], str, bool]:
    """``(input shape with batch 1 in torch's layout, input dtype, channels_first)`` of a one-input Keras model.

    Images (``[H, W, C]``, ``[D, H, W, C]``) go channels first, as the port lays them out; other inputs keep
    Keras's shape (sequences ``[T, F]``). A dimension Keras leaves open (``None``) becomes 1.
    """
    inputs = keras_model.inputs
    if len(inputs) != 1:
        raise ValueError(f"ptref.port trains models with one input; {keras_model.name} has {len(inputs)}")
    shape = [1 if size is None else int(size) for size in inputs[0].shape[1:]]
    channels_first = len(shape) in (3, 4)
    if channels_first:
        shape = [shape[-1], *shape[:-1]]
    dtype = str(inputs[0].dtype)
    return [1, *shape], ("int64" if "int" in dtype else "float32"), channels_first


def fit_config(
    keras_model: Any,
    folder: str | Path,
    data_path: str | Path,
    *,
    epochs: int = 1,
    batch_size: int = 32,
    validation_split: float = 0.0,
    shuffle: bool = True,
    seed: int = 42,
    module_file: str | Path | None = None,
    module_function: str = "load_model",
    channels_first: bool | None = None,
) -> dict[str, Any]:
    """The ``ptref fit`` configuration (a dict) for a compiled Keras model; see :func:`write_fit_config`."""
    compile_config = keras_model.get_compile_config() if hasattr(keras_model, "get_compile_config") else keras_model
    if not compile_config:
        raise ValueError(f"{getattr(keras_model, 'name', 'the model')} was never compiled: no training setup to port")
    setup = check_compile_config(compile_config)
    folder = Path(folder).resolve()
    example_shape, x_dtype, images = keras_input_layout(keras_model)
    channels_first = images if channels_first is None else channels_first and images  # token ids have no channels
    if images and not channels_first:  # a port that keeps Keras's layout takes (N, H, W, C)
        example_shape = [1, *example_shape[2:], example_shape[1]]
    return {
        "seed_everything": seed,
        "trainer": {
            "max_epochs": epochs,
            "default_root_dir": str(folder / "runs"),
            "callbacks": [{"class_path": "lightning.pytorch.callbacks.ModelCheckpoint",
                           "init_args": {"save_last": True}}],
        },
        "model": {
            "class_path": "ptref.port.training.PortedModel",
            "init_args": {
                "module_file": str(Path(module_file).resolve() if module_file else folder / "model.py"),
                "module_function": module_function,
                **setup,
                "example_input_shape": example_shape,
                "example_input_dtype": x_dtype,
            },
        },
        "data": {
            "class_path": "ptref.data.npz.NpzDataModule",
            "init_args": {
                "path": str(Path(data_path).resolve()),
                "batch_size": batch_size,
                "validation_split": validation_split,
                "shuffle": shuffle,
                "channels_first": channels_first,
                "x_dtype": x_dtype,
            },
        },
    }


def write_fit_config(keras_model: Any, folder: str | Path, data_path: str | Path, **options: Any) -> Path:
    """Write ``folder/fit.yaml`` for ``ptref fit --config folder/fit.yaml`` and return its path.

    ``keras_model`` is a compiled Keras model (its ``get_compile_config()`` is translated, unsupported options
    refused by :func:`~ptref.port.training.check_compile_config`). ``options``: Keras ``fit``'s ``epochs`` (1),
    ``batch_size`` (32), ``validation_split`` (0), ``shuffle`` (True); the run's ``seed`` (42); where the torch
    module comes from (``module_file``, default ``folder/model.py``; ``module_function``, default ``load_model``);
    ``channels_first`` (default: for image inputs, as the port lays them out). Paths are written absolute.
    """
    config = fit_config(keras_model, folder, data_path, **options)
    path = Path(folder) / CONFIG_NAME
    path.parent.mkdir(parents=True, exist_ok=True)
    header = (f"# ptref fit --config {path}\n# The Keras model {getattr(keras_model, 'name', '')!r}'s compile() "
              "setup and fit() loop (written by ptref.port.config.write_fit_config).\n")
    path.write_text(header + yaml.safe_dump(config, sort_keys=False, width=120))
    return path
