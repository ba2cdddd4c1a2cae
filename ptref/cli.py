"""The ``ptref`` command line.

``ptref fit|validate|test|predict`` is Lightning's own :class:`~lightning.pytorch.cli.LightningCLI`, so every
model and data module is configured from YAML (``--config experiments/....yaml``) and flags, and devices,
precision and strategy are Trainer arguments (``--trainer.accelerator auto|cpu|cuda|mps|tpu``).

A few small subcommands of our own sit beside it; each lives in its own module and is imported only
when asked for, so ``ptref fit`` never pays for them (and never imports TensorFlow).
"""

from __future__ import annotations

import importlib
import pickle
import sys
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch import LightningDataModule, LightningModule, Trainer
from lightning.pytorch.callbacks import ProgressBar as ProgressBarBase
from lightning.pytorch.cli import LightningCLI

from ptref.callbacks.divergence import DivergenceGuard, TrainingDiverged
from ptref.callbacks.progress import ProgressBar
from ptref.callbacks.rng_state import RNGStateCheckpoint
from ptref.devices import resolve_accelerator
from ptref.loggers import CSVLogger, TensorBoardLogger

# subcommand -> module with a ``main(argv) -> int | None``
EXTRA_COMMANDS = {
    "env": "ptref.env",
    "lesson": "ptref.concepts.lesson",
    "compare": "ptref.compare",
    "bench": "ptref.bench",
}

EPILOG = "ptref's own subcommands: " + ", ".join(f"'ptref {name} --help'" for name in EXTRA_COMMANDS)


def tensorboard_without_tensorflow() -> None:
    """Make TensorBoard's event writer use its bundled TF stub, not TensorFlow (when TF is installed).

    ``torch.utils.tensorboard`` imports all of TensorFlow when it is installed (3-4 s, and TF's threads in a
    training process); the stub writes the same event files. TensorBoard's own switch for this is the
    presence of a ``tensorboard.compat.notf`` module. Only for a process that has not loaded TensorBoard's
    ``tf`` yet, and only in ``ptref``'s own commands: a user's process that imports ptref is left alone.
    """
    sys.modules.setdefault("tensorboard.compat.notf", types.ModuleType("tensorboard.compat.notf"))


class PtrefCLI(LightningCLI):
    """LightningCLI whose ``--model``/``--data`` accept any LightningModule/DataModule (short names for ptref's).

    What it adds to Lightning's defaults, all overridable:

    - one output folder per run: unless ``--trainer.logger`` is given, a run logs to TensorBoard *and* CSV in
      ``<default_root_dir>/version_N/``, next to its checkpoints, config and figures (:mod:`ptref.loggers`:
      written at most once a second, and completely at the end);
    - checkpoints are loaded with ``weights_only=True`` (no code runs from a checkpoint file);
    - ``fit --ckpt_path last`` resumes from the newest ``last.ckpt`` of any earlier run under
      ``default_root_dir`` (the resumed run logs into a new ``version_N``: nothing is overwritten);
    - every run carries :class:`RNGStateCheckpoint` (exact resume) and :class:`DivergenceGuard` (NaN stop);
    - the progress bar is :class:`ptref.callbacks.progress.ProgressBar` (tqdm; one bar over the epochs when
      every epoch is a single batch);
    - ``--trainer.accelerator auto`` (the default) tries CUDA, MPS, XLA/TPU, CPU in that order (ptref.devices).
    """

    def instantiate_trainer(self, **kwargs: Any) -> Trainer:
        trainer_config = self._get(self.config_init, "trainer", default={})
        kwargs["accelerator"] = resolve_accelerator(trainer_config.get("accelerator", "auto"))
        if trainer_config.get("logger") in (None, True):
            root = Path(trainer_config.get("default_root_dir") or "runs")
            version = next_version(root)
            # CSV first: it warns about a non-empty folder that TensorBoard would already have created.
            kwargs["logger"] = [
                CSVLogger(root, name="", version=version),
                TensorBoardLogger(root, name="", version=version),
            ]
        callbacks = trainer_config.get("callbacks") or []
        callbacks = callbacks if isinstance(callbacks, list) else [callbacks]
        if trainer_config.get("enable_progress_bar") is not False and not any(
            isinstance(callback, ProgressBarBase) for callback in callbacks
        ):
            # tqdm's plain-text bar (Lightning would pick Rich when it is installed: garbled in CI logs).
            kwargs["callbacks"] = [*callbacks, ProgressBar()]
        return super().instantiate_trainer(**kwargs)

    def _parse_ckpt_path(self) -> None:
        # LightningCLI reads the checkpoint's hyperparameters here, before any hook: check the file first.
        subcommand = self.config.get("subcommand")
        config = self.config.get(subcommand) or {} if subcommand else {}
        path = config.get("ckpt_path")
        if path not in (None, "last", "best", "hpc") and config.get("weights_only") is not False:
            check_checkpoint(Path(path))
        super()._parse_ckpt_path()

    def _safe_loading(self) -> None:
        config = self.config_init[self.subcommand]
        if config.get("weights_only") is None:
            config["weights_only"] = True

    def before_fit(self) -> None:
        self._safe_loading()
        if self.config_init["fit"].get("ckpt_path") == "last":
            self.config_init["fit"]["ckpt_path"] = last_checkpoint(Path(self.trainer.default_root_dir))

    before_validate = before_test = before_predict = _safe_loading


def next_version(root: Path) -> int:
    """The first unused ``version_N`` number under ``root`` (shared by all loggers of one run)."""
    taken = [int(p.name.split("_", 1)[1]) for p in root.glob("version_*") if p.name.split("_", 1)[1].isdigit()]
    return max(taken, default=-1) + 1


def last_checkpoint(root: Path) -> str | None:
    """The most recently written ``version_*/checkpoints/last*.ckpt`` under ``root``, if any."""
    candidates = sorted(root.glob("version_*/checkpoints/last*.ckpt"), key=lambda path: path.stat().st_mtime)
    if not candidates:
        print(f"ptref: --ckpt_path last: no last.ckpt under {root}/version_*/checkpoints, starting from scratch")
        return None
    print(f"ptref: resuming from {candidates[-1]}")
    return str(candidates[-1])


class CheckpointError(ValueError):
    """A checkpoint file that cannot be loaded safely."""


def check_checkpoint(path: Path) -> None:
    """Open ``path`` the safe way (tensors and plain data only) and explain what is wrong if that fails."""
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    try:
        torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        raise CheckpointError(
            f"{path}: refused: it holds Python objects other than tensors and plain data, which could run code "
            f"when loaded ({str(error).splitlines()[0]}). Only if you trust its source, pass --weights_only false."
        ) from None
    except Exception as error:  # torch.load fails in many ways on damaged files (RuntimeError, EOFError, ...)
        raise CheckpointError(
            f"{path}: not a readable PyTorch checkpoint (truncated or corrupted?): {str(error).splitlines()[0]}. "
            "Use another checkpoint of the run (e.g. last.ckpt or an earlier epoch)."
        ) from None


def main(args: Sequence[str] | None = None) -> int | None:
    """Entry point of ``ptref`` and ``python -m ptref``."""
    argv = list(sys.argv[1:] if args is None else args)
    if argv and argv[0] in EXTRA_COMMANDS:
        return importlib.import_module(EXTRA_COMMANDS[argv[0]]).main(argv[1:])

    tensorboard_without_tensorflow()
    # Importing the packages registers their classes, so `--model LinearRegression` works by short name.
    importlib.import_module("ptref.data")
    importlib.import_module("ptref.models")
    try:
        PtrefCLI(
            LightningModule,
            LightningDataModule,
            subclass_mode_model=True,
            subclass_mode_data=True,
            args=None if args is None else argv,  # None: LightningCLI reads sys.argv itself
            parser_kwargs={"epilog": EPILOG},
            save_config_kwargs={"overwrite": True},
            trainer_defaults={"callbacks": [RNGStateCheckpoint(), DivergenceGuard()]},
        )
    except TrainingDiverged as error:
        print(f"ptref: training diverged: {error}", file=sys.stderr)
        return 1
    except CheckpointError as error:
        print(f"ptref: {error}", file=sys.stderr)
        return 1
    return None
