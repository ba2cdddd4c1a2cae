"""Let Lightning skip the per-batch and per-epoch callback hooks that do nothing.

Lightning calls every per-batch hook (``on_train_batch_start``, ``on_before_backward``, …) of every callback on
every step, and every per-epoch hook (``on_train_epoch_start``, …) every epoch, whether the callback overrides it
or inherits :class:`~lightning.pytorch.Callback`'s empty one. Each call opens a profiler context, formats the
callback's ``state_key`` (``ModelCheckpoint`` builds a ``repr`` of its options) and calls the empty method: with
``ptref fit``'s dozen callbacks and six hooks a step that is ~70 calls doing nothing per step, a visible share
of a tiny model's step; a full-batch fit (one step an epoch) pays as much again for the epoch hooks.

Lightning's own dispatch (``trainer/call.py``) calls a hook only when ``callable(getattr(callback, name))``.
:class:`SkipEmptyHooks` sets the hooks a callback inherits unchanged to ``None`` on that callback instance while
the Trainer runs, so the dispatch passes them over; hooks a callback defines run as before, in the same order.
It removes those attributes again at ``teardown`` (or when the run fails), so each callback is as it was.

TF: tf.keras 2's ``CallbackList`` did the same at construction: it asked each callback whether it overrides the
batch hooks (``_implements_train_batch_hooks``) and skipped the batch-level calls when none did. Keras 3 calls
each callback's hook, as a plain method call (no profiler context, no key formatting).
"""

from __future__ import annotations

import lightning.pytorch as pl

LOOP_HOOKS = (  # the hooks Lightning calls once (or more) per batch, then those it calls once per epoch
    "on_train_batch_start",
    "on_train_batch_end",
    "on_before_backward",
    "on_after_backward",
    "on_before_optimizer_step",
    "on_before_zero_grad",
    "on_validation_batch_start",
    "on_validation_batch_end",
    "on_test_batch_start",
    "on_test_batch_end",
    "on_predict_batch_start",
    "on_predict_batch_end",
    "on_train_epoch_start",
    "on_train_epoch_end",
    "on_validation_start",
    "on_validation_end",
    "on_validation_epoch_start",
    "on_validation_epoch_end",
    "on_test_epoch_start",
    "on_test_epoch_end",
    "on_predict_epoch_start",
    "on_predict_epoch_end",
)


def empty_hooks(callback: pl.Callback) -> list[str]:
    """The per-batch and per-epoch hooks ``callback`` inherits unchanged from :class:`~lightning.pytorch.Callback`."""
    return [
        name for name in LOOP_HOOKS
        if name not in vars(callback) and getattr(type(callback), name, None) is getattr(pl.Callback, name)
    ]


class SkipEmptyHooks(pl.Callback):
    """While the Trainer runs, Lightning skips each callback's empty per-batch and per-epoch hooks
    (:func:`empty_hooks`).

    The hooks a callback overrides run unchanged; so does every hook of the LightningModule.

    Args:
        enabled: ``false`` leaves every hook call in place.
    """

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._skipped: list[tuple[pl.Callback, str]] = []

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if not self.enabled or self._skipped:
            return
        for callback in trainer.callbacks:
            for name in empty_hooks(callback):
                setattr(callback, name, None)  # Lightning's dispatch: `if callable(fn)`
                self._skipped.append((callback, name))

    def teardown(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        for callback, name in self._skipped:
            vars(callback).pop(name, None)
        self._skipped = []

    def on_exception(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException
    ) -> None:
        # A failed run reaches `on_exception` but not `teardown`: give the callbacks their hooks back here too.
        self.teardown(trainer, pl_module, "exception")
