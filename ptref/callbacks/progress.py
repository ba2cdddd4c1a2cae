"""ptref's progress bar: Lightning's tqdm bar, with one bar over the epochs for full-batch training.

TensorFlow twin: ``model.fit(verbose=1)`` prints a bar per epoch; ``verbose=2`` one line per epoch.

Lightning's ``TQDMProgressBar`` (plain text, readable in a terminal and in CI logs, unlike the Rich bar
that Lightning picks when ``rich`` is installed) draws one bar per epoch. For the course's full-batch
house-price fit an epoch is a single 0.2 ms step, so 500 epochs would redraw 500 bars and the drawing
would cost more than the training (~0.5 ms per epoch, measured in ``ptref bench``). When every epoch is one
batch, this bar counts epochs instead, and redraws at most every ``min_seconds``.

A bar is a line without its newline: a message printed to the terminal while it is drawn would be glued to
its end. From ``setup`` to ``teardown`` this bar sends Lightning's log messages and every warning through
``tqdm.write``, which clears the bar, prints the message on a line of its own and redraws the bar.
"""

from __future__ import annotations

import logging
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import lightning.pytorch as pl
from lightning.pytorch.callbacks import TQDMProgressBar
from lightning.pytorch.callbacks.progress.tqdm_progress import Tqdm
from tqdm.contrib.logging import logging_redirect_tqdm


@contextmanager
def warnings_above_bars() -> Iterator[None]:
    """Show warnings with ``Tqdm.write`` (on their own line, the bars redrawn below) inside the block."""
    show = warnings.showwarning

    def write(message: Warning | str, category: type[Warning], filename: str, lineno: int, file: Any = None,
              line: str | None = None) -> None:
        text = warnings.formatwarning(message, category, filename, lineno, line)
        Tqdm.write(text.rstrip("\n"), file=file or sys.stderr)

    warnings.showwarning = write
    try:
        yield
    finally:
        warnings.showwarning = show


class ProgressBar(TQDMProgressBar):
    """``TQDMProgressBar``; for one-batch epochs, a single bar over all epochs (loss shown as postfix)."""

    def __init__(self, refresh_rate: int = 1, process_position: int = 0, leave: bool = False,
                 min_seconds: float = 0.1) -> None:
        super().__init__(refresh_rate=refresh_rate, process_position=process_position, leave=leave)
        self.min_seconds = min_seconds
        self._over_epochs = False
        self._last_draw = 0.0
        self._redirected = ExitStack()

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        super().setup(trainer, pl_module, stage)
        # Lightning prints through handlers of its own unless the root logger has some (then they are the app's).
        printing = [logging.getLogger(name) for name in ("lightning.pytorch", "lightning.fabric")]
        printing = [logger for logger in printing if logger.handlers]
        self._redirected.enter_context(logging_redirect_tqdm(printing, tqdm_class=Tqdm))
        self._redirected.enter_context(warnings_above_bars())

    def teardown(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        self._redirected.close()
        super().teardown(trainer, pl_module, stage)

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        super().on_train_start(trainer, pl_module)
        self._over_epochs = self.total_train_batches == 1 and trainer.max_epochs not in (None, -1)
        if self._over_epochs:
            bar = self.train_progress_bar
            bar.reset(total=trainer.max_epochs)
            bar.initial = trainer.current_epoch  # a resumed run starts where it left off
            bar.set_description("Epochs")

    def on_train_epoch_start(self, trainer: pl.Trainer, *args: Any) -> None:
        if not self._over_epochs:
            super().on_train_epoch_start(trainer, *args)

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, *args: Any) -> None:
        if not self._over_epochs:
            super().on_train_batch_end(trainer, pl_module, *args)

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not self._over_epochs:
            super().on_train_epoch_end(trainer, pl_module)
            return
        bar = self.train_progress_bar
        now = time.monotonic()
        last = trainer.current_epoch + 1 == trainer.max_epochs
        if last or now - self._last_draw >= self.min_seconds:
            bar.set_postfix(self.get_metrics(trainer, pl_module), refresh=False)
            bar.n = trainer.current_epoch + 1
            bar.refresh()
            self._last_draw = now
