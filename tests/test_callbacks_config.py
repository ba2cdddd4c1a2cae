"""Reporting is configuration: the figures and printers are the callbacks an experiment YAML lists, and the model's
number of features is linked from the data, not repeated."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml
from helpers import QUIET, experiment
from lightning.pytorch import LightningModule

from ptref.cli import build_cli, main
from ptref.data.house_price import read_house_csv, standardize
from ptref.models import CNN, MLP, CaptchaCNN, LinearRegression, SoftmaxRegression

MNIST_FIGURES = {"label_distribution.png", "training_curves.png"}
HOUSE_FIGURES = {"loss_curve.png", "fit.png"}


def without_reporting(config: str, folder: Path) -> str:
    """A second ``--config`` that keeps the experiment's checkpoint callback and drops every other callback."""
    callbacks = yaml.safe_load(Path(experiment(config)).read_text())["trainer"]["callbacks"]
    kept = [callback for callback in callbacks if callback["class_path"].endswith("ModelCheckpoint")]
    path = folder / "no_reporting.yaml"
    path.write_text(yaml.safe_dump({"trainer": {"callbacks": kept}}))
    return str(path)


def pngs(run: Path) -> set[str]:
    return {path.name for path in run.glob("*.png")}


@pytest.mark.parametrize("model", [SoftmaxRegression, MLP, CNN, LinearRegression, CaptchaCNN])
def test_models_choose_no_callbacks_of_their_own(model):
    assert model.configure_callbacks is LightningModule.configure_callbacks


def test_an_mnist_run_without_its_figure_callbacks_trains_and_writes_no_figure(tmp_path, mnist_t10k_dir):
    common = ["--config", experiment("mnist_softmax_t10k.yaml"), "--data.data_dir", str(mnist_t10k_dir),
              "--data.subset", "256", "--trainer.max_epochs", "1", *QUIET]
    assert main(["fit", *common, "--trainer.default_root_dir", str(tmp_path / "shipped")]) is None
    assert MNIST_FIGURES <= pngs(tmp_path / "shipped" / "version_0")
    off = without_reporting("mnist_softmax_t10k.yaml", tmp_path)
    assert main(["fit", *common, "--config", off, "--trainer.default_root_dir", str(tmp_path / "off")]) is None
    run = tmp_path / "off" / "version_0"
    assert (run / "checkpoints" / "last.ckpt").is_file()  # it trained
    assert pngs(run) == set()


def test_a_house_price_run_without_its_report_trains_and_writes_no_figure(tmp_path, house_price_csv, capsys):
    common = ["--config", experiment("house_price.yaml"), "--data.csv_path", str(house_price_csv),
              "--trainer.max_epochs", "5", *QUIET]
    assert main(["fit", *common, "--trainer.default_root_dir", str(tmp_path / "shipped")]) is None
    assert HOUSE_FIGURES <= pngs(tmp_path / "shipped" / "version_0")
    assert "learned (dollars)" in capsys.readouterr().out
    off = without_reporting("house_price.yaml", tmp_path)
    assert main(["fit", *common, "--config", off, "--trainer.default_root_dir", str(tmp_path / "off")]) is None
    run = tmp_path / "off" / "version_0"
    assert (run / "checkpoints" / "last.ckpt").is_file()
    assert pngs(run) == set()
    assert "learned" not in capsys.readouterr().out


def test_the_model_takes_its_number_of_features_from_the_data(tmp_path, house_price_csv):
    area_only = tmp_path / "area_price.csv"
    area_only.write_text("".join(line.split(",")[0] + "," + line.split(",")[2] for line in
                                 house_price_csv.read_text().splitlines(keepends=True)))
    cli = build_cli(["--config", experiment("house_price.yaml"), "--data.csv_path", str(area_only),
                     "--trainer.logger", "false"], run=False)
    assert cli.model.hparams.n_features == cli.datamodule.n_features == 1
    assert cli.model.W.shape == (2, 1)  # built up front: --optimizer sees the parameters


def test_the_learned_line_in_dollars_is_the_least_squares_line_of_the_raw_data(house_price_csv):
    """Fit exactly on z-scores, convert with the data's column statistics; compare with a fit on raw units."""
    table = read_house_csv(house_price_csv)
    z, stats = standardize(table, ("area", "bedrooms", "price"), "test")
    ones = torch.ones(len(table), 1, dtype=torch.float64)
    w_z = torch.linalg.lstsq(torch.cat([ones, z[:, :2]], 1), z[:, 2:]).solution.view(-1)
    a, c = stats.raw_line(w_z[1:], w_z[:1])
    w_raw = torch.linalg.lstsq(torch.cat([ones, table[:, :2]], 1), table[:, 2:]).solution.view(-1)
    # float64 least squares on both sides; raw columns span ~1e6, so a few 1e-9 of relative round-off
    torch.testing.assert_close(torch.cat([c, a]), w_raw, rtol=1e-8, atol=1e-6)
    torch.testing.assert_close(stats.raw(z), table, rtol=1e-12, atol=1e-9)  # the round trip


def test_a_model_predicts_in_dollars_with_the_statistics_it_was_trained_on(house_price_csv):
    table = read_house_csv(house_price_csv)
    z, stats = standardize(table, ("area", "bedrooms", "price"), "test")
    model = LinearRegression(n_features=2)
    model.column_mean.copy_(stats.mean)
    model.column_std.copy_(stats.std)
    model.trained.fill_(True)
    with torch.no_grad():
        model.W.copy_(torch.tensor([[0.1], [0.8], [0.05]]))
        predicted = model.predict_step((table[:3, :2].float(),), 0).double().view(-1)
    weights = torch.tensor([0.8, 0.05], dtype=torch.float64)
    by_hand = (0.1 + z[:3, :2] @ weights) * table[:, 2].std() + table[:, 2].mean()
    torch.testing.assert_close(predicted, by_hand, rtol=1e-6, atol=0.0)  # float32 model: ~1e-7 relative per op
