"""A Keras model's compile() setup, ported: ``ptref fit`` from the generated YAML trains as Keras ``fit`` does.

Keras: ``model.compile(<non-default setup>)`` + ``model.fit(x, y, batch_size=32, shuffle=False)`` for 50 steps.
ptref: :func:`ptref.port.config.write_fit_config` writes ``fit.yaml`` for the same model, its torch module in
``model.py`` (``load_model()``) with Keras's initial weights, the same arrays in a ``.npz``; ``ptref fit`` (the CLI,
in-process) trains it. Compared: the loss of every step, the final weights and BatchNormalization's moving
statistics, within the suite's trajectory tolerances. Teeth: the same YAML with one translated option dropped
(clipnorm, label smoothing, Nesterov momentum, weight decay) must fail the comparison.

The torch module is the port itself: ``ptref.port.write_source`` writes ``model.py`` (readable source) and
``weights.pt`` (Keras's initial weights), :func:`write_torch_module`. Dropout: the CNN carries a ``Dropout`` layer
at rate 0 for these comparisons (Keras and torch draw different masks, so a nonzero rate cannot train the same);
``compare/test_port_graph_tf.py`` checks that a nonzero rate is ported and active in training mode.
"""

from __future__ import annotations

import csv
import functools
import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pytest
import torch
import yaml

from compare.tolerances import TRAJECTORY_LOSS, TRAJECTORY_WEIGHTS
from ptref.cli import main as ptref_main
from ptref.port import write_source
from ptref.port.config import write_fit_config

STEPS, BATCH = 50, 32


def mlp() -> keras.Model:
    """Dense MLP; Adam on an ExponentialDecay schedule with clipnorm, categorical CE with label smoothing."""
    model = keras.Sequential([keras.Input((20,)), keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(16, activation="relu"), keras.layers.Dense(5, activation="softmax")])
    schedule = keras.optimizers.schedules.ExponentialDecay(0.02, decay_steps=10, decay_rate=0.5)
    model.compile(optimizer=keras.optimizers.Adam(schedule, clipnorm=0.05),
                  loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.2), metrics=["accuracy"])
    return model


def cnn() -> keras.Model:
    """Small conv net with BatchNormalization and Dropout (rate 0: see the module docstring); SGD with Nesterov
    momentum and weight decay, sparse CE."""
    model = keras.Sequential([
        keras.Input((10, 10, 3)),
        keras.layers.Conv2D(6, 3, padding="same"), keras.layers.BatchNormalization(), keras.layers.ReLU(),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(8, 3), keras.layers.BatchNormalization(), keras.layers.ReLU(),
        keras.layers.Flatten(), keras.layers.Dropout(0.0), keras.layers.Dense(4, activation="softmax"),
    ])
    # lr 0.01: at 0.05 with momentum 0.9 this random-label run is chaotic, float32 round-off (1e-7 at step 0)
    # grows tenfold every ~5 steps after step 30 in any two implementations, past any trajectory tolerance
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9, nesterov=True, weight_decay=0.05),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


MODELS: dict[str, Callable[[], keras.Model]] = {"mlp": mlp, "cnn": cnn}


def data(name: str) -> tuple[np.ndarray, np.ndarray]:
    """STEPS * BATCH examples in Keras's layout: one-hot targets for the MLP, class indices for the CNN."""
    rng = np.random.default_rng(7)
    if name == "mlp":
        return rng.normal(size=(STEPS * BATCH, 20)).astype(np.float32), np.eye(5, dtype=np.float32)[
            rng.integers(0, 5, STEPS * BATCH)]
    return rng.normal(size=(STEPS * BATCH, 10, 10, 3)).astype(np.float32), rng.integers(0, 4, STEPS * BATCH)


def load_source(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(f"port_test_{path.parent.name}", path)
    source = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(source)
    return source


def write_torch_module(name: str, keras_model: keras.Model, folder: Path) -> Path:
    """``folder/model.py`` whose ``load_model()`` returns the port of ``keras_model`` with its current weights."""
    return write_source(keras_model, folder)


class StepLosses(keras.callbacks.Callback):
    """Each step's loss: Keras logs the epoch's running mean m_k, so loss_k = (k+1) m_k - k m_{k-1}."""

    def __init__(self) -> None:
        super().__init__()
        self.means: list[float] = []

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        self.means.append(float(logs["loss"]))

    def losses(self) -> np.ndarray:
        means = np.array(self.means, np.float64)
        totals = means * np.arange(1, len(means) + 1)
        return np.diff(totals, prepend=0.0)


@functools.cache
def keras_run(name: str, root: Path) -> tuple[Path, np.ndarray, list[np.ndarray]]:
    """The port folder (model.py, weights, data.npz, fit.yaml) and Keras fit's step losses and final weights."""
    keras.utils.set_random_seed(0)
    model = MODELS[name]()
    folder = root / name
    folder.mkdir(parents=True)
    x, y = data(name)
    np.savez(folder / "data.npz", x_train=x, y_train=y)
    write_torch_module(name, model, folder)
    write_fit_config(model, folder, folder / "data.npz", epochs=1, batch_size=BATCH, shuffle=False, seed=0)
    recorder = StepLosses()
    model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=False, verbose=0, callbacks=[recorder])
    return folder, recorder.losses(), model.get_weights()


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("port-train")


def ptref_fit(config: Path, runs: Path, *options: str) -> tuple[np.ndarray, list[np.ndarray]]:
    """``ptref fit --config config [options]`` in this process: its step losses (metrics.csv) and final weights
    (last.ckpt) in Keras's ``get_weights()`` order (the port's ``keras_map()``), moving statistics included."""
    status = ptref_main(["fit", "--config", str(config), "--trainer.default_root_dir", str(runs),
                         "--trainer.log_every_n_steps", "1", "--trainer.enable_progress_bar", "false",
                         "--trainer.accelerator", "cpu", *options])
    assert status is None, f"ptref fit --config {config} failed with status {status}"
    (run,) = runs.glob("version_*")
    with open(run / "metrics.csv") as file:
        losses = [float(row["train_loss_step"]) for row in csv.DictReader(file) if row.get("train_loss_step")]
    state = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True)["state_dict"]
    module = load_source(config.parent / "model.py").load_model()
    module.load_state_dict({key.removeprefix("module."): value for key, value in state.items()})
    tensors = module.state_dict()
    return np.array(losses), [link.to_keras(tensors[link.torch].numpy()) for link in module.keras_map().weights]


def gaps(keras_model: keras.Model, keras_losses: np.ndarray, keras_weights: list[np.ndarray], losses: np.ndarray,
         weights: list[np.ndarray]) -> dict[str, float]:
    """Max loss gap (TRAJECTORY_LOSS's metric), max weight and max moving-statistics difference (absolute)."""
    name = keras_model.name
    assert len(losses) == len(keras_losses) == STEPS, f"{name}: {len(losses)} ptref steps, {len(keras_losses)} Keras"
    moving = _moving_indices(keras_model, keras_weights)
    diffs = [float(np.max(np.abs(a - b))) for a, b in zip(weights, keras_weights)]
    return {"loss": float(TRAJECTORY_LOSS.gap(losses, keras_losses).max()),
            "weights": max(d for i, d in enumerate(diffs) if i not in moving),
            "moving": max((d for i, d in enumerate(diffs) if i in moving), default=0.0)}


def _moving_indices(keras_model: keras.Model, keras_weights: list[np.ndarray]) -> set[int]:
    """Positions of BatchNormalization's moving_mean/moving_variance in ``get_weights()``."""
    indices, position = set(), 0
    for layer in keras_model.layers:
        count = len(layer.get_weights())
        if isinstance(layer, keras.layers.BatchNormalization):
            indices |= {position + 2, position + 3}
        position += count
    assert position == len(keras_weights)
    return indices


def within(result: dict[str, float]) -> bool:
    return (result["loss"] <= TRAJECTORY_LOSS.value and result["weights"] <= TRAJECTORY_WEIGHTS.value
            and result["moving"] <= TRAJECTORY_WEIGHTS.value)


@pytest.mark.parametrize("name", ["mlp", "cnn"])
def test_ptref_fit_from_generated_yaml_trains_as_keras_fit(name: str, root: Path) -> None:
    folder, keras_losses, keras_weights = keras_run(name, root)
    losses, weights = ptref_fit(folder / "fit.yaml", folder / "runs")
    result = gaps(MODELS[name](), keras_losses, keras_weights, losses, weights)
    print(f"{name}: {result}")
    assert within(result), (
        f"{name}: loss gap {result['loss']:.2e} (tolerance {TRAJECTORY_LOSS.value}), weights {result['weights']:.2e} "
        f"and moving statistics {result['moving']:.2e} (tolerance {TRAJECTORY_WEIGHTS.value})")
    assert not np.allclose(keras_losses[0], keras_losses[-1]), "the runs must train for the comparison to mean much"


@pytest.mark.parametrize(("name", "option", "value"), [
    ("mlp", "optimizer.config.clipnorm", None),
    ("mlp", "loss.config.label_smoothing", 0.0),
    ("mlp", "optimizer.config.learning_rate.config.decay_rate", 1.0),
    ("cnn", "optimizer.config.nesterov", False),
    ("cnn", "optimizer.config.weight_decay", None),
])
def test_a_dropped_compile_option_fails_the_comparison(name: str, option: str, value: Any, root: Path) -> None:
    folder, keras_losses, keras_weights = keras_run(name, root)
    config = yaml.safe_load((folder / "fit.yaml").read_text())
    *path, key = option.split(".")
    target = config["model"]["init_args"]
    for part in path:
        target = target[part]
    assert target[key] != value, f"{option} is already {value!r}: the test would prove nothing"
    target[key] = value
    broken = folder / f"broken-{key}.yaml"
    broken.write_text(yaml.safe_dump(config))
    losses, weights = ptref_fit(broken, folder / f"runs-{key}")
    result = gaps(MODELS[name](), keras_losses, keras_weights, losses, weights)
    print(f"{name} without {option}: {result}")
    assert not within(result), f"{name}: dropping {option} still passed the comparison: {result}"


def _metric_cases() -> list[tuple[str, Any, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(3)
    probs = rng.dirichlet(np.ones(5), 64).astype(np.float32)
    labels = rng.integers(0, 5, 64)
    sigmoid = rng.uniform(size=(64, 1)).astype(np.float32)
    binary = rng.integers(0, 2, (64, 1)).astype(np.float32)
    one_hot = np.eye(5, dtype=np.float32)[labels]
    return [
        ("accuracy, output of 1: binary", "accuracy", binary, sigmoid),
        ("accuracy, class indices: sparse", "accuracy", labels, probs),
        ("acc, indices [N, 1]: sparse", "acc", labels[:, None], probs),
        ("accuracy, one-hot: categorical", "accuracy", one_hot, probs),
        ("BinaryAccuracy(threshold=0.3)", keras.metrics.BinaryAccuracy(threshold=0.3), binary, sigmoid),
        ("TopKCategoricalAccuracy(k=2)", keras.metrics.TopKCategoricalAccuracy(k=2), one_hot, probs),
        ("SparseTopKCategoricalAccuracy(k=3)", keras.metrics.SparseTopKCategoricalAccuracy(k=3), labels, probs),
        ("Precision()", keras.metrics.Precision(), binary, sigmoid),
        ("Recall(thresholds=0.4)", keras.metrics.Recall(thresholds=0.4), binary, sigmoid),
        ("RootMeanSquaredError()", keras.metrics.RootMeanSquaredError(), one_hot, probs),
        ("mae", "mae", one_hot, probs),
        ("MeanSquaredError()", keras.metrics.MeanSquaredError(), one_hot, probs),
        ("categorical_crossentropy", "categorical_crossentropy", one_hot, probs),
        ("CategoricalCrossentropy(label_smoothing)", keras.metrics.CategoricalCrossentropy(label_smoothing=0.1),
         one_hot, probs),
    ]


@pytest.mark.parametrize(("what", "identifier", "y_true", "y_pred"), _metric_cases(), ids=lambda v: v
                         if isinstance(v, str) else "")
def test_metrics_resolve_and_compute_as_keras(what: str, identifier: Any, y_true: np.ndarray, y_pred: np.ndarray
                                              ) -> None:
    """Keras's own resolution (``compile_utils.get_metric``) and value vs ``keras_metric`` over two batches."""
    from keras.src.trainers.compile_utils import get_metric

    from ptref.port.training import keras_metric

    expected_metric = get_metric(identifier, y_true, y_pred)
    serialized = identifier if isinstance(identifier, str) else keras.metrics.serialize(identifier)
    name, metric = keras_metric(serialized, torch.from_numpy(y_true), torch.from_numpy(y_pred))
    for half in (slice(0, 32), slice(32, 64)):
        expected_metric.update_state(y_true[half], y_pred[half])
        metric.update(torch.from_numpy(y_true[half]), torch.from_numpy(y_pred[half]))
    # float32 means of 64 per-sample values computed in a different order: a few ulps; counts are exact
    np.testing.assert_allclose(float(metric.metric.compute()), float(expected_metric.result()), rtol=1e-5, atol=1e-6)
    assert name == expected_metric.name


def test_unsupported_compile_options_are_refused_in_one_line_naming_them(tmp_path: Path) -> None:
    inputs = keras.Input((4,))
    model = keras.Model(inputs, [keras.layers.Dense(2)(inputs), keras.layers.Dense(1)(inputs)])
    model.compile("adam", loss=["mse", "mae"], weighted_metrics=["mae"])
    with pytest.raises(ValueError, match=r"loss=\['mse', 'mae'\] \(one loss per output\); weighted_metrics") as error:
        write_fit_config(model, tmp_path, tmp_path / "data.npz")
    assert "\n" not in str(error.value)
    single = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
    single.compile("adam", loss="binary_crossentropy", metrics=[keras.metrics.AUC()])
    with pytest.raises(ValueError, match=r"compile metric 'auc\w*' \(AUC\) has no torchmetrics counterpart"):
        write_fit_config(single, tmp_path, tmp_path / "data.npz")
    single.compile("adam", loss="binary_crossentropy", metrics=[keras.metrics.Precision(top_k=2)])
    with pytest.raises(ValueError, match=r"compile metric 'precision\w*' \(Precision\): only one threshold"):
        write_fit_config(single, tmp_path, tmp_path / "data.npz")
