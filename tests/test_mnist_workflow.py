"""The MNIST workflow from the command line: fit → checkpoint + figures, test with it, predict on PNG/JPEG."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch
from PIL import Image, ImageDraw



from ptref.cli import build_cli, main
from ptref.data.images import load_as_mnist
from ptref.models import CNN

REPO = Path(__file__).resolve().parents[1]
EXPERIMENTS = sorted((REPO / "experiments").glob("*mnist*.yaml"))


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, mnist_t10k_dir) -> Path:
    """One epoch of the t10k CNN experiment on 64 digits; returns its version folder."""
    root = tmp_path_factory.mktemp("runs")
    main(["fit", "--config", str(REPO / "experiments" / "mnist_cnn_t10k.yaml"),
          "--data.data_dir", str(mnist_t10k_dir), "--data.subset", "64", "--trainer.max_epochs", "2",
          "--trainer.enable_progress_bar", "false", "--trainer.default_root_dir", str(root)])
    return root / "version_0"


def test_fit_writes_checkpoint_logs_and_figures_in_one_folder(trained_run):
    names = {path.name for path in trained_run.iterdir()}
    assert {"metrics.csv", "config.yaml", "label_distribution.png", "training_curves.png"} <= names
    assert any(name.startswith("events.out.tfevents") for name in names)
    assert (trained_run / "checkpoints" / "last.ckpt").is_file()
    rows = list(csv.DictReader((trained_run / "metrics.csv").open()))
    assert [row["epoch"] for row in rows if row["val_acc"]] == ["0", "1"]


def test_test_with_the_checkpoint_reports_accuracy_and_draws_the_test_figures(trained_run, mnist_t10k_dir):
    main(["test", "--config", str(trained_run / "config.yaml"), "--ckpt_path", str(trained_run / "checkpoints" /
          "last.ckpt"), "--trainer.enable_progress_bar", "false"])
    test_run = trained_run / "test"  # beside the checkpoint's run
    assert {"confusion_matrix.png", "misclassified.png"} <= {path.name for path in test_run.iterdir()}
    rows = [row for row in csv.DictReader((test_run / "metrics.csv").open()) if row.get("test_acc")]
    assert 0.0 <= float(rows[-1]["test_acc"]) <= 1.0


def test_predict_prints_digit_and_probability_for_png_and_jpeg(trained_run, tmp_path, capsys):
    files = [tmp_path / "a.png", tmp_path / "b.jpg"]
    for path, (width, height) in zip(files, [(40, 40), (60, 90)]):
        picture = Image.new("RGB", (width, height), "white")  # a dark 7 on white paper: pure noise holds no ink
        ImageDraw.Draw(picture).line([(8, 8), (width - 8, 8), (width // 2, height - 8)], fill=(20, 20, 60), width=3)
        picture.save(path)
    capsys.readouterr()
    main(["predict", "--config", str(trained_run / "config.yaml"), "--ckpt_path", str(trained_run / "checkpoints" /
          "last.ckpt"), "--trainer.enable_progress_bar", "false", "--data.predict_files", f"[{files[0]}, {files[1]}]"])
    printed = [line for line in capsys.readouterr().out.splitlines() if "probability" in line]

    # Expected: the checkpoint's weights on the images, normalized as the course does (x/255).
    model = CNN.load_from_checkpoint(trained_run / "checkpoints" / "last.ckpt", weights_only=True).eval()
    images = torch.stack([load_as_mnist(path) for path in files]).float().div(255).unsqueeze(1)
    with torch.no_grad():
        probability, digit = torch.softmax(model(images), dim=1).max(dim=1)
    assert printed == [f"{path}: digit {d} (probability {p:.4f})" for path, d, p in
                       zip(files, digit.tolist(), probability.tolist())]


def test_predict_on_a_non_image_names_the_file(trained_run, tmp_path, capsys):
    bad = tmp_path / "scan.png"
    bad.write_bytes(b"%PDF-1.4 not an image")
    assert main(["predict", "--config", str(trained_run / "config.yaml"), "--ckpt_path",
                 str(trained_run / "checkpoints" / "last.ckpt"), "--data.predict_files", f"[{bad}]"]) == 1
    assert "scan.png: not an image file" in capsys.readouterr().err


@pytest.mark.parametrize("experiment", EXPERIMENTS, ids=lambda path: path.stem)
def test_every_mnist_experiment_builds_its_model_and_data(experiment, tmp_path):
    cli = build_cli(["--config", str(experiment), "--trainer.default_root_dir", str(tmp_path)], run=False)
    assert cli.config["seed_everything"] == 42
    hparams = cli.datamodule.hparams
    assert hparams.batch_size == 128 and hparams.labels == "one_hot"
    # x/255 as the course; the Fashion-MNIST MLP standardizes instead (its YAML says why: the 88% target)
    assert hparams.normalization == ("standard" if experiment.name == "fashion_mnist_mlp.yaml" else "unit")
    assert hparams.layout == ("image" if isinstance(cli.model, CNN) else "flat")
