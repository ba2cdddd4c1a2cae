"""ptref.callbacks.empty_hooks: Lightning passes over the per-batch and per-epoch hooks a callback inherits empty,
calls every hook a callback defines as before, trains the same weights, and gives each callback its hooks back
afterwards."""

from __future__ import annotations

import lightning.pytorch as pl
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint

from helpers import Failing, fit_tiny
from ptref.callbacks.empty_hooks import LOOP_HOOKS, SkipEmptyHooks, empty_hooks

DEFINED = ("on_train_batch_start", "on_before_backward", "on_train_epoch_end")  # the hooks Recorder defines


class Recorder(pl.Callback):
    """Defines two batch hooks and an epoch hook (records each call), inherits the others; checks what Lightning
    would call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []
        self.callable_during_fit: dict[str, bool] = {}

    def on_train_batch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch, batch_idx: int) -> None:
        self.calls.append(("on_train_batch_start", batch_idx))
        self.callable_during_fit = {name: callable(getattr(self, name)) for name in LOOP_HOOKS}

    def on_before_backward(self, trainer: pl.Trainer, pl_module: pl.LightningModule, loss: torch.Tensor) -> None:
        self.calls.append(("on_before_backward", trainer.global_step))

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.calls.append(("on_train_epoch_end", trainer.current_epoch))


def test_empty_hooks_are_the_inherited_ones_only():
    assert empty_hooks(Recorder()) == [name for name in LOOP_HOOKS
                                       if name not in DEFINED]
    assert "on_train_batch_end" not in empty_hooks(ModelCheckpoint())  # it checks its saving schedule per batch
    assert empty_hooks(pl.Callback()) == list(LOOP_HOOKS)


def test_defined_hooks_run_as_before_empty_ones_are_skipped_and_restored_after_the_fit():
    plain, levered = Recorder(), Recorder()
    (model_plain, _), (model_levered, _) = fit_tiny([plain]), fit_tiny([levered, SkipEmptyHooks()])
    assert levered.calls == plain.calls and len(plain.calls) == 2 * (2 * 4 + 1)  # 2 epochs of 4 batches: 2 hooks
    # a batch, 1 an epoch
    assert plain.callable_during_fit == dict.fromkeys(LOOP_HOOKS, True)
    assert levered.callable_during_fit == {name: name in DEFINED for name in LOOP_HOOKS}
    for name in LOOP_HOOKS:  # after the fit: no instance attribute left, each hook is the class's again
        assert name not in vars(levered) and callable(getattr(levered, name))
    for a, b in zip(model_plain.parameters(), model_levered.parameters(), strict=True):
        assert torch.equal(a, b)


def test_enabled_false_skips_nothing():
    recorder = Recorder()
    fit_tiny([recorder, SkipEmptyHooks(enabled=False)])
    assert recorder.callable_during_fit == dict.fromkeys(LOOP_HOOKS, True)


def test_a_failed_fit_gives_the_hooks_back():
    recorder = Recorder()
    with pytest.raises(RuntimeError, match="a failing step"):
        fit_tiny([recorder, SkipEmptyHooks()], model=Failing())
    assert recorder.callable_during_fit["on_train_batch_end"] is False  # it was skipped during the run
    assert not any(name in vars(recorder) for name in LOOP_HOOKS)
