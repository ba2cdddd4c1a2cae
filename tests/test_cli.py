"""The command line: LightningCLI subcommands, --print_config, python -m ptref, and ptref env."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ptref import env
from ptref.cli import main, next_version

REPO = Path(__file__).resolve().parents[1]


def test_print_config_shows_the_experiment_with_flags_applied(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["fit", "--config", str(REPO / "experiments" / "house_price.yaml"),
              "--trainer.max_epochs", "50", "--print_config"])
    assert exit_info.value.code == 0
    config = yaml.safe_load(capsys.readouterr().out)
    assert config["trainer"]["max_epochs"] == 50
    assert config["model"]["class_path"] == "ptref.models.LinearRegression"
    assert config["model"]["init_args"]["learning_rate"] == 0.01
    assert config["data"]["class_path"] == "ptref.data.HousePriceDataModule"


def test_a_typo_in_a_config_key_is_refused_with_its_name(capsys):
    code = main(["fit", "--config", str(REPO / "experiments" / "house_price.yaml"), "--model.learnig_rate", "0.1"])
    assert code == 2  # argparse's status for a command line it refuses
    assert "learnig_rate" in capsys.readouterr().err


def test_python_dash_m_ptref_is_the_same_cli():
    result = subprocess.run([sys.executable, "-m", "ptref", "--help"], capture_output=True, text=True, cwd=REPO,
                            check=False)
    assert result.returncode == 0
    for subcommand in ("fit", "validate", "test", "predict", "lesson", "env"):
        assert subcommand in result.stdout


def test_env_reports_versions_and_accelerators(capsys):
    assert main(["env"]) == 0
    out = capsys.readouterr().out
    for name in ("torch", "lightning", "torchmetrics", "tensorflow", "cpu", "cuda", "mps", "xla"):
        assert name in out
    assert "accelerator='auto' picks:" in out


def test_env_says_why_cuda_is_missing_or_lists_the_devices():
    cuda = next(entry for entry in env.accelerators() if entry[0] == "cuda")
    assert cuda[2]  # never an empty reason
    import torch

    assert cuda[1] == torch.cuda.is_available()


def test_loggers_of_one_run_share_the_next_version_folder(tmp_path):
    assert next_version(tmp_path) == 0
    (tmp_path / "version_0").mkdir()
    (tmp_path / "version_3").mkdir()
    (tmp_path / "version_x").mkdir()
    assert next_version(tmp_path) == 4


def test_full_batch_fit_draws_one_progress_bar_over_the_epochs_and_keeps_tensorflow_out(tmp_path):
    """tqdm (plain text in CI logs), one bar for 300 one-step epochs; TensorBoard without importing TF."""
    script = (
        "import sys; from ptref.cli import main; "
        f"main(['fit', '--config', {str(REPO / 'experiments' / 'house_price.yaml')!r}, '--trainer.max_epochs', '300', "
        f"'--trainer.enable_model_summary', 'false', '--trainer.default_root_dir', {str(tmp_path)!r}]); "
        "print('tensorflow imported:', 'tensorflow' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, check=True,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    bar = result.stdout  # Lightning's tqdm bars write to stdout
    assert "Epochs" in bar and "300/300" in bar  # the one bar, finished
    assert "Epoch 299" not in bar  # not a bar per epoch (Lightning's default would end with "Epoch 299")
    assert "━" not in bar  # not Rich's bar
    assert "tensorflow imported: False" in result.stdout  # TensorFlow is installed in CI: the stub kept it out
    assert list((tmp_path / "version_0").glob("events.out.tfevents.*"))  # and TensorBoard still wrote events
