"""Exact resume: a run killed after epoch k and resumed with --ckpt_path last ends where an uninterrupted run does.

SIGKILL leaves the end-of-epoch checkpoint of epoch k; SIGTERM (pre-emption) saves the step it stopped at, the
first batch of epoch k + 1 (tests/test_cli_runs.py stops one in the middle of an epoch).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml
from helpers import MNIST_T10K, QUIET, REPO

# The YAML checkpoints every 100 epochs; here every epoch, so that a kill after epoch 2 has one to resume.
EVERY_EPOCH = ["--trainer.callbacks", json.dumps([{"class_path": "ptref.callbacks.checkpoint.ModelCheckpoint",
                                                   "init_args": {"save_last": True, "every_n_epochs": 1}}])]
HOUSE_PRICE = [
    "--config", str(REPO / "experiments" / "house_price.yaml"),
    "--trainer.max_epochs", "6", "--data.batch_size", "8", "--data.shuffle", "true", *EVERY_EPOCH,
]
# Shuffled mini-batches (the RNG matters), checkpoints every epoch; a Keras-exact optimizer whose learning
# rate follows a Keras schedule, so its step counter must come back from the checkpoint too.
WORKFLOWS = {
    "house_price": HOUSE_PRICE,
    "house_price_keras_adam_schedule": [
        *HOUSE_PRICE, "--optimizer", "ptref.optim.Adam", "--optimizer.learning_rate",
        '{"class_path": "ptref.optim.schedules.ExponentialDecay",'
        ' "init_args": {"initial_learning_rate": 0.05, "decay_steps": 7, "decay_rate": 0.5}}',
    ],
    # the course CNN: dropout masks and shuffling from the RNG, Keras Adam state in the checkpoint
    "mnist_cnn": [
        "--config", str(REPO / "experiments" / "mnist_cnn_t10k.yaml"), "--trainer.max_epochs", "4",
        "--data.data_dir", MNIST_T10K, "--data.subset", "256",
        "--data.batch_size", "64", "--trainer.limit_val_batches", "1",
    ],
}


def ptref(*args: str, root: Path, extra_config: Path | None = None) -> subprocess.Popen:
    command = [sys.executable, "-m", "ptref", "fit", *args, *QUIET, "--trainer.default_root_dir", str(root)]
    if extra_config is not None:
        command += ["--config", str(extra_config)]
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")])}
    return subprocess.Popen(command, cwd=REPO, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)


def finish(process: subprocess.Popen) -> str:
    output, _ = process.communicate(timeout=300)
    assert process.returncode == 0, output
    return output


def final_checkpoint(root: Path) -> dict:
    newest = max(root.glob("version_*/checkpoints/last.ckpt"), key=lambda path: path.stat().st_mtime)
    return torch.load(newest, weights_only=True)


def assert_same_state(a, b, where="checkpoint"):
    """Bitwise equality of nested dicts/lists of tensors and numbers."""
    if isinstance(a, torch.Tensor):
        assert torch.equal(a, b), where
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            assert_same_state(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for index, (x, y) in enumerate(zip(a, b)):
            assert_same_state(x, y, f"{where}[{index}]")
    else:
        assert a == b, where


@pytest.mark.parametrize("kill", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
@pytest.mark.parametrize("workflow", sorted(WORKFLOWS))
def test_killed_run_resumed_with_ckpt_path_last_matches_an_uninterrupted_run(tmp_path, workflow, kill):
    args = WORKFLOWS[workflow]
    marker = tmp_path / "paused"
    pause = tmp_path / "pause.yaml"
    pause.write_text(yaml.safe_dump({"trainer": {"callbacks": [
        {"class_path": "ptref.callbacks.checkpoint.ModelCheckpoint",
         "init_args": {"save_last": True, "every_n_epochs": 1}},
        {"class_path": "pause.PauseAfterEpoch", "init_args": {"epoch": 2, "marker": str(marker)}},
    ]}}))

    straight = ptref(*args, root=tmp_path / "straight")
    interrupted = ptref(*args, root=tmp_path / "interrupted", extra_config=pause)
    deadline = time.monotonic() + 300
    while not marker.exists():
        assert interrupted.poll() is None, interrupted.communicate()[0]
        assert time.monotonic() < deadline, "the child never reached the pause"
        time.sleep(0.1)
    interrupted.send_signal(kill)
    interrupted.communicate(timeout=60)
    assert interrupted.returncode == -signal.SIGKILL if kill == signal.SIGKILL else 128 + signal.SIGTERM
    killed_at = final_checkpoint(tmp_path / "interrupted")
    paused_at = int(marker.read_text())  # the global step at the end of epoch 2
    # SIGKILL: the checkpoint of epoch 2; SIGTERM: Lightning stops after the batch in progress, and that is saved
    assert killed_at["global_step"] == (paused_at if kill == signal.SIGKILL else paused_at + 1)

    resumed_output = finish(ptref(*args, "--ckpt_path", "last", root=tmp_path / "interrupted"))
    assert "resuming from" in resumed_output
    finish(straight)

    expected, resumed = final_checkpoint(tmp_path / "straight"), final_checkpoint(tmp_path / "interrupted")
    assert resumed["global_step"] == expected["global_step"]
    assert_same_state(resumed["state_dict"], expected["state_dict"], "state_dict")
    assert_same_state(resumed["optimizer_states"], expected["optimizer_states"], "optimizer_states")
