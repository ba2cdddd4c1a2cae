"""Where a run's files go: the first logger's ``version_N`` folder (checkpoints, config, figures)."""

from __future__ import annotations

from pathlib import Path

import lightning.pytorch as pl


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
