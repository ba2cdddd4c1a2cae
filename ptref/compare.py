"""``ptref compare``: check that a Keras model and a torch model compute and train the same, and write the report.

    ptref compare --keras model.keras --torch port/model.py[:load_model] [--data data.npz] --out runs/parity/

``--torch`` names a Python file and a function in it (default ``load_model``, the function ``ptref port`` writes)
that returns the torch module; the file is loaded by its path, the import path is left as it is. ``--data``: a ``.npz``
with ``x_train, y_train`` (the ``keras.datasets`` convention, Keras's layout); without it, random inputs of the
Keras model's input shape and random targets for its loss. The loss and optimizer are the Keras model's compiled
ones (else mean squared error and Adam). Levels: :data:`ptref.parity.LEVELS`; see :mod:`ptref.parity.engine`.

Writes ``report.md`` (one row per check: what, where, max abs / rel difference, tolerance, verdict), ``report.json``
(every number), ``loss_curves.png``, ``loss_gap.png`` and ``per_layer_errors.png``; exits 1 when a check fails.
The course's own report (its five workflows, every level) is ``python -m compare --out DIR`` in a source checkout.
"""

from __future__ import annotations

import argparse
import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ptref.errors import UserInputError
from ptref.parity.api import LEVELS


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ptref compare", description=__doc__.split("\n\n")[0])
    parser.add_argument("--keras", required=True, type=Path, help="the Keras model: a .keras or .h5 file")
    parser.add_argument("--torch", required=True, help="FILE.py[:FUNCTION] whose function returns the torch module "
                                                       "(default function: load_model)")
    parser.add_argument("--data", type=Path, help=".npz with x_train, y_train (default: random data)")
    parser.add_argument("--levels", nargs="+", choices=LEVELS, default=list(LEVELS), help="levels (default all)")
    parser.add_argument("--examples", type=int, default=128, help="examples compared (default 128)")
    parser.add_argument("--steps", type=int, default=20, help="trajectory length in steps (default 20)")
    parser.add_argument("--batch-size", type=int, default=32, help="batch of the gradient/step/trajectory levels")
    parser.add_argument("--out", required=True, type=Path, help="folder for report.md, report.json and the PNGs")
    return parser.parse_args(argv)


def load_torch_model(spec: str) -> Any:
    """Call ``FUNCTION`` of ``FILE.py`` (``spec = "FILE.py[:FUNCTION]"``, default ``load_model``), loaded by path."""
    path_text, _, function = spec.partition(":")
    path, function = Path(path_text), function or "load_model"
    if not path.is_file():
        raise UserInputError(f"--torch {spec}: no such file {path}")
    module_spec = importlib.util.spec_from_file_location(f"ptref_compare_{path.stem}", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    if not callable(getattr(module, function, None)):
        raise UserInputError(f"--torch {spec}: {path} defines no function {function}() returning the torch module")
    model = getattr(module, function)()
    import torch

    if not isinstance(model, torch.nn.Module):
        raise UserInputError(f"--torch {spec}: {function}() returned {type(model).__name__}, not a torch nn.Module")
    return model


def load_data(path: Path | None, examples: int) -> tuple[np.ndarray | None, np.ndarray | None]:
    """``(x_train, y_train)[:examples]`` of the .npz, or ``(None, None)`` without one."""
    if path is None:
        return None, None
    if not path.is_file():
        raise UserInputError(f"--data {path}: no such file")
    with np.load(path) as data:
        missing = [key for key in ("x_train", "y_train") if key not in data]
        if missing:
            raise UserInputError(f"--data {path}: lacks {', '.join(missing)} (it has {', '.join(data.files)})")
        return data["x_train"][:examples].astype(np.float32), data["y_train"][:examples]


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.keras.is_file():
        raise UserInputError(f"--keras {args.keras}: no such file (a .keras or .h5 model)")
    from ptref.parity import compare_models
    from ptref.parity.tf import import_keras

    torch_model = load_torch_model(args.torch)
    keras = import_keras()
    keras_model = keras.models.load_model(args.keras)
    x, y = load_data(args.data, args.examples)
    if x is None:
        shape = tuple(keras_model.inputs[0].shape[1:])
        x = np.random.default_rng(0).standard_normal((args.examples, *shape)).astype(np.float32)
    report = compare_models(keras_model, torch_model, x, y, levels=args.levels, steps=args.steps,
                            batch_size=args.batch_size, name=args.keras.stem)
    written = report.write(args.out, title=f"{args.keras.name} vs {args.torch}: parity report")
    print(report.summary(written, args.out))
    return 1 if report.failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
