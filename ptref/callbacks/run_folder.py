"""Where a run's files go: the first logger's ``version_N`` folder (checkpoints, config, figures).

A run folder also says whether its ``fit`` finished: :class:`MarkFitCompleted` writes ``fit_completed`` into
it when training ends normally (not on a crash, a ``kill -9`` or a SIGTERM), so ``--ckpt_path last`` can
tell an interrupted run, which it resumes, from a finished one, which it leaves alone.
"""

from __future__ import annotations

from pathlib import Path

import lightning.pytorch as pl

FIT_COMPLETED = "fit_completed"


def output_dir(trainer: pl.Trainer) -> Path | None:
    """The run's folder (the first logger's version folder); ``None`` when the run has no logger.

    Read from the logger itself: ``trainer.log_dir`` is a collective under DDP (rank 0 broadcasts it), so a
    figure written by rank 0 alone would wait forever for the other ranks.
    """
    if not trainer.loggers:
        return None
    logger = trainer.loggers[0]
    folder = getattr(logger, "log_dir", None) or logger.save_dir
    return Path(folder) if folder else None


def fit_completed(run: Path) -> bool:
    """Whether the ``fit`` that wrote the run folder ``run`` reached its end."""
    return (run / FIT_COMPLETED).is_file()


class MarkFitCompleted(pl.Callback):
    """Writes ``<run folder>/fit_completed`` (epochs and steps done) when ``fit`` ends normally."""

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        folder = output_dir(trainer)
        if folder is not None and trainer.is_global_zero:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / FIT_COMPLETED).write_text(f"{trainer.current_epoch} epochs, {trainer.global_step} steps\n")
