"""The ``ptref`` command line.

``ptref fit|validate|test|predict`` is Lightning's own :class:`~lightning.pytorch.cli.LightningCLI`, so every
model and data module is configured from YAML (``--config experiments/....yaml``) and flags, and devices,
precision and strategy are Trainer arguments (``--trainer.accelerator auto|cpu|cuda|mps|tpu``).

A few small subcommands of our own sit beside it; each lives in its own module and is imported only
when asked for, so ``ptref fit`` never pays for them (and never imports TensorFlow).

An error about the user's input prints one line, ``ptref: <message>``, and exits with status 1, or 2 when the
parser refused the command line or a config file (the rule that tells input errors from bugs, and why:
:mod:`ptref.errors`); ``--debug`` or ``PTREF_DEBUG=1`` shows the traceback. Options must be spelled in full:
argparse would otherwise take ``--trainer.max_epoch`` for ``--trainer.max_epochs`` without a word.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pickle
import shutil
import signal
import sys
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
import yaml
from lightning.pytorch import LightningDataModule, LightningModule, Trainer
from lightning.pytorch.callbacks import ProgressBar as ProgressBarBase
from lightning.pytorch.cli import LightningCLI
from lightning.pytorch.utilities.exceptions import SIGTERMException

from ptref.callbacks.divergence import DivergenceGuard, TrainingDiverged
from ptref.callbacks.keras import FinalizeEMA, ScaleLoss
from ptref.callbacks.preemption import SaveOnSIGTERM
from ptref.callbacks.progress import ProgressBar
from ptref.callbacks.rng_state import RNGStateCheckpoint
from ptref.callbacks.run_folder import MarkFitCompleted, fit_completed
from ptref.callbacks.summary import FlatModelSummary
from ptref.callbacks.trainable import LearningRateCheck, check_epochs, check_learning_rate
from ptref.devices import resolve_accelerator
from ptref.errors import UsageError, UserInputError, causes, closest, usage_message, user_error
from ptref.loggers import CSVLogger, TensorBoardLogger
from ptref.quiet import known_noise_hidden

# subcommand -> (module with a ``main(argv) -> int | None``, its line in ``ptref --help``)
EXTRA_COMMANDS = {
    "lesson": ("ptref.concepts.lesson", "Each course concept in TensorFlow and in PyTorch, side by side."),
    "env": ("ptref.env", "Versions, the accelerators of this machine, and what accelerator=auto picks."),
    "compare": ("ptref.compare", "Run the TensorFlow parity checks and write a report."),
    "bench": ("ptref.bench", "Training throughput: ptref vs a plain PyTorch loop vs Keras fit."),
}

EPILOG = (
    "Run 'ptref <subcommand> --help' for its options. An error prints one line (exit status 2 when the "
    "command line or a config file is refused, 1 otherwise); add --debug, or set PTREF_DEBUG=1, to see "
    "its traceback."
)


def tensorboard_without_tensorflow() -> None:
    """Make TensorBoard's event writer use its bundled TF stub, not TensorFlow (when TF is installed).

    ``torch.utils.tensorboard`` imports all of TensorFlow when it is installed (seconds of startup, and TF's threads
    in a training process); the stub writes the same event files. TensorBoard's own switch for this is the
    presence of a ``tensorboard.compat.notf`` module. Only for a process that has not loaded TensorBoard's
    ``tf`` yet, and only in ``ptref``'s own commands: a user's process that imports ptref is left alone.
    """
    sys.modules.setdefault("tensorboard.compat.notf", types.ModuleType("tensorboard.compat.notf"))


class PtrefCLI(LightningCLI):
    """LightningCLI whose ``--model``/``--data`` accept any LightningModule/DataModule (short names for ptref's).

    What it adds to Lightning's defaults, all overridable:

    - one output folder per run: unless ``--trainer.logger`` is given, ``fit`` logs to TensorBoard *and* CSV in
      ``<default_root_dir>/version_N/``, next to its checkpoints, config and figures (:mod:`ptref.loggers`:
      written at most once a second, and completely at the end), with the model's graph traced from its
      ``example_input_array`` (TensorBoard's Graphs tab). ``test``/``validate``/``predict`` write
      beside the checkpoint's run instead: ``version_N/test/`` (``test_1/``, ... when that is taken), and
      leave nothing behind when they fail;
    - checkpoints are loaded with ``weights_only=True`` (no code runs from a checkpoint file);
    - ``--ckpt_path last`` means this experiment's newest run (by ``version_N``) that saved a checkpoint.
      ``fit`` resumes it only if its fit did not finish (an interrupted run) and refuses otherwise;
      ``test``/``validate``/``predict`` evaluate it, and refuse to run without a checkpoint;
    - every run carries :class:`RNGStateCheckpoint` (exact resume) and :class:`DivergenceGuard` (NaN stop);
      ``fit`` also :class:`SaveOnSIGTERM` (a pre-empted run saves its exact step and exits with 143) and
      :class:`MarkFitCompleted`;
    - the progress bar is :class:`ptref.callbacks.progress.ProgressBar` (tqdm; one bar over the epochs when
      every epoch is a single batch);
    - ``--trainer.accelerator auto`` (the default) tries CUDA, MPS, XLA/TPU, CPU in that order (ptref.devices).
    """

    _stage_dir: Path | None = None  # the folder test/validate/predict write into, removed if they fail

    def instantiate_trainer(self, **kwargs: Any) -> Trainer:
        trainer_config = self._get(self.config_init, "trainer", default={})
        kwargs["accelerator"] = resolve_accelerator(trainer_config.get("accelerator", "auto"))
        if trainer_config.get("logger") in (None, True):
            kwargs["logger"] = self._loggers(trainer_config)
        callbacks = trainer_config.get("callbacks") or []
        callbacks = callbacks if isinstance(callbacks, list) else [callbacks]
        extra = [SaveOnSIGTERM(), MarkFitCompleted()] if self.subcommand == "fit" else []
        if trainer_config.get("enable_progress_bar") is not False and not any(
            isinstance(callback, ProgressBarBase) for callback in callbacks
        ):
            # tqdm's plain-text bar (Lightning would pick Rich when it is installed: garbled in CI logs).
            extra.append(ProgressBar())
        if extra:
            kwargs["callbacks"] = [*callbacks, *extra]
        return super().instantiate_trainer(**kwargs)

    def _loggers(self, trainer_config: dict[str, Any]) -> list[CSVLogger | TensorBoardLogger]:
        """CSV + TensorBoard, both in ``version_N`` for a fit, beside the checkpoint's run otherwise."""
        ckpt_path = self.config_init[self.subcommand].get("ckpt_path") if self.subcommand else None
        if self.subcommand in EVALUATIONS and ckpt_path not in (None, *LIGHTNING_CKPT_NAMES):
            self._stage_dir = free_folder(run_of(Path(ckpt_path)), self.subcommand)
            root, version = self._stage_dir.parent, self._stage_dir.name
        else:
            root = experiment_root(trainer_config)
            version = next_version(root)
        # CSV first: it warns about a non-empty folder that TensorBoard would already have created.
        # log_graph: fit writes the model's graph once (TensorBoard's Graphs tab); an evaluation adds nothing new.
        graph = self.subcommand == "fit"
        return [CSVLogger(root, name="", version=version),
                TensorBoardLogger(root, name="", version=version, log_graph=graph)]

    def _parse_ckpt_path(self) -> None:
        # LightningCLI reads the checkpoint's hyperparameters here, before anything is built: resolve
        # `last`, refuse what cannot work, and check the file first.
        subcommand = self.config.get("subcommand")
        config = self.config.get(subcommand) or {} if subcommand else {}
        if subcommand:
            path = resolve_ckpt_path(subcommand, config.get("ckpt_path"), experiment_root(config.get("trainer")))
            config["ckpt_path"] = path
        path = config.get("ckpt_path")
        if path not in (None, *LIGHTNING_CKPT_NAMES) and config.get("weights_only") is not False:
            check_checkpoint(Path(path))
        super()._parse_ckpt_path()

    def _run_subcommand(self, subcommand: str) -> None:
        try:
            super()._run_subcommand(subcommand)
        except BaseException as error:
            if self._stage_dir is not None:
                shutil.rmtree(self._stage_dir, ignore_errors=True)  # made by this command only (free_folder)
            if isinstance(error, SIGTERMException):
                # fit has saved and said how to resume (SaveOnSIGTERM); 143 tells a scheduler the job was stopped
                raise SystemExit(128 + signal.SIGTERM) from None
            raise

    def _safe_loading(self) -> None:
        config = self.config_init[self.subcommand]
        if config.get("weights_only") is None:
            config["weights_only"] = True

    before_fit = before_validate = before_test = before_predict = _safe_loading

    def init_parser(self, **kwargs: Any) -> Any:
        # allow_abbrev: argparse would take --trainer.max_epoch for --trainer.max_epochs. exit_on_error: raise
        # the error, main() prints it as one line instead of the usage text and the Union dump.
        kwargs.setdefault("allow_abbrev", False)
        kwargs.setdefault("exit_on_error", False)
        return super().init_parser(**kwargs)

    def _add_subcommands(self, parser: Any, **kwargs: Any) -> None:
        super()._add_subcommands(parser, **kwargs)
        for name, (_, help_line) in EXTRA_COMMANDS.items():  # listed here, run by main() before parsing
            parser._subcommands_action.add_subcommand(name, self.parser_class(add_help=False), help=help_line)

    def parse_arguments(self, parser: Any, args: Any) -> None:
        try:
            super().parse_arguments(parser, args)
        except argparse.ArgumentError as error:
            parsers = [parser, *getattr(self, "_subcommand_parsers", {}).values()]  # none when run=False
            options = [option for each in parsers for option in each._option_string_actions]
            raise UsageError(usage_message(error, options)) from error
        if self.config.get("subcommand") == "fit":
            check_trainable(self.config["fit"])


# Subcommands that evaluate trained weights, and the ckpt_path values Lightning resolves itself.
EVALUATIONS = ("validate", "test", "predict")
LIGHTNING_CKPT_NAMES = ("best", "hpc")


def experiment_root(trainer_config: Any) -> Path:
    """The folder of an experiment's runs: ``--trainer.default_root_dir``, else ``runs``."""
    return Path((trainer_config or {}).get("default_root_dir") or "runs")


def run_versions(root: Path) -> list[Path]:
    """The ``version_N`` folders under ``root``, newest (highest ``N``) first."""
    runs = [path for path in root.glob("version_*") if path.name.split("_", 1)[1].isdigit()]
    return sorted(runs, key=lambda path: int(path.name.split("_", 1)[1]), reverse=True)


def check_trainable(config: Any) -> None:
    """Refuse ``fit`` options that cannot train: no epochs or steps, a learning rate that is not positive."""
    trainer = config.get("trainer") or {}
    for name in ("max_epochs", "max_steps"):
        check_epochs(trainer.get(name), f"--trainer.{name}")
    for group in ("model", "optimizer"):
        init_args = (config.get(group) or {}).get("init_args") or {}
        for name in ("lr", "learning_rate"):
            check_learning_rate(init_args.get(name), f"--{group}.{name}")


def next_version(root: Path) -> int:
    """The first unused ``version_N`` number under ``root`` (shared by all loggers of one run)."""
    newest = run_versions(root)
    return int(newest[0].name.split("_", 1)[1]) + 1 if newest else 0


def run_checkpoint(run: Path) -> Path | None:
    """The run's ``checkpoints/last.ckpt`` (the newest ``last*.ckpt`` if Lightning numbered several)."""
    candidates = list((run / "checkpoints").glob("last*.ckpt"))
    return max(candidates, key=lambda path: path.stat().st_mtime) if candidates else None


def last_checkpoint(root: Path) -> tuple[Path, Path] | None:
    """``(run, checkpoint)`` of the newest run under ``root`` that saved a checkpoint, if any.

    Newest by run number, not by file time: runs that saved nothing (stopped before their first
    checkpoint, or a resume that was stopped again before saving) are passed over.
    """
    for run in run_versions(root):
        checkpoint = run_checkpoint(run)
        if checkpoint is not None:
            return run, checkpoint
    return None


def run_of(checkpoint: Path) -> Path:
    """The run folder a checkpoint belongs to (``version_N`` for ``version_N/checkpoints/x.ckpt``)."""
    return checkpoint.parent.parent if checkpoint.parent.name == "checkpoints" else checkpoint.parent


def free_folder(run: Path, name: str) -> Path:
    """``run/name``, or ``run/name_1``, ``run/name_2``, ... : the first that does not exist yet."""
    folder, number = run / name, 0
    while folder.exists():
        number += 1
        folder = run / f"{name}_{number}"
    return folder


def describe(checkpoint: Path) -> str:
    """``"saved at epoch E, step S"`` for a checkpoint, memory-mapped (its tensors are not read)."""
    try:
        state = torch.load(checkpoint, map_location="cpu", weights_only=True, mmap=True)
    except Exception:  # an unreadable file is reported by check_checkpoint, which runs next
        return "unreadable"
    return f"saved at epoch {state.get('epoch')}, step {state.get('global_step')}"


def resolve_ckpt_path(subcommand: str, ckpt_path: str | None, root: Path) -> str | None:
    """What ``--ckpt_path`` means for ``subcommand``: ``last`` becomes a file, and impossible runs are refused.

    - ``fit --ckpt_path last``: the checkpoint of the newest run that saved one, if that run's fit did not
      finish. A finished run is refused (continuing it is a choice: pass its checkpoint's path). With no
      checkpoint at all, fit starts from scratch and says so: the same command then works for the first
      start and every restart of a pre-emptible job.
    - ``test``/``validate``/``predict``: they need trained weights; ``last`` is the newest checkpoint.
    """
    if subcommand == "fit":
        if ckpt_path != "last":
            return ckpt_path
        found = last_checkpoint(root)
        if found is None:
            print(f"ptref: --ckpt_path last: no run under {root} has saved a checkpoint yet; starting from scratch",
                  file=sys.stderr)
            return None
        run, checkpoint = found
        if fit_completed(run):
            raise CheckpointError(
                f"--ckpt_path last: the newest run with a checkpoint, {run}, finished its fit, so there is nothing "
                f"to resume. To train it further, pass its checkpoint explicitly with a larger --trainer.max_epochs "
                f"(--ckpt_path {checkpoint}); to start a new run, leave out --ckpt_path."
            )
        print(f"ptref: resuming from {checkpoint} (the interrupted run {run.name}, {describe(checkpoint)})",
              file=sys.stderr)
        return str(checkpoint)
    if subcommand not in EVALUATIONS or ckpt_path not in (None, "last"):
        return ckpt_path
    found = last_checkpoint(root)
    if found is None:
        raise CheckpointError(
            f"{subcommand} needs trained weights, and no run under {root} has saved a checkpoint: train first "
            f"(ptref fit with the same --config), or pass a checkpoint file with --ckpt_path."
        )
    run, checkpoint = found
    if ckpt_path is None:
        raise CheckpointError(
            f"{subcommand} needs trained weights: pass --ckpt_path last (this experiment's newest checkpoint, "
            f"{checkpoint}) or --ckpt_path with another checkpoint file."
        )
    print(f"ptref: {subcommand} with {checkpoint} ({describe(checkpoint)})", file=sys.stderr)
    return str(checkpoint)


class CheckpointError(UserInputError):
    """A checkpoint file that cannot be loaded safely."""


ZIP_MAGIC = b"PK\x03\x04"  # torch.save's format (every Lightning checkpoint): a zip archive
LEGACY_MAGIC = pickle.dumps(torch.serialization.MAGIC_NUMBER, protocol=2)  # torch.save before PyTorch 1.6


def check_checkpoint(path: Path) -> None:
    """Open ``path`` the safe way (tensors and plain data only) and explain what is wrong if that fails.

    Three failures, three fixes: a file that is no checkpoint at all (random bytes, a text or image file:
    it starts like neither of torch.save's two formats), a damaged checkpoint (truncated or corrupted: it
    starts like one but does not load), and a checkpoint holding objects of Python classes, which
    ``weights_only`` refuses because unpickling them can run code: only that one can be loaded, with
    ``--weights_only false``, and only when its source is trusted.
    """
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    with path.open("rb") as file:
        head = file.read(len(LEGACY_MAGIC))
    if not head.startswith(ZIP_MAGIC) and head != LEGACY_MAGIC:
        raise CheckpointError(
            f"{path}: not a checkpoint (neither of torch.save's formats); pass a .ckpt file written by a run, "
            "e.g. runs/<experiment>/version_0/checkpoints/last.ckpt"
        )
    damaged = (
        f"{path}: not a readable PyTorch checkpoint (truncated or corrupted?)"
        "; use another checkpoint of the run (e.g. last.ckpt or an earlier epoch)"
    )
    try:
        torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        # weights_only met a class or function; a zip archive can list them, the legacy format cannot.
        code = unsafe_globals(path) if head.startswith(ZIP_MAGIC) else ["objects of Python classes"]
        if not code:
            raise CheckpointError(damaged) from None
        raise CheckpointError(
            f"{path}: refused: it holds {', '.join(code)}, not only tensors and plain data, and loading it "
            "could run code. Only if you trust its source, pass --weights_only false."
        ) from None
    except Exception as error:  # torch.load fails in many ways on damaged files (RuntimeError, EOFError, ...)
        raise CheckpointError(f"{damaged}: {str(error).split('. ')[0]}") from None


def unsafe_globals(path: Path) -> list[str]:
    """The classes and functions a zip checkpoint's pickle refers to beyond weights_only's allowlist."""
    try:
        return torch.serialization.get_unsafe_globals_in_checkpoint(path)
    except Exception:  # noqa: BLE001 - a damaged archive: nothing to list
        return []


def check_config_files(argv: Sequence[str]) -> None:
    """Refuse a ``--config`` file whose YAML does not parse, naming file, line and column (the parser names none)."""
    for flag, value in zip(argv, argv[1:]):
        if flag in ("-c", "--config") and Path(value).is_file():
            try:
                yaml.safe_load(Path(value).read_text())
            except (yaml.scanner.ScannerError, yaml.parser.ParserError) as error:
                started = f" ({error.context} started at {position(error.context_mark)})" if error.context_mark else ""
                raise UsageError(f"{value}, {position(error.problem_mark)}: {error.problem}{started}") from None


def position(mark: yaml.Mark) -> str:
    """A YAML mark as people count: lines and columns from 1."""
    return f"line {mark.line + 1}, column {mark.column + 1}"


def main(args: Sequence[str] | None = None) -> int | None:
    """Entry point of ``ptref`` and ``python -m ptref``; returns the exit status.

    An error about the user's input prints one line on stderr and returns 1 (2: refused by the parser); which
    errors count as input errors is :mod:`ptref.errors`'s rule. Every other exception propagates with its
    traceback, and so do input errors under ``--debug`` (anywhere on the command line) or ``PTREF_DEBUG=1``.
    """
    argv = list(sys.argv[1:] if args is None else args)
    debug = "--debug" in argv or os.environ.get("PTREF_DEBUG", "0") not in ("", "0")
    argv = [arg for arg in argv if arg != "--debug"]
    try:
        return run(argv)
    except Exception as error:
        known = None if debug else user_error(error)
        if known is None:
            raise
        message, status = known
        if isinstance(causes(error)[-1], TrainingDiverged):
            message = f"training diverged: {message}"
        print(f"ptref: {message}", file=sys.stderr)
        return status


def run(argv: list[str]) -> int | None:
    """Run one ``ptref`` command line (``argv`` without the program name)."""
    commands = [*LightningCLI.subcommands(), *EXTRA_COMMANDS]
    if argv and not argv[0].startswith("-") and argv[0] not in commands:
        raise UsageError(f"{argv[0]}: no such command{closest(argv[0], commands)}; commands: {', '.join(commands)}")
    tensorboard_without_tensorflow()  # fit's logger, and the graphs lesson's PyTorch side, write events
    if argv and argv[0] in EXTRA_COMMANDS:
        return importlib.import_module(EXTRA_COMMANDS[argv[0]][0]).main(argv[1:])

    check_config_files(argv)
    # Importing the packages registers their classes, so `--model LinearRegression` works by short name.
    importlib.import_module("ptref.data")
    importlib.import_module("ptref.models")
    with known_noise_hidden():
        PtrefCLI(
            LightningModule,
            LightningDataModule,
            subclass_mode_model=True,
            subclass_mode_data=True,
            args=argv,
            parser_kwargs={"prog": "ptref", "description": "ptref: the TensorFlow course in PyTorch + Lightning.",
                           "epilog": EPILOG},
            save_config_kwargs={"overwrite": True},
            # ScaleLoss and FinalizeEMA: what Keras's fit does for an optimizer with a loss scale / an EMA (no-ops
            # for any other optimizer)
            trainer_defaults={
                "callbacks": [RNGStateCheckpoint(), DivergenceGuard(), LearningRateCheck(), FlatModelSummary(),
                              ScaleLoss(), FinalizeEMA()]
            },
        )
    return None
