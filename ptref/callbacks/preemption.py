"""A pre-empted job (SIGTERM) saves where it stopped, says how to resume, and exits with code 143.

TensorFlow twin: ``tf.keras.callbacks.BackupAndRestore(backup_dir, save_freq=...)``.

Lightning catches SIGTERM and stops after the batch in progress (raising ``SIGTERMException``). This
callback then writes ``last.ckpt`` into the run's checkpoint folder: weights, optimizer, loop counters
(epoch and batch within it), RNG streams (:class:`~ptref.callbacks.rng_state.RNGStateCheckpoint`) and the
position of the training loader inside its epoch (:class:`~ptref.data.resumable.ResumableDataLoader`), so
``--ckpt_path last`` continues from the interrupted step and ends with the same weights, bit for bit, as a
run that was never stopped. ``ptref``'s CLI turns the exception into exit code 143 (128 + SIGTERM), the
code a shell reports for a process killed by SIGTERM, so a job scheduler sees an interrupted job.
"""

from __future__ import annotations

import sys
from contextlib import ExitStack
from pathlib import Path

import lightning.pytorch as pl
from lightning.pytorch.trainer.states import TrainerFn
from lightning.pytorch.utilities.exceptions import SIGTERMException
from lightning.pytorch.utilities.rank_zero import rank_zero_only

from ptref.callbacks.run_folder import output_dir
from ptref.data.resumable import ResumableDataLoader


def checkpoint_dir(trainer: pl.Trainer) -> Path | None:
    """The folder of the run's checkpoints: the ModelCheckpoint's, else ``<run folder>/checkpoints``."""
    dirpath = getattr(trainer.checkpoint_callback, "dirpath", None)
    if dirpath:
        return Path(dirpath)
    folder = output_dir(trainer)
    return None if folder is None else folder / "checkpoints"


class SaveOnSIGTERM(pl.Callback):
    """On SIGTERM during ``fit``: save ``last.ckpt`` at the interrupted step and print how to resume (stderr)."""

    def on_exception(self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException) -> None:
        if not isinstance(exception, SIGTERMException) or trainer.state.fn != TrainerFn.FITTING:
            return
        folder = checkpoint_dir(trainer)
        if trainer.global_step == 0 or folder is None:
            why = "before its first step" if trainer.global_step == 0 else "and the run has no folder to save in"
            _say(f"ptref: stopped by SIGTERM {why}: nothing saved; rerun the same command")
            return
        loaders = [loader for loader in _flat(trainer.train_dataloader) if isinstance(loader, ResumableDataLoader)]
        mid_epoch = any(0 < loader.served < trainer.num_training_batches for loader in loaders)
        path = folder / "last.ckpt"
        with ExitStack() as holding:
            for loader in loaders if mid_epoch else []:
                holding.enter_context(loader.holding_position())
            trainer.save_checkpoint(path, weights_only=False)  # the full state: optimizer, loops, RNG
        where = f"epoch {trainer.current_epoch}, step {trainer.global_step}"
        if mid_epoch:
            where += f" (batch {max(loader.served for loader in loaders)} of {trainer.num_training_batches})"
        fresh_line = "\n" if trainer.progress_bar_callback is not None else ""  # not glued to the bar
        _say(f"{fresh_line}ptref: stopped by SIGTERM at {where}; saved {path}. To resume, rerun the same command "
             "with --ckpt_path last")


@rank_zero_only
def _say(message: str) -> None:
    print(message, file=sys.stderr)


def _flat(loaders: object) -> list[object]:
    """The loaders in what ``trainer.train_dataloader`` returns (one loader, or a list/dict of them)."""
    if isinstance(loaders, dict):
        loaders = list(loaders.values())
    return list(loaders) if isinstance(loaders, (list, tuple)) else [loaders]
