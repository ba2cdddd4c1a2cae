"""``ptref port`` end to end, run in this process as a user runs it: a saved, compiled ``.keras`` model and a
``.npz`` in, ``model.py``, ``weights.pt``, ``fit.yaml`` and the parity report out; then ``ptref fit`` from that
``fit.yaml`` against Keras ``fit`` on the same batches; then a broken port, which the report must name.

The model: a small conv net with BatchNormalization and Dropout, compiled with SGD (Nesterov momentum) on a
PiecewiseConstantDecay schedule, sparse categorical cross-entropy. Dropout, explicitly: the report runs with every
Dropout at rate 0 in both models (``ptref.parity``'s rule: the frameworks draw different masks, and the report
says so); the ``ptref fit`` comparison builds the same net with rate 0, for the same reason. Tolerances: the
suite's own (``compare/tolerances.py``), applied by the report and by ``test_port_training_tf.gaps``.
"""

from __future__ import annotations

import json
from pathlib import Path

import keras
import numpy as np
import pytest
import torch

import ptref.port
from compare.test_port_training_tf import STEPS, StepLosses, gaps, ptref_fit, within
from ptref.cli import main as ptref_main
from ptref.port.training import load_module

BATCH = 32
WRITTEN = ("model.py", "weights.pt", "fit.yaml", "report.md", "report.json", "loss_curves.png", "loss_gap.png",
           "per_layer_errors.png")


def convnet(dropout: float) -> keras.Model:
    """Conv-BN-ReLU, pooling, Dropout, strided 'same' conv-BN-ReLU, Flatten, softmax Dense; compiled."""
    model = keras.Sequential([
        keras.Input((12, 12, 3)),
        keras.layers.Conv2D(6, 3, padding="same", name="conv_a"), keras.layers.BatchNormalization(name="bn_a"),
        keras.layers.ReLU(name="relu_a"), keras.layers.MaxPooling2D(2, name="pool"),
        keras.layers.Dropout(dropout, name="dropout"),
        keras.layers.Conv2D(8, 3, strides=2, padding="same", name="conv_b"),
        keras.layers.BatchNormalization(name="bn_b"), keras.layers.ReLU(name="relu_b"),
        keras.layers.Flatten(name="flatten"), keras.layers.Dense(4, activation="softmax", name="classes"),
    ], name="small_convnet")
    # small steps: larger ones make a random-label run chaotic (round-off grows tenfold every few steps)
    schedule = keras.optimizers.schedules.PiecewiseConstantDecay([20, 35], [0.01, 0.005, 0.002])
    model.compile(optimizer=keras.optimizers.SGD(schedule, momentum=0.9, nesterov=True),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def save(folder: Path, dropout: float) -> tuple[Path, Path]:
    """The model saved as ``folder/model.keras`` and STEPS * BATCH examples as ``folder/data.npz``."""
    folder.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(0)
    path = folder / "model.keras"
    convnet(dropout).save(path)
    rng = np.random.default_rng(5)
    data = folder / "data.npz"
    np.savez(data, x_train=rng.normal(size=(STEPS * BATCH, 12, 12, 3)).astype(np.float32),
             y_train=rng.integers(0, 4, STEPS * BATCH))
    return path, data


def port(model: Path, out: Path, *options: str) -> int:
    return ptref_main(["port", str(model), "--out", str(out), *options])


@pytest.fixture(scope="module")
def ported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, int]:
    """``ptref port model.keras --out DIR --data data.npz --steps 10``: (model file, DIR, exit status)."""
    root = tmp_path_factory.mktemp("port-command")
    model, data = save(root, dropout=0.25)
    out = root / "ported"
    return model, out, port(model, out, "--data", str(data), "--steps", "10")


def test_port_writes_every_file_and_its_report_passes(ported: tuple[Path, Path, int]) -> None:
    _, out, status = ported
    assert status == 0
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == sorted(WRITTEN)
    report = json.loads((out / "report.json").read_text())
    assert report["ok"] and report["verdict"] == "pass"
    assert {c["level"] for c in report["checks"]} == {"forward", "gradient", "step", "trajectory"}
    assert any("Dropout: switched off in both models" in note for note in report["notes"]), report["notes"]
    layers = next(c for c in report["checks"] if "layer by layer" in c["what"])["details"]["per_layer"]
    assert {r["keras"] for r in layers} >= {"conv_a", "bn_a", "dropout", "conv_b", "bn_b", "flatten", "classes"}
    assert "Verdict: **pass**" in (out / "report.md").read_text()


def test_generated_source_reimports_with_its_weights(ported: tuple[Path, Path, int]) -> None:
    model, out, _ = ported
    module = load_module(str(out / "model.py"))
    assert "nn.Dropout(0.25" in (out / "model.py").read_text() or "Dropout(p=0.25" in (out / "model.py").read_text()
    keras_model = keras.models.load_model(model)
    x = np.random.default_rng(1).normal(size=(8, 12, 12, 3)).astype(np.float32)
    with torch.no_grad():
        mine = module.eval()(torch.from_numpy(np.moveaxis(x, -1, 1).copy())).numpy()
    # probabilities after 4 weight layers: float32 summation-order rounding, ~1e-7 (FORWARD's reason)
    np.testing.assert_allclose(mine, np.asarray(keras_model(x, training=False)), rtol=1e-5, atol=1e-5)


def test_fit_yaml_from_port_trains_as_keras_fit_batch_norm_statistics_too(tmp_path: Path) -> None:
    """``ptref port`` then ``ptref fit --config DIR/fit.yaml`` (shuffle off, as Keras fit(shuffle=False)), 50 steps,
    against Keras ``fit`` of the saved model on the same batches; Dropout at rate 0 in both (module docstring)."""
    model_path, data = save(tmp_path, dropout=0.0)
    out = tmp_path / "ported"
    assert port(model_path, out, "--data", str(data), "--steps", "2") == 0
    losses, weights = ptref_fit(out / "fit.yaml", out / "runs", "--data.shuffle", "false")
    keras_model = keras.models.load_model(model_path)
    recorder = StepLosses()
    with np.load(data) as arrays:
        keras_model.fit(arrays["x_train"], arrays["y_train"], batch_size=BATCH, epochs=1, shuffle=False, verbose=0,
                        callbacks=[recorder])
    result = gaps(keras_model, recorder.losses(), keras_model.get_weights(), losses, weights)
    print(f"ptref port + ptref fit vs Keras fit: {result}")
    assert within(result), result
    assert not np.allclose(recorder.losses()[0], recorder.losses()[-1]), "the runs must train to mean much"


def _perturb_conv_b(module: torch.nn.Module, model: keras.Model) -> torch.nn.Module:
    """The port with one element of conv_b's kernel moved by 0.1 (a weight the copy got wrong)."""
    ported = ORIGINAL_LOAD(module, model)
    with torch.no_grad():
        ported.conv_b.weight[0, 0, 0, 0] += 0.1
    return ported


ORIGINAL_LOAD = ptref.port.load_keras_weights


def _break_flatten(monkeypatch: pytest.MonkeyPatch) -> None:
    """Flatten translated as torch's (C, H, W) flatten, Keras's (H, W, C) order lost (one translation broken)."""
    flatten = ptref.port.table.TRANSLATORS["Flatten"]
    monkeypatch.setitem(ptref.port.table.TRANSLATORS, "Flatten", lambda site: flatten(site).__class__(
        [ptref.port.layers.Module(site.node.name, "nn.Flatten()")], "channels_first"))


@pytest.mark.parametrize(("broken", "layer"), [("weight", "conv_b"), ("translation", "flatten")])
def test_teeth_a_broken_port_fails_the_report_naming_the_layer(
    broken: str, layer: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    model, data = save(tmp_path, dropout=0.25)
    if broken == "weight":
        monkeypatch.setattr(ptref.port, "load_keras_weights", _perturb_conv_b)
    else:
        _break_flatten(monkeypatch)
    status = port(model, tmp_path / "ported", "--data", str(data), "--steps", "2")
    lines = capsys.readouterr().out.splitlines()
    verdict = [line for line in lines if line.startswith("parity FAIL")]
    assert status == 1
    assert len(verdict) == 1 and f"at the forward level, {layer} ↔" in verdict[0], lines
    report = json.loads((tmp_path / "ported" / "report.json").read_text())
    assert not report["ok"]


def test_channels_last_port_trains_from_its_fit_yaml(tmp_path: Path) -> None:
    """``--layout channels_last``: the module takes Keras's (N, H, W, C) and fit.yaml feeds it so."""
    model, data = save(tmp_path, dropout=0.0)
    out = tmp_path / "ported"
    assert port(model, out, "--data", str(data), "--layout", "channels_last", "--steps", "2") == 0
    losses, _ = ptref_fit(out / "fit.yaml", out / "runs", "--trainer.max_steps", "3")
    assert len(losses) == 3 and np.isfinite(losses).all()


def test_without_data_the_report_runs_on_random_data_and_fit_yaml_says_where_data_goes(tmp_path: Path) -> None:
    model, _ = save(tmp_path, dropout=0.25)
    out = tmp_path / "ported"
    assert port(model, out, "--steps", "2", "--seed", "3") == 0
    assert "random inputs (seed 3)" in (out / "report.md").read_text()
    assert f"numpy.savez to {(out / 'data.npz').resolve()}" in (out / "fit.yaml").read_text()


@pytest.mark.parametrize("case", ["missing", "not a model", "unsupported layer"])
def test_bad_input_is_one_line_exit_1(case: str, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "model.keras"
    expected = {"missing": "no such file", "not a model": "not a Keras model",
                "unsupported layer": "'noisy' (GaussianNoise"}[case]
    if case == "not a model":
        path.write_text("not a zip archive")
    elif case == "unsupported layer":
        inputs = keras.Input((4,))
        model = keras.Model(inputs, keras.layers.GaussianNoise(0.1, name="noisy")(keras.layers.Dense(3)(inputs)))
        model.compile("adam", "mse")
        model.save(path)
    assert port(path, tmp_path / "out") == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith("ptref: ") and "\n" not in error and expected in error, error


@pytest.mark.parametrize("name", ["text_cnn", "bidirectional_lstm", "sequence_layers"])
def test_sequence_models_port_with_a_passing_report(name: str, tmp_path: Path) -> None:
    """Embeddings (sparse Keras gradients), recurrent cells and Bidirectional (weights nested in the layer),
    Normalization (a 0-d count) through the whole report. SGD: its step is linear in the gradient, so Keras's
    per-occurrence Embedding update equals the summed one (Adam's is not: docs/port.md)."""
    from compare.port_models import ZOO

    model, _ = ZOO[name]()
    model.compile(keras.optimizers.SGD(0.01), "mse")
    model.save(tmp_path / "model.keras")
    assert port(tmp_path / "model.keras", tmp_path / "ported", "--steps", "2", "--batch-size", "8") == 0
    assert json.loads((tmp_path / "ported" / "report.json").read_text())["ok"]
