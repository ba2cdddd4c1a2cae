"""Lightning's ``ModelCheckpoint``, plus: ``last.ckpt`` always holds the state training ended with.

TensorFlow twin: ``tf.keras.callbacks.ModelCheckpoint(save_freq=...)`` / ``tf.train.CheckpointManager``.

Checkpointing every epoch costs ~2 ms per save on this machine, more than a whole house-price step (a
full-batch step on 47 rows is ~0.2 ms). Saving every ``N`` epochs instead keeps what a kill can lose to
``N`` epochs, but Lightning's ``ModelCheckpoint`` then leaves the epochs after the last multiple of ``N``
out of ``last.ckpt`` (``--trainer.max_epochs 120`` with ``every_n_epochs: 100`` ends with a ``last.ckpt``
of epoch 100, and ``ptref predict --ckpt_path .../last.ckpt`` would silently use it). This subclass writes
``last.ckpt`` once more when ``fit`` ends between two saves. A run that stops on an exception (e.g.
:class:`~ptref.callbacks.divergence.DivergenceGuard`) keeps its last good checkpoint untouched.

Lightning's ``on_train_epoch_end`` deep-copies every logged metric (the names a checkpoint file may carry) before
it looks at whether the epoch saves at all; this subclass asks first, so the epochs between two saves cost
nothing. Which files are written, when, and what they hold stays Lightning's (``tests/test_checkpoint.py``).
"""

from __future__ import annotations

import lightning.pytorch as pl
from lightning.pytorch.callbacks import ModelCheckpoint as LightningModelCheckpoint


class ModelCheckpoint(LightningModelCheckpoint):
    """``lightning.pytorch.callbacks.ModelCheckpoint`` (same arguments) whose ``last.ckpt`` is the final state."""

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        # The two conditions under which Lightning's own method saves anything (Lightning 2.x, private state).
        periodic = self._every_n_epochs >= 1 and (trainer.current_epoch + 1) % self._every_n_epochs == 0
        last = self._last_global_step_saved == trainer.global_step or (
            self.save_last == "link" and getattr(self, "_last_checkpoint_saved", True))  # unknown: let it decide
        if periodic or last:
            super().on_train_epoch_end(trainer, pl_module)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        # Lightning keeps the step of its latest save in `_last_global_step_saved` (private, Lightning 2.x);
        # tests/test_checkpoint.py fails if that changes.
        if self.save_last and trainer.global_step != self._last_global_step_saved:
            self._save_last_checkpoint(trainer, self._monitor_candidates(trainer))
        super().on_train_end(trainer, pl_module)
