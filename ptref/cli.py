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
import shutil
import signal
import sys
import types
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from lightning.pytorch import LightningDataModule, LightningModule, Trainer
from lightning.pytorch.callbacks import ProgressBar as ProgressBarBase
from lightning.pytorch.cli import LightningCLI
from lightning.pytorch.utilities.exceptions import SIGTERMException

from ptref.callbacks.divergence import DivergenceGuard, TrainingDiverged
from ptref.callbacks.empty_hooks import SkipEmptyHooks
from ptref.callbacks.hook_signatures import CacheHookSignatures
from ptref.callbacks.plain_setattr import SetPlainAttributesDirectly
from ptref.callbacks.keras import FinalizeEMA, ScaleLoss
from ptref.callbacks.log_move import SkipResidentLogMove
from ptref.callbacks.preemption import SaveOnSIGTERM
from ptref.callbacks.progress import ProgressBar
from ptref.callbacks.rng_state import RNGStateCheckpoint
from ptref.callbacks.run_folder import MarkFitCompleted
from ptref.callbacks.speed import ChannelsLast, KeepFreedMemory
from ptref.callbacks.summary import FlatModelSummary
from ptref.callbacks.trainable import LearningRateCheck, check_epochs, check_learning_rate
from ptref.devices import resolve_accelerator
from ptref.errors import UsageError, causes, closest, usage_message, user_error
from ptref.loggers import CSVLogger, TensorBoardLogger
from ptref.quiet import known_noise_hidden
from ptref.runs import (
    EVALUATIONS,
    LIGHTNING_CKPT_NAMES,
    check_checkpoint,
    experiment_root,
    free_folder,
    next_version,
    resolve_ckpt_path,
    run_of,
)

# subcommand -> (module with a ``main(argv) -> int | None``, its line in ``ptref --help``)
EXTRA_COMMANDS = {
    "lesson": ("ptref.concepts.lesson", "Each course concept in TensorFlow and in PyTorch, side by side."),
    "env": ("ptref.env", "Versions, the accelerators of this machine, and what accelerator=auto picks."),
    "compare": ("ptref.compare", "Check a Keras model and a torch model level by level; write the report."),
    "port": ("ptref.port.command", "Port a Keras model to PyTorch: source, weights, fit.yaml and its parity report."),
    "serve": ("ptref.serve", "Serve a trained image model over HTTP (LitServe), with a demo page."),
}

SPEED_DEFAULTS = (ChannelsLast, KeepFreedMemory, SkipResidentLogMove, SkipEmptyHooks, CacheHookSignatures,
                  SetPlainAttributesDirectly)

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
    - the speed levers :class:`ChannelsLast`, :class:`KeepFreedMemory` (:mod:`ptref.callbacks.speed`),
      :class:`SkipResidentLogMove` (:mod:`ptref.callbacks.log_move`), :class:`SkipEmptyHooks`
      (:mod:`ptref.callbacks.empty_hooks`), :class:`CacheHookSignatures` (:mod:`ptref.callbacks.hook_signatures`)
      and :class:`SetPlainAttributesDirectly` (:mod:`ptref.callbacks.plain_setattr`), unless ``trainer.callbacks``
      lists one of the same class;
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
        # The speed levers (ptref.callbacks.speed), unless the config lists its own (e.g. with enabled: false).
        extra += [lever() for lever in SPEED_DEFAULTS if not any(isinstance(each, lever) for each in callbacks)]
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

    def add_arguments_to_parser(self, parser: Any) -> None:
        # A model that takes n_features (LinearRegression) gets the data's: given once, read from the data.
        # Ignored for data modules without the attribute and models without the argument.
        parser.link_arguments("data.n_features", "model.init_args.n_features", apply_on="instantiate")

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


def check_trainable(config: Any) -> None:
    """Refuse ``fit`` options that cannot train: no epochs or steps, a learning rate that is not positive."""
    trainer = config.get("trainer") or {}
    for name in ("max_epochs", "max_steps"):
        check_epochs(trainer.get(name), f"--trainer.{name}")
    for group in ("model", "optimizer"):
        init_args = (config.get(group) or {}).get("init_args") or {}
        for name in ("lr", "learning_rate"):
            check_learning_rate(init_args.get(name), f"--{group}.{name}")


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
    with known_noise_hidden():
        build_cli(argv)
    return None


def build_cli(args: Sequence[str], run: bool = True) -> PtrefCLI:
    """The ``ptref`` Lightning CLI on ``args``: the one place it is built (``ptref`` itself, benchmarks, tests).

    ``run=True``: ``args`` starts with a subcommand (``fit``, ``test``, ...), which runs. ``run=False``: no
    subcommand; the config is parsed and the trainer, model and data module are built, exactly as ``fit`` would
    build them (``cli.trainer``, ``cli.model``, ``cli.datamodule``), and nothing runs.
    """
    # Importing the packages registers their classes, so `--model LinearRegression` works by short name.
    importlib.import_module("ptref.data")
    importlib.import_module("ptref.models")
    return PtrefCLI(
        LightningModule,
        LightningDataModule,
        subclass_mode_model=True,
        subclass_mode_data=True,
        args=list(args),
        run=run,
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
