"""Nothing silent, nothing buried: each user error is one line naming its cause; a normal run prints no noise."""

from __future__ import annotations

import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from helpers import QUIET
from ptref.cli import main
from ptref.errors import user_error
from ptref.models import LinearRegression

REPO = Path(__file__).resolve().parents[1]
HOUSE = str(REPO / "experiments" / "house_price.yaml")
SOFTMAX = str(REPO / "experiments" / "mnist_softmax_t10k.yaml")


def ptref(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """``python -m ptref ARGS`` in a fresh process, stdout and stderr apart."""
    return subprocess.run([sys.executable, "-m", "ptref", *args], capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})}, check=False)


def one_error_line(err: str) -> str:
    """The single ``ptref:`` line of ``err``, checked to be its only line."""
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("ptref: "), err
    return lines[0]


class Custom:
    """A class of this test module: a checkpoint holding one needs code to load."""


@pytest.fixture(scope="module")
def bad(tmp_path_factory, mnist_t10k_dir) -> dict[str, Path]:
    """One bad input of each kind."""
    folder = tmp_path_factory.mktemp("bad")
    files = {name: folder / name for name in (
        "with_header.csv", "missing.csv", "broken.yaml", "random.ckpt", "custom.ckpt",
        "digit.png", "idx")}
    files["with_header.csv"].write_text("area,bedrooms,price\n2104,3,399900\n1600,3,329900\n")
    files["broken.yaml"].write_text("trainer:\n  max_epochs: [1\n")
    files["random.ckpt"].write_bytes(random.Random(0).randbytes(512))
    torch.save({"state_dict": {}, "payload": Custom()}, files["custom.ckpt"])
    files["digit.png"].write_bytes(random.Random(1).randbytes(512))
    files["idx"].mkdir()
    images = (mnist_t10k_dir / "t10k-images-idx3-ubyte.gz").read_bytes()
    (files["idx"] / "t10k-images-idx3-ubyte.gz").write_bytes(images[: len(images) // 2])  # cut mid-stream
    labels = mnist_t10k_dir / "t10k-labels-idx1-ubyte.gz"
    (files["idx"] / labels.name).write_bytes(labels.read_bytes())
    # Trained weights: predict refuses to run without them, before it reads any input.
    for name, config in (("house", HOUSE), ("softmax", SOFTMAX)):
        root = folder / name
        assert main(["fit", "--config", config, "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "2",
                     "--trainer.limit_val_batches", "1", "--trainer.default_root_dir", str(root), *QUIET]) is None
        files[f"{name}.ckpt"] = root / "version_0" / "checkpoints" / "last.ckpt"
    return files


SCHEDULE = ('{"class_path": "ptref.optim.schedules.PiecewiseConstantDecay", '
            '"init_args": {"boundaries": [10], "values": [-0.1, 0.01]}}')

# (case, command line from the bad files, exit status, what the line must name); 2: refused by the parser
USER_ERRORS = [
    ("csv with a header", lambda f: ["fit", "--config", HOUSE, "--data.csv_path", f["with_header.csv"]], 1,
     lambda f: [f["with_header.csv"], "line 1"]),
    ("missing csv", lambda f: ["fit", "--config", HOUSE, "--data.csv_path", f["missing.csv"]], 1,
     lambda f: [f["missing.csv"]]),
    ("truncated idx", lambda f: ["fit", "--config", SOFTMAX, "--data.data_dir", f["idx"]], 1,
     lambda f: [Path(f["idx"]) / "t10k-images-idx3-ubyte.gz"]),
    ("not an image", lambda f: ["predict", "--config", SOFTMAX, "--data.predict_files", f"[{f['digit.png']}]",
                                  "--ckpt_path", f["softmax.ckpt"]], 1,
     lambda f: [f["digit.png"]]),
    ("three features for a two-feature model",
     lambda f: ["predict", "--config", HOUSE, "--data.predict_inputs", "[[2104, 3, 1]]",
                "--ckpt_path", f["house.ckpt"]], 1,
     lambda f: ["predict_inputs"]),
    ("random bytes as checkpoint",
     lambda f: ["predict", "--config", HOUSE, "--data.predict_inputs", "[[2104, 3]]", "--ckpt_path", f["random.ckpt"]],
     1, lambda f: [f["random.ckpt"], "not a checkpoint"]),
    ("typo in an option", lambda f: ["fit", "--config", HOUSE, "--model.learnig_rate", "0.1"], 2,
     lambda f: ["--model.learnig_rate", "--model.learning_rate"]),
    ("prefix of an option", lambda f: ["fit", "--config", HOUSE, "--trainer.max_epoch", "2"], 2,
     lambda f: ["--trainer.max_epoch:", "--trainer.max_epochs?"]),
    ("value of the wrong type", lambda f: ["fit", "--config", HOUSE, "--trainer.max_epochs", "two"], 2,
     lambda f: ["--trainer.max_epochs", "two"]),
    ("yaml that does not parse", lambda f: ["fit", "--config", f["broken.yaml"]], 2,
     lambda f: [f["broken.yaml"], "line 2"]),
    ("unknown command", lambda f: ["fitt", "--config", HOUSE], 2, lambda f: ["fitt", "did you mean fit"]),
    ("zero epochs", lambda f: ["fit", "--config", HOUSE, "--trainer.max_epochs", "0"], 1,
     lambda f: ["--trainer.max_epochs 0"]),
    ("negative epochs", lambda f: ["fit", "--config", HOUSE, "--trainer.max_epochs", "-3"], 1,
     lambda f: ["--trainer.max_epochs -3"]),
    ("zero learning rate of the model", lambda f: ["fit", "--config", HOUSE, "--model.learning_rate", "0"], 1,
     lambda f: ["--model.learning_rate"]),
    ("negative learning rate of a torch optimizer",
     lambda f: ["fit", "--config", HOUSE, "--optimizer", "torch.optim.SGD", "--optimizer.lr", "-0.1"], 1,
     lambda f: ["--optimizer.lr -0.1"]),
    ("zero learning rate of a torch optimizer",
     lambda f: ["fit", "--config", HOUSE, "--optimizer", "torch.optim.Adam", "--optimizer.lr", "0"], 1,
     lambda f: ["--optimizer.lr"]),
    ("negative learning rate from a schedule",
     lambda f: ["fit", "--config", HOUSE, "--optimizer", "ptref.optim.SGD", "--optimizer.learning_rate", SCHEDULE],
     1, lambda f: ["learning_rate", "step 0", "-0.1"]),
]


@pytest.mark.parametrize("command, status, names", [case[1:] for case in USER_ERRORS],
                         ids=[case[0] for case in USER_ERRORS])
def test_a_user_error_is_one_line_naming_its_cause(command, status, names, bad, tmp_path, capsys):
    args = [str(arg) for arg in command(bad)]
    assert main([*args, *QUIET, "--trainer.default_root_dir", str(tmp_path)]) == status
    line = one_error_line(capsys.readouterr().err)
    for name in names(bad):
        assert str(name) in line


def test_a_random_file_as_checkpoint_is_not_sent_to_the_unsafe_switch(bad, tmp_path, capsys):
    args = ["predict", "--config", HOUSE, *QUIET, "--trainer.default_root_dir", str(tmp_path),
            "--data.predict_inputs", "[[2104, 3]]", "--ckpt_path"]
    assert main([*args, str(bad["random.ckpt"])]) == 1
    assert "--weights_only" not in capsys.readouterr().err
    assert main([*args, str(bad["custom.ckpt"])]) == 1  # a real checkpoint carrying code: that one is told
    line = one_error_line(capsys.readouterr().err)
    assert f"{__name__}.Custom" in line and "--weights_only false" in line


def test_the_command_exits_with_the_status_and_one_line_and_debug_shows_the_traceback(bad, tmp_path):
    args = ["predict", "--config", HOUSE, *QUIET, "--trainer.default_root_dir", str(tmp_path),
            "--data.predict_inputs", "[[2104, 3]]", "--ckpt_path", str(bad["random.ckpt"])]
    result = ptref(*args)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    error_lines = [line for line in result.stderr.splitlines() if "ptref:" in line]
    assert len(error_lines) == 1 and result.stderr.splitlines()[-1] == error_lines[0]
    for debug in (ptref(*args, "--debug"), ptref(*args, env={"PTREF_DEBUG": "1"})):
        assert debug.returncode == 1 and "Traceback" in debug.stderr and "CheckpointError" in debug.stderr


def test_bugs_keep_their_traceback():
    """Only errors ptref raises on purpose are one-liners: an implicit one inside ptref or one from torch is a bug."""
    model = LinearRegression(n_features=2)
    with pytest.raises(ValueError) as unpacking:  # predict_step given a (features, target) batch
        model.predict_step((torch.zeros(1, 2), torch.zeros(1, 1)), 0)
    with pytest.raises(RuntimeError) as from_torch:
        torch.zeros(2).view(3)
    with pytest.raises(ValueError) as on_purpose:
        LinearRegression(n_features=2, loss="l1")
    assert user_error(unpacking.value) is None
    assert user_error(from_torch.value) is None
    assert user_error(on_purpose.value) == (str(on_purpose.value), 1)


def test_help_lists_ptrefs_own_subcommands_with_lightnings():
    result = ptref("--help")
    assert result.returncode == 0
    choices = re.search(r"\{([\w,]+)\}", result.stdout)[1].split(",")
    assert set(choices) == {"fit", "validate", "test", "predict", "lesson", "env", "compare", "port", "serve"}
    listed = re.findall(r"^    (\w+) ", result.stdout, flags=re.MULTILINE)
    assert set(listed) == set(choices)


NOISE = [
    "litlogger",  # Lightning's advertisement
    "LeafSpec",  # Lightning's use of a deprecated torch API
    "Total length of `list` across ranks is zero",  # "no validation split", said as a warning
    "won't be reloaded",  # a resumed run writes a new version_N folder on purpose
    "other params",  # the summary table of a model without layers
    "Modules in train mode: 0",
]


def fit_output(*args: str) -> str:
    """Everything a terminal would show for ``ptref fit ARGS``: stdout and stderr in one stream, unbuffered."""
    result = subprocess.run([sys.executable, "-m", "ptref", "fit", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, cwd=REPO, check=True,
                            env={**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"})
    return result.stdout


def test_a_real_fit_prints_no_noise_and_nothing_glued_to_a_bar(tmp_path):
    runs = ["--trainer.default_root_dir", str(tmp_path)]
    house = fit_output("--config", HOUSE, *runs, "--trainer.max_epochs", "200")
    checkpoint = tmp_path / "version_0" / "checkpoints" / "last.ckpt"  # a finished run, continued explicitly
    resumed = fit_output("--config", HOUSE, *runs, "--trainer.max_epochs", "300", "--ckpt_path", str(checkpoint))
    mnist = fit_output("--config", SOFTMAX, "--trainer.default_root_dir", str(tmp_path / "mnist"),
                       "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "5")
    for output in (house, resumed, mnist):
        for noise in NOISE:
            assert noise not in output
        stopped = [match.start() for match in re.finditer(r"`Trainer\.fit` stopped", output)]
        assert stopped and all(output[start - 1] in "\r\n" for start in stopped)  # starts a line, not after a bar
    assert "Trainable params" in mnist  # a model with layers keeps Lightning's table
