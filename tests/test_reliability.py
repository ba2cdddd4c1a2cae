"""Nothing lost, nothing silently wrong: divergence stops cleanly, checkpoints load safely or not at all."""

from __future__ import annotations

import json
import pickle
import zipfile
from pathlib import Path

import pytest
import torch

from helpers import QUIET
from ptref.cli import main

REPO = Path(__file__).resolve().parents[1]
EVERY_EPOCH = ["--trainer.callbacks", json.dumps([{"class_path": "ptref.callbacks.checkpoint.ModelCheckpoint",
                                                   "init_args": {"save_last": True, "every_n_epochs": 1}}])]


def run(*args: str) -> int | None:
    return main([*args, "--config", str(REPO / "experiments" / "house_price.yaml"), *QUIET])


def test_divergence_stops_naming_the_step_and_keeps_the_last_good_checkpoint(tmp_path, house_price_csv, capsys):
    # lr 3 is past the stability limit of full-batch GD on this data: the loss overflows after ~35 steps.
    code = main(["fit", "--config", str(REPO / "experiments" / "house_price.yaml"), *QUIET,
                 "--data.csv_path", str(house_price_csv), "--model.learning_rate", "3",
                 "--trainer.default_root_dir", str(tmp_path), *EVERY_EPOCH])
    assert code == 1
    message = capsys.readouterr().err
    assert "training diverged" in message and "Lower the learning rate" in message and "gradient_clip_val" in message
    step = int(message.split(" at step ")[1].split()[0])
    last = torch.load(tmp_path / "version_0" / "checkpoints" / "last.ckpt", weights_only=True)
    assert last["global_step"] == step  # one epoch = one full-batch step: the checkpoint just before it
    assert all(torch.isfinite(value).all() for value in last["state_dict"].values())


class Exploit:
    """Pickles into a call of ``Path.touch`` — what an attacker's checkpoint would do."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self):
        return Path.touch, (self.target,)


def predict_with(checkpoint: Path, tmp_path: Path) -> int | None:
    return main(["predict", "--config", str(REPO / "experiments" / "house_price.yaml"), *QUIET,
                 "--trainer.default_root_dir", str(tmp_path), "--data.predict_inputs", "[[2000, 3]]",
                 "--ckpt_path", str(checkpoint)])


def test_a_checkpoint_carrying_code_is_refused_without_running_it(tmp_path, capsys):
    pwned = tmp_path / "pwned"
    evil = tmp_path / "evil.ckpt"
    torch.save({"state_dict": {}, "payload": Exploit(pwned)}, evil)
    assert predict_with(evil, tmp_path) == 1
    assert "refused" in capsys.readouterr().err
    assert not pwned.exists()
    with pytest.raises(pickle.UnpicklingError):  # what plain weights_only loading does too
        torch.load(evil, weights_only=True)
    assert not pwned.exists()


@pytest.fixture(scope="module")
def good_checkpoint(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("good")
    main(["fit", "--config", str(REPO / "experiments" / "house_price.yaml"), *QUIET,
          "--trainer.max_epochs", "3", "--trainer.default_root_dir", str(out)])
    return out / "version_0" / "checkpoints" / "last.ckpt"


def test_a_truncated_checkpoint_gives_a_clear_error(good_checkpoint, tmp_path, capsys):
    truncated = tmp_path / "truncated.ckpt"
    truncated.write_bytes(good_checkpoint.read_bytes()[:200])
    assert predict_with(truncated, tmp_path) == 1
    err = capsys.readouterr().err
    assert str(truncated) in err and "truncated or corrupted" in err


def test_a_file_that_is_not_a_checkpoint_gives_a_clear_error(tmp_path, capsys):
    junk = tmp_path / "notes.ckpt"
    junk.write_text("this is not a checkpoint")
    assert predict_with(junk, tmp_path) == 1
    err = capsys.readouterr().err
    assert str(junk) in err and "not a checkpoint" in err and "--weights_only" not in err


def test_checkpoints_written_by_ptref_load_with_weights_only(good_checkpoint, tmp_path, capsys):
    assert zipfile.is_zipfile(good_checkpoint)
    assert predict_with(good_checkpoint, tmp_path) is None
    assert "price $" in capsys.readouterr().out


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16, torch.float64])
def test_the_guard_reads_nan_and_both_infinities_in_every_float_dtype(dtype):
    from ptref.callbacks.divergence import finite

    for value, expected in ((0.5, True), (float("nan"), False), (float("inf"), False), (-float("inf"), False)):
        assert finite(torch.tensor(value, dtype=dtype)) is expected
        assert finite(torch.tensor([[value]], dtype=dtype)) is expected  # one element, any shape
        assert finite(torch.tensor([1.0, value], dtype=dtype)) is expected  # several elements
    assert finite(torch.tensor(65504.0, dtype=torch.float16) * 2) is False  # float16 overflow is inf
    assert finite(torch.tensor(complex(1.0, float("nan")))) is False
