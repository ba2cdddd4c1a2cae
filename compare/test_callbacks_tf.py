"""ptref.callbacks.keras beside Keras's callbacks: the same monitored values, the same decisions.

Keras's callback is driven directly (``on_epoch_begin``/``on_epoch_end(epoch, logs)`` on a tiny compiled model,
its kernel set to ``epoch + 1`` each epoch); ptref's runs in a real Lightning ``Trainer`` on a module that logs the
same values (:mod:`tests.scripted_logs`). The curves have plateaus, NaNs and steps just below, at and above
``min_delta``, all float32 numbers (what both frameworks log).

Tolerance: none. Learning rates are compared exactly as float32 (both keep the rate in float32 and compute the
new one from it with the same float64 arithmetic); stop epochs, restored weights, file names and CSV text are
compared exactly.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from ptref.callbacks import keras as ptref_callbacks
from tests.scripted_logs import LearningRateRecorder, ScriptedLogs, fit, float32_values

LR = 0.01


def plateau_curve(n: int, seed: int) -> list[float]:
    """A decreasing loss with plateaus: each step is 0, ±5e-5, 1e-4 (at min_delta), -2e-4 or -1e-2."""
    rng = np.random.default_rng(seed)
    steps = rng.choice([0.0, 0.0, 5e-5, -5e-5, -1e-4, -2e-4, -1e-2], size=n)
    return float32_values(list(1.0 + np.cumsum(steps)))


def run_keras(callbacks: list[keras.callbacks.Callback], logs: dict[str, list[float]], optimizer=None):
    """Drive Keras's callbacks as ``fit`` does; returns (lr after each epoch, epochs run, final kernel)."""
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer=optimizer or keras.optimizers.SGD(LR), loss="mse")
    for callback in callbacks:
        callback.set_model(model)
        callback.on_train_begin()
    lrs, epochs = [], len(next(iter(logs.values())))
    for epoch in range(epochs):
        for callback in callbacks:
            callback.on_epoch_begin(epoch)
        model.layers[0].kernel.assign([[epoch + 1.0]])
        epoch_logs = {name: series[epoch] for name, series in logs.items()}
        for callback in callbacks:
            callback.on_epoch_end(epoch, epoch_logs)
        lrs.append(float(model.optimizer.learning_rate))
        if model.stop_training:
            break
    for callback in callbacks:
        callback.on_train_end()
    return lrs, len(lrs), float(model.layers[0].kernel.numpy()[0, 0])


def run_ptref(callbacks, logs: dict[str, list[float]], tmp_path, **module_args):
    recorder = LearningRateRecorder()
    module = ScriptedLogs(logs, lr=LR, **module_args)
    fit(module, [*callbacks, recorder], str(tmp_path), epochs=len(next(iter(logs.values()))))
    return recorder.lrs, len(recorder.lrs), float(module.w.detach())


def as_float32(values: list[float]) -> list[np.float32]:
    return [np.float32(v) for v in values]


PLATEAU_CASES = {
    "defaults": dict(),
    "patience2-cooldown2-min_lr": dict(factor=0.5, patience=2, cooldown=2, min_lr=2e-3),
    "patience1-cooldown1-min_delta0": dict(factor=0.3, patience=1, cooldown=1, min_delta=0.0),
    "patience0-min_delta-2e-4": dict(factor=0.7, patience=0, min_delta=2e-4, min_lr=1e-3),
    "patience3-cooldown4-min_delta1e-4": dict(factor=0.5, patience=3, cooldown=4, min_delta=1e-4),
}


@pytest.mark.parametrize("case", sorted(PLATEAU_CASES))
@pytest.mark.parametrize("seed", [0, 1])
def test_reduce_lr_on_plateau_reduces_on_the_same_epochs_as_keras(case, seed, tmp_path):
    kwargs = PLATEAU_CASES[case]
    logs = {"val_loss": plateau_curve(60, seed)}
    keras_lrs, _, _ = run_keras([keras.callbacks.ReduceLROnPlateau(**kwargs)], logs)
    ours, _, _ = run_ptref([ptref_callbacks.ReduceLROnPlateau(**kwargs)], logs, tmp_path)
    assert as_float32(ours) == as_float32(keras_lrs)
    assert len(set(keras_lrs)) > 1 or case == "defaults", "the curve should make Keras reduce at least once"


def test_reduce_lr_on_plateau_max_mode_with_nan_matches_keras(tmp_path):
    accuracy = float32_values([0.5, 0.6, 0.6, float("nan"), 0.6001, 0.7, 0.7, 0.7, 0.69, 0.71, 0.71, 0.71, 0.71])
    kwargs = dict(monitor="val_acc", mode="max", factor=0.5, patience=2, min_delta=1e-3)
    keras_lrs, _, _ = run_keras([keras.callbacks.ReduceLROnPlateau(**kwargs)], {"val_acc": accuracy})
    ours, _, _ = run_ptref([ptref_callbacks.ReduceLROnPlateau(**kwargs)], {"val_acc": accuracy}, tmp_path)
    assert as_float32(ours) == as_float32(keras_lrs)


EARLY_STOPPING_CASES = {
    "defaults": dict(),
    "patience3-min_delta1e-4": dict(patience=3, min_delta=1e-4),
    "baseline": dict(patience=2, baseline=0.95),
    "restore-start_from_epoch": dict(patience=4, min_delta=5e-5, restore_best_weights=True, start_from_epoch=3),
    "restore-baseline-never-reached": dict(patience=3, baseline=0.1, restore_best_weights=True),
}


@pytest.mark.parametrize("case", sorted(EARLY_STOPPING_CASES))
@pytest.mark.parametrize("seed", [0, 2])
def test_early_stopping_stops_and_restores_as_keras(case, seed, tmp_path):
    kwargs = EARLY_STOPPING_CASES[case]
    logs = {"val_loss": plateau_curve(40, seed)}
    _, keras_epochs, keras_kernel = run_keras([keras.callbacks.EarlyStopping(**kwargs)], logs)
    _, epochs, weight = run_ptref([ptref_callbacks.EarlyStopping(**kwargs)], logs, tmp_path)
    assert (epochs, weight) == (keras_epochs, keras_kernel)


def test_learning_rate_scheduler_sets_the_rates_keras_sets(tmp_path):
    def schedule(epoch: int, lr: float) -> float:
        return lr if epoch < 3 else lr * float(np.exp(-0.1))

    def old_api(epoch: int) -> float:
        return 0.1 / (1 + epoch)

    logs = {"val_loss": plateau_curve(12, 0)}
    for fn in (schedule, old_api):
        keras_lrs, _, _ = run_keras([keras.callbacks.LearningRateScheduler(fn)], logs)
        ours, _, _ = run_ptref([ptref_callbacks.LearningRateScheduler(fn)], logs, tmp_path)
        assert as_float32(ours) == as_float32(keras_lrs), fn.__name__


def test_learning_rate_scheduler_then_plateau_matches_keras(tmp_path):
    logs = {"val_loss": plateau_curve(30, 1)}

    def keras_pair():
        return [keras.callbacks.LearningRateScheduler(lambda e, lr: lr * 0.97),
                keras.callbacks.ReduceLROnPlateau(patience=2, factor=0.5)]

    keras_lrs, _, _ = run_keras(keras_pair(), logs)
    ours, _, _ = run_ptref([ptref_callbacks.LearningRateScheduler(lambda e, lr: lr * 0.97),
                            ptref_callbacks.ReduceLROnPlateau(patience=2, factor=0.5)], logs, tmp_path)
    assert as_float32(ours) == as_float32(keras_lrs)


@pytest.mark.parametrize("raise_error", [False, True])
def test_terminate_on_nan_stops_at_the_batch_keras_stops(raise_error, tmp_path):
    batch_losses = [0.5, 0.4, 0.3, 0.2, float("inf"), 0.1, float("nan"), 0.1]
    callback = keras.callbacks.TerminateOnNaN(raise_error=raise_error)
    callback.set_model(keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)]))
    keras_error, keras_batches = None, 0
    for batch, loss in enumerate(batch_losses):
        keras_batches += 1
        try:
            callback.on_batch_end(batch, {"loss": loss})
        except RuntimeError as error:
            keras_error = str(error)
            break
        if getattr(callback.model, "stop_training", False):
            break
    module = ScriptedLogs({"loss": [0.0]}, batches=len(batch_losses), batch_losses=batch_losses)
    try:
        trainer = fit(module, [ptref_callbacks.TerminateOnNaN(raise_error=raise_error)], str(tmp_path), epochs=1)
        error, batches = None, trainer.global_step
    except RuntimeError as raised:
        error, batches = str(raised), module.global_step
    assert (error, batches) == (keras_error, keras_batches)


def test_csv_logger_writes_the_file_keras_writes(tmp_path):
    logs = {"loss": plateau_curve(8, 3), "val_loss": plateau_curve(8, 4)}
    keras_file, ours_file = tmp_path / "keras.csv", tmp_path / "ptref.csv"
    run_keras([keras.callbacks.ReduceLROnPlateau(patience=1, factor=0.5), keras.callbacks.CSVLogger(str(keras_file))],
              logs)
    run_ptref([ptref_callbacks.ReduceLROnPlateau(patience=1, factor=0.5),
               ptref_callbacks.CSVLogger(str(ours_file))], logs, tmp_path)
    assert ours_file.read_text() == keras_file.read_text()


def test_csv_logger_without_val_metrics_adds_na_columns_as_keras(tmp_path):
    logs = {"loss": plateau_curve(4, 5)}
    keras_file, ours_file = tmp_path / "keras.csv", tmp_path / "ptref.csv"
    run_keras([keras.callbacks.CSVLogger(str(keras_file), separator=";")], logs)
    run_ptref([ptref_callbacks.CSVLogger(str(ours_file), separator=";")], logs, tmp_path)
    assert ours_file.read_text() == keras_file.read_text()


@pytest.mark.parametrize("save_best_only, threshold", [(True, None), (True, 0.999), (False, None)])
def test_model_checkpoint_saves_the_epochs_and_names_keras_saves(save_best_only, threshold, tmp_path):
    logs = {"val_loss": plateau_curve(15, 6)}
    template = "{epoch:02d}-{val_loss:.5f}"
    (tmp_path / "keras").mkdir()
    keras_callback = keras.callbacks.ModelCheckpoint(
        str(tmp_path / "keras" / (template + ".weights.h5")), save_best_only=save_best_only,
        save_weights_only=True, initial_value_threshold=threshold,
    )
    run_keras([keras_callback], logs)
    ours = ptref_callbacks.ModelCheckpoint(
        str(tmp_path / "ptref" / (template + ".ckpt")), save_best_only=save_best_only, save_weights_only=True,
        initial_value_threshold=threshold,
    )
    run_ptref([ours], logs, tmp_path)
    keras_names = sorted(p.name.removesuffix(".weights.h5") for p in (tmp_path / "keras").iterdir())
    ptref_names = sorted(p.name.removesuffix(".ckpt") for p in (tmp_path / "ptref").iterdir())
    assert ptref_names == keras_names
    assert 1 < len(keras_names) < 15 or not save_best_only
