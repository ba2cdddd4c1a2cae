"""The loggers every ``ptref fit`` writes with: Lightning's CSV and TensorBoard loggers, saved at most once a second.

TensorFlow twin: ``tf.keras.callbacks.CSVLogger`` + ``tf.keras.callbacks.TensorBoard`` (whose event writer
flushes every 120 s by default).

Lightning calls ``logger.save()`` after every ``log_metrics`` call, so the CSV file is appended to and the
TensorBoard event file flushed once per epoch at least. For the course's full-batch house-price fit (500
epochs of one 0.2 ms step) that was ~0.9 ms per epoch, more than everything else Lightning does
(``ptref bench``). Here ``save()`` writes at most every ``save_interval`` seconds; ``finalize`` (called by
Lightning at the end of fit/validate/test, also after an exception or a SIGTERM) always writes everything.
A ``kill -9`` can cost the last ``save_interval`` seconds of metric rows, never a checkpoint.
"""

from __future__ import annotations

import time

from lightning.pytorch.loggers import CSVLogger as LightningCSVLogger
from lightning.pytorch.loggers import TensorBoardLogger as LightningTensorBoardLogger


class _SavesAtMostEvery:
    """Mixin: ``save()`` at most every ``save_interval`` seconds; ``finalize()`` always saves."""

    save_interval: float = 1.0
    _last_save: float = float("-inf")

    def save(self) -> None:
        now = time.monotonic()
        if now - self._last_save >= self.save_interval:
            self._last_save = now
            super().save()  # type: ignore[misc]

    def finalize(self, status: str) -> None:
        self._last_save = float("-inf")  # the final save is never skipped
        super().finalize(status)  # type: ignore[misc]


class CSVLogger(_SavesAtMostEvery, LightningCSVLogger):
    """``lightning.pytorch.loggers.CSVLogger`` (same arguments) that writes ``metrics.csv`` at most once a second."""


class TensorBoardLogger(_SavesAtMostEvery, LightningTensorBoardLogger):
    """``lightning.pytorch.loggers.TensorBoardLogger`` (same arguments) that flushes at most once a second."""
