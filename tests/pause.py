"""A callback for tests/test_resume.py: the child process stops after a checkpoint and waits to be killed."""

from __future__ import annotations

import time
from pathlib import Path

import lightning.pytorch as pl


class PauseAfterEpoch(pl.Callback):
    """Once epoch ``epoch`` is checkpointed, write ``marker`` and wait for the test to kill the process.

    SIGKILL ends it mid-wait; SIGTERM is caught by Lightning, which stops the run at the next batch.
    """

    def __init__(self, epoch: int, marker: str) -> None:
        self.epoch = epoch
        self.marker = Path(marker)

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if trainer.current_epoch == self.epoch + 1:  # the end-of-epoch checkpoint of `epoch` is on disk
            self.marker.write_text(str(trainer.global_step))
            deadline = time.monotonic() + 600
            while not trainer.received_sigterm and time.monotonic() < deadline:
                time.sleep(0.05)


class PauseAtStep(pl.Callback):
    """After optimizer step ``step`` (mid-epoch), write ``marker`` and wait for a signal (SIGTERM: Lightning
    stops right after this batch)."""

    def __init__(self, step: int, marker: str) -> None:
        self.step = step
        self.marker = Path(marker)

    def on_train_batch_end(self, trainer: pl.Trainer, *args: object) -> None:
        if trainer.global_step == self.step:
            self.marker.write_text(str(trainer.global_step))
            deadline = time.monotonic() + 600
            while not trainer.received_sigterm and time.monotonic() < deadline:
                time.sleep(0.05)
