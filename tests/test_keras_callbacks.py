"""ptref.callbacks.keras in Lightning runs: resumed runs decide as uninterrupted ones, optimizers, YAML/CLI use.

(Their decisions against Keras itself: compare/test_callbacks_tf.py.)
"""

from __future__ import annotations

import csv
from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import pytest
from lightning.pytorch.callbacks import EarlyStopping as LightningEarlyStopping

import ptref.optim as optim
from ptref.callbacks import keras as K
from ptref.cli import main
from ptref.optim import schedules
from scripted_logs import LearningRateRecorder, ScriptedLogs, fit, float32_values

REPO = Path(__file__).resolve().parents[1]
# Plateaus with tiny steps: at epochs 10 and 16 the counters are mid-way (a fresh best would take the next
# value); EarlyStopping stops at epoch 21 of 24.
CURVE = float32_values([1.0, 0.9, 0.9, 0.89995, 0.8998, 0.8998, 0.8998, 0.8998, 0.85, 0.85, 0.85, 0.8499, 0.8499,
                        0.84, 0.84, 0.84, 0.84, 0.84, 0.84, 0.84, 0.84, 0.84, 0.84, 0.84])


def keras_callbacks() -> list[pl.Callback]:
    return [K.LearningRateScheduler(lambda epoch, lr: lr * 0.99),
            K.ReduceLROnPlateau(factor=0.5, patience=2, cooldown=2, min_delta=1e-4),
            K.EarlyStopping(patience=8, min_delta=1e-3, restore_best_weights=True, baseline=0.95)]


@pytest.mark.parametrize("cut", [10, 16])
def test_a_run_resumed_mid_plateau_takes_the_decisions_of_an_uninterrupted_one(cut, tmp_path):
    logs = {"val_loss": CURVE}
    whole = LearningRateRecorder()
    uninterrupted = ScriptedLogs(logs)
    fit(uninterrupted, [*keras_callbacks(), whole], str(tmp_path / "a"), epochs=len(CURVE))

    first = LearningRateRecorder()
    trainer = fit(ScriptedLogs(logs), [*keras_callbacks(), first], str(tmp_path / "b"), epochs=cut)
    trainer.save_checkpoint(tmp_path / "cut.ckpt")
    second = LearningRateRecorder()
    resumed = ScriptedLogs(logs)
    fit(resumed, [*keras_callbacks(), second], str(tmp_path / "b"), epochs=len(CURVE), ckpt_path=tmp_path / "cut.ckpt")

    assert first.lrs + second.lrs == whole.lrs
    assert len(set(whole.lrs)) > 2, "the curve should make ReduceLROnPlateau reduce"
    assert len(whole.lrs) < len(CURVE), "the curve should make EarlyStopping stop"
    assert float(resumed.w.detach()) == float(uninterrupted.w.detach())  # the same restored best epoch


class SaveMidEpoch(pl.Callback):
    """Saves a checkpoint after batch 1 of epoch 2, as a pre-empted run does (ptref's SIGTERM handler)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if (trainer.current_epoch, batch_idx) == (2, 1):
            trainer.save_checkpoint(self.path)


def test_a_run_resumed_mid_epoch_applies_that_epochs_schedule_once(tmp_path):
    logs = {"val_loss": CURVE[:5]}
    whole = LearningRateRecorder()
    path = tmp_path / "mid.ckpt"
    fit(ScriptedLogs(logs, batches=4), [K.LearningRateScheduler(lambda e, lr: lr * 0.5), whole, SaveMidEpoch(path)],
        str(tmp_path), epochs=5)
    resumed = LearningRateRecorder()
    fit(ScriptedLogs(logs, batches=4), [K.LearningRateScheduler(lambda e, lr: lr * 0.5), resumed], str(tmp_path),
        epochs=5, ckpt_path=path)
    assert resumed.lrs == whole.lrs[2:]


def test_early_stopping_with_keras_defaults_decides_as_lightnings_own(tmp_path):
    """The documented mapping: without baseline/restore/start_from_epoch, Keras's rule is Lightning's."""
    for patience, min_delta in [(0, 0.0), (2, 1e-4), (4, 5e-3)]:
        stops = []
        for callback in (K.EarlyStopping(patience=patience, min_delta=min_delta),
                         LightningEarlyStopping("val_loss", min_delta, patience, check_finite=False)):
            recorder = LearningRateRecorder()
            fit(ScriptedLogs({"val_loss": CURVE}), [callback, recorder], str(tmp_path), epochs=len(CURVE))
            stops.append(len(recorder.lrs))
        assert stops[0] == stops[1], (patience, min_delta)


def test_keras_optimizers_learning_rate_is_reduced_in_their_param_groups(tmp_path):
    module = ScriptedLogs({"val_loss": float32_values([1.0, 1.0, 1.0, 1.0])})
    module.configure_optimizers = lambda: optim.Adam(module.parameters(), learning_rate=0.01)
    recorder = LearningRateRecorder()
    fit(module, [K.ReduceLROnPlateau(factor=0.5, patience=1), recorder], str(tmp_path), epochs=4)
    expected = [np.float32(0.01), np.float32(np.float32(0.01) * 0.5), np.float32(np.float32(0.005) * 0.5),
                np.float32(np.float32(0.0025) * 0.5)]
    assert [np.float32(lr) for lr in recorder.lrs] == expected


@pytest.mark.parametrize("callback", [K.ReduceLROnPlateau(patience=0), K.LearningRateScheduler(lambda e, lr: lr / 2)])
def test_an_optimizer_driven_by_a_schedule_is_refused_as_keras_does(callback, tmp_path):
    module = ScriptedLogs({"val_loss": float32_values([1.0, 1.0, 1.0])})
    decay = schedules.ExponentialDecay(0.01, decay_steps=10, decay_rate=0.5)
    module.configure_optimizers = lambda: optim.SGD(module.parameters(), learning_rate=decay)
    with pytest.raises(TypeError, match="LearningRateSchedule as its learning_rate, hence its learning rate is not"):
        fit(module, [callback], str(tmp_path), epochs=3)


def test_reduce_lr_on_plateau_refuses_a_factor_of_one():
    with pytest.raises(ValueError, match="factor >= 1.0"):
        K.ReduceLROnPlateau(factor=1.0)


def test_auto_mode_that_cannot_be_inferred_names_the_metric():
    with pytest.raises(ValueError, match="monitor='val_score'.*mode='max' or mode='min'"):
        K.EarlyStopping(monitor="val_score")


def keras_plateau_rule(values: list[float], lr: float, factor: float, patience: int, min_delta: float) -> list[float]:
    """The rate each epoch trained with, by Keras's rule (no cooldown, no min_lr), in float32 as Keras."""
    best, wait, rates = None, 0, []
    for value in values:
        rates.append(float(np.float32(lr)))
        if best is None or np.float32(value + min_delta) < np.float32(best):
            best, wait = value, 0
        else:
            wait += 1
            if wait >= patience:
                lr, wait = float(np.float32(float(np.float32(lr)) * factor)), 0
    return rates


def test_callbacks_from_the_command_line_on_the_house_price_run(house_price_csv, tmp_path):
    log = tmp_path / "keras_log.csv"
    code = main([
        "fit", "--config", str(REPO / "experiments" / "house_price.yaml"), "--data.csv_path", str(house_price_csv),
        "--data.val_fraction", "0.25", "--trainer.max_epochs", "40", "--trainer.default_root_dir", str(tmp_path),
        "--trainer.enable_progress_bar", "false",
        "--trainer.callbacks+=ptref.callbacks.keras.ReduceLROnPlateau", "--trainer.callbacks.factor=0.5",
        "--trainer.callbacks.patience=2", "--trainer.callbacks.min_delta=0.02",
        "--trainer.callbacks+=ptref.callbacks.keras.CSVLogger", f"--trainer.callbacks.filename={log}",
    ])
    assert code in (0, None)
    rows = list(csv.DictReader(log.open()))
    assert [int(row["epoch"]) for row in rows] == list(range(40))
    val_loss = [float(row["val_loss"]) for row in rows]
    rates = [float(row["learning_rate"]) for row in rows]
    assert rates == keras_plateau_rule(val_loss, 0.01, factor=0.5, patience=2, min_delta=0.02)
    assert min(rates) < 0.005, "min_delta=0.02 should make the run reduce its rate at least twice"
