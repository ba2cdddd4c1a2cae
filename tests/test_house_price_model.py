"""The house-price workflow end to end through the real CLI, against an independent NumPy reference."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import torch

from helpers import QUIET, experiment
from ptref.cli import main
from ptref.data import HousePriceDataModule
from ptref.models import LinearRegression

REPO = Path(__file__).resolve().parents[1]


def fit(out: Path, *extra: str, config: str = "house_price.yaml") -> dict[str, np.ndarray]:
    """Run ``ptref fit`` and return its per-epoch metrics read back from the CSV log."""
    main(["fit", "--config", experiment(config), "--trainer.default_root_dir", str(out), *QUIET, *extra])
    # Lightning writes train_loss and the model writes w1, w2, b on rows of their own: merge them by step.
    by_step: dict[int, dict[str, float]] = {}
    with (out / "version_0" / "metrics.csv").open() as handle:
        for row in csv.DictReader(handle):
            values = {key: float(value) for key, value in row.items() if value and key not in ("epoch", "step")}
            by_step.setdefault(int(row["step"]), {}).update(values)
    rows = [by_step[step] for step in sorted(by_step)]
    return {key: np.array([row[key] for row in rows]) for key in rows[0]}


def numpy_gradient_descent(csv_path: Path, epochs: int = 500, lr: float = 0.01):
    """The course's TF1 graph, written again in float32 NumPy: X = [1, z(area), z(bedrooms)], W = 0, half-MSE."""
    raw = np.loadtxt(csv_path, delimiter=",")
    z = ((raw - raw.mean(0)) / raw.std(0, ddof=1)).astype(np.float32)
    X = np.concatenate([np.ones((len(z), 1), np.float32), z[:, :-1]], axis=1)
    y = z[:, -1:]
    W = np.zeros((X.shape[1], 1), np.float32)
    losses, weights = [], []
    for _ in range(epochs):
        error = X @ W - y
        losses.append(float((error.T @ error).item() / (2 * len(X))))
        W = W - np.float32(lr) * (X.T @ error) / np.float32(len(X))
        weights.append(W[:, 0].copy())
    return np.array(losses), np.array(weights)


@pytest.fixture(scope="module")
def course_run(tmp_path_factory, house_price_csv):
    out = tmp_path_factory.mktemp("course")
    return house_price_csv, out, fit(out, "--data.csv_path", str(house_price_csv))


def test_cli_reproduces_the_course_trajectory_against_numpy(course_run):
    csv_path, _, metrics = course_run
    losses, weights = numpy_gradient_descent(csv_path)
    # float32 GD in two implementations: each step rounds differently (~1 ulp); over 500 contracting
    # steps the drift stays far below 1e-5 relative. b is exactly 0 in exact arithmetic (centred data),
    # so it is compared absolutely: both sides keep it at float32 round-off (~1e-10).
    np.testing.assert_allclose(metrics["train_loss"], losses, rtol=1e-5)
    np.testing.assert_allclose(metrics["w1"], weights[:, 1], rtol=1e-5)
    np.testing.assert_allclose(metrics["w2"], weights[:, 2], rtol=1e-5, atol=1e-8)
    np.testing.assert_allclose(metrics["b"], weights[:, 0], atol=1e-7)


def test_course_figures_are_reached(course_run):
    _, out, metrics = course_run
    assert len(metrics["train_loss"]) == 500
    assert metrics["train_loss"][-1] == pytest.approx(0.132, abs=5e-4)
    assert metrics["w1"][-1] == pytest.approx(0.830, abs=1e-3)
    assert metrics["w2"][-1] == pytest.approx(0.0008, abs=1e-4)
    for figure in ("loss_curve.png", "fit.png"):
        assert (out / "version_0" / figure).stat().st_size > 1000


def test_bias_column_and_nn_linear_give_the_same_numbers(course_run, tmp_path):
    csv_path, _, with_column = course_run
    with_linear = fit(tmp_path, "--data.csv_path", str(csv_path), "--model.bias_column", "false")
    for key in ("train_loss", "w1", "w2"):
        np.testing.assert_allclose(with_linear[key], with_column[key], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(with_linear["b"], with_column["b"], atol=1e-8)


def test_same_seed_gives_identical_numbers(tmp_path):
    args = ("--trainer.max_epochs", "30", "--data.batch_size", "8", "--data.shuffle", "true", "--seed_everything", "7")
    first = fit(tmp_path / "a", *args)
    second = fit(tmp_path / "b", *args)
    for key in first:
        assert np.array_equal(first[key], second[key]), key


def test_the_configs_log_every_n_steps_0_keeps_every_logged_value(tmp_path):
    """The experiment sets ``log_every_n_steps: 0`` (its values are logged once an epoch): the CSV holds what it
    holds with per-step logging on, minibatches included."""
    args = ("--trainer.max_epochs", "12", "--data.batch_size", "8", "--seed_everything", "3")
    configured = fit(tmp_path / "a", *args)
    every_step = fit(tmp_path / "b", *args, "--trainer.log_every_n_steps", "1")
    assert configured.keys() == every_step.keys() == {"train_loss", "w1", "w2", "b"}
    for key in every_step:
        assert len(configured[key]) == 12 and np.array_equal(configured[key], every_step[key]), key


def test_predict_returns_dollars_from_the_checkpoint(course_run, capsys):
    csv_path, out, _ = course_run
    checkpoint = next((out / "version_0" / "checkpoints").glob("*.ckpt"))
    capsys.readouterr()
    main([
        "predict", "--config", str(REPO / "experiments" / "house_price.yaml"), *QUIET,
        "--trainer.default_root_dir", str(out), "--trainer.logger", "false",
        "--data.csv_path", str(csv_path), "--data.predict_inputs", "[[2104, 3], [1600, 3]]",
        "--ckpt_path", str(checkpoint),
    ])
    printed = capsys.readouterr().out
    state = torch.load(checkpoint, weights_only=True)["state_dict"]
    W = state["W"].double().numpy()[:, 0]
    raw = np.loadtxt(csv_path, delimiter=",")
    mean, std = raw.mean(0), raw.std(0, ddof=1)
    for area, bedrooms in ((2104, 3), (1600, 3)):
        z = (np.array([area, bedrooms]) - mean[:2]) / std[:2]
        dollars = (W[0] + z @ W[1:]) * std[2] + mean[2]
        assert f"area={area}, bedrooms={bedrooms} → price ${dollars:,.0f}" in printed


def test_a_model_built_for_other_data_is_refused(house_price_csv):
    import lightning.pytorch as pl

    trainer = pl.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False)
    with pytest.raises(ValueError, match="the model has 1 feature"):
        trainer.fit(LinearRegression(n_features=1), HousePriceDataModule(csv_path=str(house_price_csv)))


def test_half_mse_is_half_of_mse():
    half, full = LinearRegression(n_features=2), LinearRegression(n_features=2, loss="mse")
    prediction, target = torch.randn(5, 1), torch.randn(5, 1)
    expected = ((prediction - target) ** 2).sum() / (2 * 5)
    assert torch.allclose(half.loss(prediction, target), expected)
    assert torch.allclose(full.loss(prediction, target), 2 * expected)


def test_keras_init_is_glorot_uniform_kernel_and_zero_bias():
    torch.manual_seed(0)
    for bias_column in (True, False):
        model = LinearRegression(n_features=2, init="keras", bias_column=bias_column)
        coefficients = model.coefficients()
        limit = np.sqrt(6 / (2 + 1))  # glorot_uniform, fan_in=2, fan_out=1
        assert coefficients["b"] == 0.0
        assert 0 < abs(coefficients["w1"]) <= limit and 0 < abs(coefficients["w2"]) <= limit


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="loss must be one of"):
        LinearRegression(n_features=2, loss="mae")
    with pytest.raises(ValueError, match="batch_size"):
        HousePriceDataModule(batch_size=0)
