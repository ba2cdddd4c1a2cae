"""ptref's ModelCheckpoint: saving every N epochs never leaves last.ckpt behind the end of training."""

from __future__ import annotations

import lightning.pytorch as pl
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint as LightningModelCheckpoint

from ptref.callbacks.checkpoint import ModelCheckpoint
from ptref.data import HousePriceDataModule
from ptref.models import LinearRegression


def fit(tmp_path, checkpoint: pl.Callback, epochs: int) -> dict:
    pl.seed_everything(0)
    trainer = pl.Trainer(max_epochs=epochs, default_root_dir=tmp_path, logger=False, enable_progress_bar=False,
                         enable_model_summary=False, callbacks=[checkpoint])
    trainer.fit(LinearRegression(n_features=2), HousePriceDataModule())
    return torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)


def test_last_checkpoint_holds_the_final_epoch_between_two_saves(tmp_path):
    last = fit(tmp_path, ModelCheckpoint(dirpath=tmp_path / "checkpoints", save_last=True, every_n_epochs=5), 7)
    assert last["global_step"] == 7  # all 7 full-batch steps, not the 5 of the last periodic save


def test_lightnings_own_checkpoint_would_stop_at_the_last_multiple(tmp_path):
    # The reason for the subclass; if Lightning ever saves the final state itself, this test says so.
    checkpoint = LightningModelCheckpoint(dirpath=tmp_path / "checkpoints", save_last=True, every_n_epochs=5)
    last = fit(tmp_path, checkpoint, 7)
    assert last["global_step"] == 5


def test_no_extra_save_when_the_end_is_a_multiple(tmp_path):
    checkpoint = ModelCheckpoint(dirpath=tmp_path / "checkpoints", save_last=True, every_n_epochs=5)
    last = fit(tmp_path, checkpoint, 10)
    assert last["global_step"] == 10
    assert sorted(path.name for path in (tmp_path / "checkpoints").iterdir()) == ["epoch=9-step=10.ckpt", "last.ckpt"]


class CountedCandidates:
    """Counts ``_monitor_candidates`` calls (the deep copy of every logged metric)."""

    calls = 0

    def _monitor_candidates(self, trainer):
        type(self).calls += 1
        return super()._monitor_candidates(trainer)


@pytest.mark.parametrize(
    "options",
    [{"every_n_epochs": 3}, {"every_n_train_steps": 2}, {"every_n_epochs": 3, "save_last": "link"},
     {"every_n_epochs": 1, "save_top_k": 2, "monitor": "train_loss"}, {"every_n_epochs": 0}],
    ids=["every 3 epochs", "every 2 steps", "save_last link", "top 2 by loss", "never by epoch"],
)
def test_same_files_as_lightnings_checkpoint_without_its_copies_between_saves(tmp_path, options):
    ours = type("Ours", (CountedCandidates, ModelCheckpoint), {"calls": 0})
    theirs = type("Theirs", (CountedCandidates, LightningModelCheckpoint), {"calls": 0})
    options = {"save_last": True, **options}
    for checkpoint_class in (ours, theirs):
        folder = tmp_path / checkpoint_class.__name__
        fit(folder, checkpoint_class(dirpath=folder / "checkpoints", **options), 9)  # 9: a multiple of 3
    names = {cls: sorted(path.name for path in (tmp_path / cls.__name__ / "checkpoints").iterdir())
             for cls in (ours, theirs)}
    assert names[ours] == names[theirs]
    assert ours.calls <= theirs.calls
    if options.get("every_n_epochs") == 3 and options["save_last"] is True:
        assert (ours.calls, theirs.calls) == (3, 9)  # the 3 saving epochs only, vs every epoch
