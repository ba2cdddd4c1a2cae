"""``ptref.parity`` on small Keras models and hand-written torch twins: a correct port passes every level, a port
broken in one layer fails naming that layer, and ``ptref compare`` writes the report end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from ptref import parity
from ptref.parity.tf import import_keras, onednn_state

keras = import_keras()
REPO = Path(__file__).resolve().parent.parent

TWIN = '''
import torch
from torch import nn

from ptref.nn import BatchNormalization


def load_model(epsilon: float = 1e-3) -> nn.Module:
    """The torch twin of keras_model(): NCHW, Keras's BatchNormalization, logits (Keras applies softmax)."""
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(2, 4, 3), nn.ReLU(),
        nn.Conv2d(4, 6, 3, bias=False), BatchNormalization(6, epsilon=epsilon), nn.ReLU(),
        nn.Flatten(), nn.Dropout(0.25), nn.Linear(6 * 4 * 4, 5),
    )


def wrong_epsilon() -> nn.Module:
    return load_model(epsilon=1e-5)
'''


def keras_model() -> keras.Model:
    keras.utils.set_random_seed(0)
    layers = keras.layers
    model = keras.Sequential([
        keras.Input((8, 8, 2)), layers.Conv2D(4, 3, activation="relu", name="conv_a"),
        # no bias before BatchNormalization: its true gradient is 0, and Adam would turn its rounding noise into
        # steps of size lr in random directions, different in each framework
        layers.Conv2D(6, 3, use_bias=False, name="conv_b"), layers.BatchNormalization(name="bn"),
        layers.Activation("relu"),
        layers.Flatten(), layers.Dropout(0.25), layers.Dense(5, activation="softmax", name="head"),
    ])
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
    # moving statistics away from (0, 1), so that an epsilon or layout error shows in inference mode too
    model.get_layer("bn").set_weights([np.full(6, 1.5, np.float32), np.full(6, 0.1, np.float32),
                                       np.linspace(-0.2, 0.2, 6).astype(np.float32),
                                       np.linspace(1e-3, 4e-3, 6).astype(np.float32)])
    return model


def twin(function: str = "load_model") -> nn.Module:
    namespace: dict = {}
    exec(compile(TWIN, "twin.py", "exec"), namespace)  # noqa: S102  (the same source ptref compare loads from a file)
    return namespace[function]()


def data(count: int = 64) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.standard_normal((count, 8, 8, 2)).astype(np.float32), rng.integers(0, 5, count)


def test_a_correct_port_passes_every_level() -> None:
    x, y = data()
    report = parity.compare_models(keras_model(), twin(), x, y, steps=5, batch_size=16)
    assert report.ok, report.verdict
    assert {c.level for c in report.checks} == {"forward", "gradient", "step", "trajectory", "interop"}
    layers = next(c for c in report.checks if "layer by layer" in c.what)
    assert [r["keras"] for r in layers.details["per_layer"]] == ["conv_a", "conv_b", "bn", "head"]
    gradient = next(c for c in report.checks if c.level == "gradient")
    # conv_a kernel+bias, conv_b kernel, gamma, beta, Dense kernel+bias
    assert len(gradient.details["per_parameter"]) == 7
    trajectory = next(c for c in report.checks if c.level == "trajectory")
    assert trajectory.details["dropout_layers_off"] == 2  # Keras's Dropout and torch's
    assert any("Dropout: switched off" in note for note in report.notes)


def test_a_transposed_kernel_fails_naming_its_layer() -> None:
    torch_model, x = twin(), data()[0]
    model = keras_model()
    p = parity.pair(model, torch_model, x)
    p.keras_to_torch()
    with torch.no_grad():  # conv_b's kernel with its spatial axes swapped: shapes fit, outputs do not
        torch_model[2].weight.copy_(torch_model[2].weight.transpose(2, 3).clone())
    outputs, layers = parity.forward(p, x)
    assert not layers.within and layers.details["first_parting_layer"].startswith("conv_b ↔ 2")
    assert layers.metric > 100 * layers.tolerance.value
    assert not outputs.within


def test_a_wrong_batchnorm_epsilon_fails_at_the_batchnorm_layer() -> None:
    x, y = data()
    with pytest.raises(AssertionError) as failure:
        parity.assert_parity(keras_model(), twin("wrong_epsilon"), x, y, levels=("forward",))
    message = str(failure.value)
    assert "at bn ↔ 3" in message  # the first layer where the two part, not the layers after it
    assert "max abs diff" in message and "max rel diff" in message and "tolerance LAYER = 1e-05 rel" in message


def test_assert_parity_returns_the_report_of_a_correct_port() -> None:
    x, y = data()
    report = parity.assert_parity(keras_model(), twin(), x, y, levels=("forward", "gradient"))
    assert report.ok and len(report.checks) == 3


def test_torch_adam_defaults_fail_the_step_level_naming_a_weight() -> None:
    x, y = data(16)
    model, torch_model = keras_model(), twin()
    p = parity.pair(model, torch_model, x)
    p.keras_to_torch()
    check = parity.step(p, x, y, "sparse_categorical_crossentropy", "adam",
                        torch_optimizer=lambda params: torch.optim.Adam(params, lr=1e-3), expect_failure=True)
    assert check.verdict == "caught" and check.where in p.variables


def test_a_loss_that_differs_fails_the_gradient_and_trajectory_levels() -> None:
    x, y = data()
    model, torch_model = keras_model(), twin()
    p = parity.pair(model, torch_model, x)
    p.keras_to_torch()
    doubled = lambda target, out: 2 * nn.functional.cross_entropy(out, target)  # noqa: E731
    assert not parity.gradient(p, x[:16], y[:16], "sparse_categorical_crossentropy", doubled).within
    loss, _ = parity.trajectory(p, x, y, "sparse_categorical_crossentropy", "adam", steps=3, batch_size=16,
                                torch_loss=doubled)
    assert not loss.within and loss.where == "step 0"


def test_the_suite_runs_tensorflow_without_onednn() -> None:
    assert os.environ["TF_ENABLE_ONEDNN_OPTS"] == "0" and onednn_state() == "off"


PROBE = """
import hashlib, os, sys
if sys.argv[1] in ('0', '1'):
    os.environ['TF_ENABLE_ONEDNN_OPTS'] = sys.argv[1]
if sys.argv[1] == 'bootstrap':
    from ptref.parity.tf import import_tensorflow
    tf = import_tensorflow()
else:
    import torch._dynamo
    import tensorflow as tf
if sys.argv[1] == 'after':
    os.environ['TF_ENABLE_ONEDNN_OPTS'] = '0'
import numpy as np
rng = np.random.default_rng(0)
a, b = rng.standard_normal((256, 784), np.float32), rng.standard_normal((784, 512), np.float32)
print(hashlib.md5(tf.matmul(a, b).numpy().tobytes()).hexdigest())
"""


def test_onednn_is_chosen_at_import_and_the_bootstrap_turns_it_off() -> None:
    def run(mode: str) -> str:
        env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
        env.update(PYTHONPATH=str(REPO), TF_CPP_MIN_LOG_LEVEL="2")
        return subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, env=env,
                              check=True).stdout.strip()

    digests = {mode: run(mode) for mode in ("unset", "after", "0", "bootstrap")}
    assert digests["after"] == digests["unset"], "set after import, TF_ENABLE_ONEDNN_OPTS changed TensorFlow's sums"
    assert digests["bootstrap"] == digests["0"], "the bootstrap did not give TensorFlow oneDNN off"


def test_ptref_compare_writes_the_report_for_any_pair(tmp_path: Path) -> None:
    keras_model().save(tmp_path / "model.keras")
    (tmp_path / "model.py").write_text(textwrap.dedent(TWIN))
    x, y = data(48)
    np.savez(tmp_path / "data.npz", x_train=x, y_train=y)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    command = [sys.executable, "-m", "ptref", "compare", "--keras", str(tmp_path / "model.keras"), "--data",
               str(tmp_path / "data.npz"), "--steps", "3", "--batch-size", "16"]
    good = subprocess.run([*command, "--torch", str(tmp_path / "model.py"), "--out", str(tmp_path / "good")],
                          capture_output=True, text=True, env=env, cwd=tmp_path)
    assert good.returncode == 0, good.stdout + good.stderr[-3000:]
    written = {path.name for path in (tmp_path / "good").iterdir()}
    assert {"report.md", "report.json", "loss_curves.png", "loss_gap.png", "per_layer_errors.png"} <= written
    payload = json.loads((tmp_path / "good" / "report.json").read_text())
    assert payload["ok"] and {c["level"] for c in payload["checks"]} >= {"forward", "gradient", "trajectory"}
    bad = subprocess.run([*command, "--torch", f"{tmp_path / 'model.py'}:wrong_epsilon", "--out",
                          str(tmp_path / "bad"), "--levels", "forward"], capture_output=True, text=True, env=env,
                         cwd=tmp_path)
    assert bad.returncode == 1 and "at bn ↔ 3" in bad.stdout, bad.stdout + bad.stderr[-3000:]
    missing = subprocess.run([*command, "--torch", f"{tmp_path / 'model.py'}:absent", "--out", str(tmp_path / "x")],
                             capture_output=True, text=True, env=env, cwd=tmp_path)
    assert missing.returncode == 1 and "defines no function absent()" in missing.stderr
