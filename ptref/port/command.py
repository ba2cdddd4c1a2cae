"""``ptref port``: a Keras model as PyTorch source, its weights, its training setup and the proof that they agree.

    ptref port model.keras --out ported/ [--data data.npz] [--layout channels_first|channels_last]
                                         [--steps 20] [--seed 0]

Writes into ``--out``:

- ``model.py`` and ``weights.pt``: the readable module and its ``state_dict`` (:func:`ptref.port.write_source`);
- ``fit.yaml``: the model's ``compile()`` setup for ``ptref fit --config ported/fit.yaml``
  (:func:`ptref.port.config.write_fit_config`), reading ``--data`` (without it, the file says where the data goes);
- ``report.md``, ``report.json`` and the figures: the parity report (:mod:`ptref.parity`) of the *written* files
  (``model.py``'s ``load_model()`` with ``weights.pt``, weights compared as they are) against the Keras model:
  forward per layer, gradients per parameter, one optimizer step and a ``--steps``-step trajectory, on
  ``--data``'s first examples or on seeded random inputs of the model's input shape with targets for its loss.

The loss and optimizer are the model's compiled ones (an uncompiled model: mean squared error and Adam, and no
``fit.yaml``). Exit status 0 when every check passes, 1 when one fails (one line names the level and the layer or
parameter), 1 with a one-line ``ptref:`` error for input that cannot be ported. TensorFlow is imported only here.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ptref.errors import UserInputError
from ptref.parity.report import Check, ParityReport

LEVELS = ("forward", "gradient", "step", "trajectory")
SUFFIXES = (".keras", ".h5")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ptref port", description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=Path, help="the Keras model: a .keras or .h5 file")
    parser.add_argument("--out", required=True, type=Path, help="folder for model.py, weights.pt, fit.yaml, report")
    parser.add_argument("--data", type=Path, help=".npz with x_train, y_train in Keras's layout (default: random "
                                                  "data of the model's input shape, for the report only)")
    parser.add_argument("--layout", choices=("channels_first", "channels_last"), default="channels_first",
                        help="images (N, C, H, W) as PyTorch takes them (default), or Keras's (N, H, W, C)")
    parser.add_argument("--steps", type=int, default=20, help="trajectory length of the report (default 20)")
    parser.add_argument("--batch-size", type=int, default=32, help="batch of fit.yaml and the report (default 32)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random data and of fit.yaml (default 0)")
    args = parser.parse_args(argv)
    for option in ("steps", "batch_size"):
        if getattr(args, option) < 1:
            raise UserInputError(f"--{option.replace('_', '-')} {getattr(args, option)}: must be a positive integer")
    return args


def load_model(path: Path) -> Any:
    """The Keras model saved at ``path``, compiled as it was saved; one-line errors for anything else."""
    if not path.is_file():
        raise UserInputError(f"{path}: no such file (a Keras model: .keras or .h5)")
    if path.suffix not in SUFFIXES:
        raise UserInputError(f"{path}: not a Keras model file (.keras or .h5)")
    from ptref.parity.tf import import_keras

    keras = import_keras()
    try:
        model = keras.models.load_model(path)
    except Exception as error:  # Keras raises many types for a file it cannot read; all mean "not a model"
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise UserInputError(f"{path}: not a Keras model Keras can load ({first})") from error
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise UserInputError(f"{path}: model {model.name!r} has {len(model.inputs)} inputs and {len(model.outputs)} "
                             "outputs; ptref port (its fit.yaml and report) takes one input and one output")
    return model


def parity_data(model: Any, data: Path | None, count: int, seed: int) -> tuple[np.ndarray, np.ndarray | None, str]:
    """``(x, y, description)``: ``data``'s first ``count`` training examples (Keras's layout, the input's dtype), or
    ``count`` seeded random inputs (normal values; token ids below the smallest Embedding's ``input_dim``) and no
    targets (the report draws them for the loss)."""
    dtype = str(model.inputs[0].dtype)
    if data is not None:
        if not data.is_file():
            raise UserInputError(f"--data {data}: no such file")
        with np.load(data, allow_pickle=False) as arrays:
            missing = [key for key in ("x_train", "y_train") if key not in arrays]
            if missing:
                raise UserInputError(f"--data {data}: no {', '.join(missing)} (keys: {', '.join(arrays.files)})")
            x, y = arrays["x_train"][:count], arrays["y_train"][:count]
        expected = tuple(model.inputs[0].shape[1:])
        if x.ndim != len(expected) + 1 or any(size not in (None, got) for size, got in zip(expected, x.shape[1:])):
            raise UserInputError(f"--data {data}: x_train has examples of shape {x.shape[1:]}, the model takes "
                                 f"{expected} (Keras's layout)")
        return x.astype(dtype), y, f"the first {len(x)} examples of {data}"
    rng = np.random.default_rng(seed)
    shape = (count, *(size or 8 for size in model.inputs[0].shape[1:]))
    if "int" in dtype:
        from ptref.parity.tf import import_keras

        embeddings = [layer.input_dim for layer in model.layers if isinstance(layer, import_keras().layers.Embedding)]
        x = rng.integers(0, min(embeddings, default=2), shape).astype(dtype)
    else:
        x = rng.standard_normal(shape).astype(dtype)
    return x, None, f"{count} random inputs (seed {seed}) and random targets for the loss"


def write_config(model: Any, out: Path, data: Path | None, batch_size: int, seed: int, channels_first: bool
                 ) -> Path | None:
    """``out/fit.yaml`` for the compiled ``model`` (``None`` for an uncompiled one); without ``data``, it reads
    ``out/data.npz`` and says so in its first lines."""
    from ptref.port.config import write_fit_config

    if not model.compiled:
        return None
    path = write_fit_config(model, out, data or out / "data.npz", epochs=1, batch_size=batch_size, seed=seed,
                            channels_first=channels_first)
    if data is None:
        note = (f"# No data given to ptref port: save x_train, y_train (Keras's layout) with numpy.savez to "
                f"{(out / 'data.npz').resolve()},\n# or add --data.path FILE.npz to the command line.\n")
        path.write_text(note + path.read_text())
    return path


def failure_line(report: ParityReport) -> str:
    """One line for the first failing check: the per-layer forward check names the first layer that parts."""
    bad = report.failures
    check: Check = next((c for c in bad if c.details.get("first_parting_layer")), bad[0])
    place = check.details.get("first_parting_layer") or check.where
    return (f"parity FAIL at the {check.level} level, {place}: {check.what}: max abs diff {check.max_abs:.3g}, "
            f"max rel diff {check.max_rel:.3g} > {check.tolerance.name} {check.tolerance.value:g} "
            f"{check.tolerance.kind} ({len(bad)} of {len(report.checks)} checks failed)")


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    model = load_model(args.model)
    import ptref.port
    from ptref.parity import compare_models, random_targets
    from ptref.port.training import load_module

    channels_first = args.layout == "channels_first"
    source = ptref.port.write_source(model, args.out, layout=args.layout)
    config = write_config(model, args.out, args.data, args.batch_size, args.seed, channels_first)
    x, y, described = parity_data(model, args.data, args.steps * args.batch_size, args.seed)
    if y is None:
        loss = model.loss if model.compiled else "mean_squared_error"
        y = random_targets(loss, tuple(model.outputs[0].shape[1:]), len(x), args.seed)
    images_out = channels_first and len(model.outputs[0].shape) >= 4  # the module returns (N, C, H, W)
    report = compare_models(
        model, load_module(str(source)), x, y, levels=LEVELS, steps=args.steps, batch_size=args.batch_size,
        name=model.name, transfer=None, torch_output=(lambda t: t.movedim(1, -1)) if images_out else None,
    )
    report.notes.append(f"torch side: {source} (load_model(), weights.pt), layout {args.layout}; data: {described}")
    written = report.write(args.out, title=f"{args.model.name} → {source.name}: parity report")
    files = ["model.py", "weights.pt", *(["fit.yaml"] if config else []), *written]
    print(f"ptref port: {args.model} → {args.out}/ ({', '.join(files)})")
    for check in report.checks:
        print(f"  {check.verdict:4} {check.level:10} {check.what}: max abs diff {check.max_abs:.3g}; "
              f"{check.tolerance.name} {check.metric:.3g} <= {check.tolerance.value:g} {check.tolerance.kind}?")
    print(f"train it: ptref fit --config {config}" if config else
          f"no fit.yaml: {model.name!r} was saved without compile(); compile it before saving to port its training")
    if report.failures:
        print(failure_line(report))
        return 1
    print(f"parity pass: {len(report.checks)} checks within tolerance; details in {args.out / 'report.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
