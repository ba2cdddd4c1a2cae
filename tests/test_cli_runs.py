"""Which run a command works on: ``--ckpt_path last``, pre-emption (SIGTERM), and where evaluations write."""

from __future__ import annotations

import csv
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
from test_resume import assert_same_state
from torch.utils.data import TensorDataset

from helpers import MNIST_T10K, QUIET
from ptref.cli import main
from ptref.data.batches import BatchReads, stacked
from ptref.data.resumable import ResumableDataLoader

REPO = Path(__file__).resolve().parents[1]
CHECKPOINT_EVERY_EPOCH = {"class_path": "ptref.callbacks.checkpoint.ModelCheckpoint",
                          "init_args": {"save_last": True, "every_n_epochs": 1}}
# Shuffled mini-batches of 8 out of 100 houses: 13 batches an epoch, the order drawn from the RNG each epoch.
HOUSE_PRICE = ["--config", str(REPO / "experiments" / "house_price.yaml"), "--data.batch_size", "8",
               "--data.shuffle", "true", "--trainer.callbacks", json.dumps([CHECKPOINT_EVERY_EPOCH])]
# The course CNN: dropout draws from the RNG every step; 256 digits in batches of 64, 4 batches an epoch.
MNIST_CNN = ["--config", str(REPO / "experiments" / "mnist_cnn_t10k.yaml"),
             "--data.data_dir", MNIST_T10K, "--data.subset", "256",
             "--data.batch_size", "64", "--trainer.limit_val_batches", "1"]


def fit(root: Path, *args: str) -> int | None:
    return main(["fit", *HOUSE_PRICE, *QUIET, "--trainer.default_root_dir", str(root), *args])


def interrupted(run: Path) -> Path:
    """Make a finished run look like one that was stopped after its last checkpoint (no completion record)."""
    (run / "fit_completed").unlink()
    return run


def load(path: Path) -> dict:
    return torch.load(path, weights_only=True)


# --- fit --ckpt_path last ---------------------------------------------------------------------------------


def test_fit_ckpt_path_last_refuses_to_continue_a_finished_run(tmp_path, capsys):
    assert fit(tmp_path, "--trainer.max_epochs", "2") is None
    checkpoint = tmp_path / "version_0" / "checkpoints" / "last.ckpt"
    (tmp_path / "version_1").mkdir()  # a later run stopped before its first checkpoint: nothing to resume there
    capsys.readouterr()

    assert fit(tmp_path, "--trainer.max_epochs", "4", "--ckpt_path", "last") == 1
    err = capsys.readouterr().err
    assert "finished" in err and f"--ckpt_path {checkpoint}" in err  # how to continue it explicitly
    assert len([line for line in err.splitlines() if line.startswith("ptref:")]) == 1  # one line says it all
    assert sorted(path.name for path in tmp_path.iterdir()) == ["version_0", "version_1"]  # no run started
    assert load(checkpoint)["global_step"] == 2 * 13  # untouched


def test_fit_ckpt_path_last_resumes_the_newest_interrupted_run_by_number_not_file_time(tmp_path, capsys):
    for _ in range(2):
        assert fit(tmp_path, "--trainer.max_epochs", "2") is None
    older, newer = interrupted(tmp_path / "version_0"), interrupted(tmp_path / "version_1")
    (older / "checkpoints" / "last.ckpt").touch()  # written after the newer run's file
    capsys.readouterr()

    assert fit(tmp_path, "--trainer.max_epochs", "3", "--ckpt_path", "last") is None
    err = capsys.readouterr().err
    resumed = [line for line in err.splitlines() if "resuming from" in line]
    assert resumed == [f"ptref: resuming from {newer / 'checkpoints' / 'last.ckpt'} (the interrupted run version_1, "
                       f"saved at epoch 1, step {2 * 13})"]
    assert load(tmp_path / "version_2" / "checkpoints" / "last.ckpt")["global_step"] == 3 * 13


def test_fit_ckpt_path_last_without_any_checkpoint_starts_from_scratch_and_says_so(tmp_path, capsys):
    (tmp_path / "version_0").mkdir()  # a run stopped before its first checkpoint
    assert fit(tmp_path, "--trainer.max_epochs", "1", "--ckpt_path", "last") is None
    assert "no run under" in capsys.readouterr().err  # said where it looked, on stderr
    assert load(tmp_path / "version_1" / "checkpoints" / "last.ckpt")["global_step"] == 13


# --- test / validate / predict need trained weights -------------------------------------------------------


@pytest.mark.parametrize("subcommand", ["test", "validate", "predict"])
def test_evaluating_without_a_checkpoint_is_refused_naming_the_one_to_pass(tmp_path, capsys, subcommand):
    assert fit(tmp_path, "--trainer.max_epochs", "1") is None
    capsys.readouterr()
    before = sorted(tmp_path.rglob("*"))
    assert main([subcommand, *HOUSE_PRICE, *QUIET, "--trainer.default_root_dir", str(tmp_path),
                 "--data.predict_inputs", "[[2000, 3]]"]) == 1
    err = capsys.readouterr().err
    assert "--ckpt_path last" in err and str(tmp_path / "version_0" / "checkpoints" / "last.ckpt") in err
    assert sorted(tmp_path.rglob("*")) == before  # nothing created


@pytest.mark.parametrize("ckpt_path", [[], ["--ckpt_path", "last"]], ids=["no_ckpt_path", "ckpt_path_last"])
def test_mnist_test_without_any_trained_run_is_refused(tmp_path, capsys, ckpt_path):
    assert main(["test", *MNIST_CNN, *QUIET, "--trainer.default_root_dir", str(tmp_path), *ckpt_path]) == 1
    assert "train first" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_test_ckpt_path_last_evaluates_the_newest_checkpoint_beside_its_run(tmp_path, capsys):
    assert fit(tmp_path, "--trainer.max_epochs", "3") is None
    run = tmp_path / "version_0"
    checkpoint = run / "checkpoints" / "last.ckpt"
    args = ["test", *HOUSE_PRICE, *QUIET, "--trainer.default_root_dir", str(tmp_path)]
    assert main([*args, "--ckpt_path", "last"]) is None
    assert main([*args, "--ckpt_path", str(checkpoint)]) is None

    assert sorted(path.name for path in tmp_path.iterdir()) == ["version_0"]  # no new version_N
    losses = [[row["test_loss"] for row in csv.DictReader((run / folder / "metrics.csv").open()) if row["test_loss"]]
              for folder in ("test", "test_1")]
    assert losses[0] == losses[1] and len(losses[0]) == 1  # `last` is that checkpoint, not untrained weights


def test_a_failing_predict_leaves_no_folder_behind(tmp_path, capsys):
    assert fit(tmp_path, "--trainer.max_epochs", "1") is None
    before = sorted(tmp_path.rglob("*"))
    assert main(["predict", *HOUSE_PRICE, *QUIET, "--trainer.default_root_dir", str(tmp_path), "--ckpt_path", "last",
                 "--data.predict_inputs", "[[2000, 3, 1]]"]) == 1
    assert "predict_inputs must be rows of 2" in capsys.readouterr().err
    assert sorted(tmp_path.rglob("*")) == before


# --- pre-emption: SIGTERM mid-epoch -----------------------------------------------------------------------


def ptref_fit(*args: str, root: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "ptref", "fit", *args, *QUIET, "--trainer.default_root_dir", str(root)]
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")])}
    return subprocess.Popen(command, cwd=REPO, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def finish(process: subprocess.Popen) -> tuple[str, str]:
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, out + err
    return out, err


WORKFLOWS = {  # arguments, epochs, batches per epoch, step after which SIGTERM arrives (mid-epoch)
    "house_price": (HOUSE_PRICE, 4, 13, 15),
    "mnist_cnn": (MNIST_CNN, 3, 4, 6),
}


@pytest.mark.parametrize("workflow", sorted(WORKFLOWS))
def test_sigterm_saves_the_interrupted_step_exits_143_and_resumes_bit_for_bit(tmp_path, workflow):
    args, epochs, batches, step = WORKFLOWS[workflow]
    args = [*args, "--trainer.max_epochs", str(epochs)]
    marker = tmp_path / "paused"
    pause = tmp_path / "pause.yaml"
    callbacks = [CHECKPOINT_EVERY_EPOCH, {"class_path": "pause.PauseAtStep",
                                          "init_args": {"step": step, "marker": str(marker)}}]
    pause.write_text(yaml.safe_dump({"trainer": {"callbacks": callbacks}}))

    straight = ptref_fit(*args, root=tmp_path / "straight")
    stopped = ptref_fit(*args, "--config", str(pause), root=tmp_path / "stopped")
    deadline = time.monotonic() + 300
    while not marker.exists():
        assert stopped.poll() is None, stopped.communicate()
        assert time.monotonic() < deadline, "the child never reached the pause"
        time.sleep(0.05)
    stopped.send_signal(signal.SIGTERM)
    _, err = stopped.communicate(timeout=120)

    assert stopped.returncode == 128 + signal.SIGTERM
    last = tmp_path / "stopped" / "version_0" / "checkpoints" / "last.ckpt"
    said = [line for line in err.splitlines() if line.startswith("ptref:")]
    assert len(said) == 1 and str(last) in said[0] and "--ckpt_path last" in said[0]
    saved = load(last)
    assert saved["global_step"] == step and saved["epoch"] == step // batches  # mid-epoch, not the epoch before
    assert not (tmp_path / "stopped" / "version_0" / "fit_completed").exists()

    _, err = finish(ptref_fit(*args, "--ckpt_path", "last", root=tmp_path / "stopped"))
    assert f"resuming from {last}" in err
    finish(straight)
    expected = load(tmp_path / "straight" / "version_0" / "checkpoints" / "last.ckpt")
    resumed = load(tmp_path / "stopped" / "version_1" / "checkpoints" / "last.ckpt")
    assert resumed["global_step"] == expected["global_step"] == epochs * batches
    assert_same_state(resumed["state_dict"], expected["state_dict"], "state_dict")
    assert_same_state(resumed["optimizer_states"], expected["optimizer_states"], "optimizer_states")


def test_a_resumable_loader_continues_its_epoch_in_the_same_order_and_rng_stream():
    data = TensorDataset(torch.arange(20.0))

    def loader() -> ResumableDataLoader:
        return ResumableDataLoader(BatchReads(data), batch_size=3, shuffle=True, collate_fn=stacked)

    torch.manual_seed(0)
    first = loader()
    epoch = iter(first)
    seen = [next(epoch) for _ in range(2)]
    with first.holding_position():
        position = first.state_dict()
    rng = torch.get_rng_state()
    rest = [batch for batch in epoch]
    after = torch.rand(3)

    torch.manual_seed(123)  # anything: the checkpoint restores the RNG streams before the loader resumes
    torch.set_rng_state(rng)
    second = loader()
    second.load_state_dict(position)
    assert_same_state([batch for batch in second], rest, "remaining batches")
    assert torch.equal(torch.rand(3), after)  # the resumed epoch drew nothing from the global RNG
    assert len(seen) == 2 and first.state_dict() == {}  # outside holding_position: a fresh epoch on resume
