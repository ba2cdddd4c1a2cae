"""ptref's ModelCheckpoint: saving every N epochs never leaves last.ckpt behind the end of training."""

from __future__ import annotations

import lightning.pytorch as pl
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
