"""The course texts' own workflows (``experiments/texts/``): each builds the text's network, data and optimizer,
and the book's Dense(1) on y = 2x learns w ≈ 2 through the CLI."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch


from ptref.cli import PtrefCLI, build_cli, main
from ptref.data import LineDataModule
from ptref.models import LinearRegression

REPO = Path(__file__).resolve().parents[1]
TEXTS = REPO / "experiments" / "texts"

# name -> (parameters: the text's layer sizes, weights + biases; batch size; normalization; labels; optimizer)
MNIST_TEXTS = {
    "mnist_pytorch_mlp_t10k": (784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10, 64, "symmetric", "index",
                               ("torch.optim.Adam", {"lr": 0.001})),
    "mnist_keras_simplenet_t10k": (784 * 64 + 64 + 64 * 10 + 10, 32, "unit", "one_hot", None),
    "mnist_keras_convnet_t10k": (9 * 32 + 32 + 9 * 32 * 64 + 64 + 5 * 5 * 64 * 128 + 128 + 128 * 10 + 10, 32, "unit",
                                 "one_hot", None),
    "mnist_deeper_cnn_sgd_t10k": (93_322, 32, "unit", "one_hot", ("ptref.optim.SGD", {"learning_rate": 0.01})),
}


def build(config: Path, tmp_path: Path) -> PtrefCLI:
    return build_cli(["--config", str(config), "--trainer.default_root_dir", str(tmp_path)], run=False)


def test_every_text_workflow_is_listed_here() -> None:
    assert sorted(path.stem for path in TEXTS.glob("*.yaml")) == sorted([*MNIST_TEXTS, "line_y_equals_2x"])


@pytest.mark.parametrize("name", MNIST_TEXTS)
def test_every_mnist_text_workflow_builds_its_model_data_and_optimizer(name: str, tmp_path: Path) -> None:
    parameters, batch_size, normalization, labels, optimizer = MNIST_TEXTS[name]
    cli = build(TEXTS / f"{name}.yaml", tmp_path)
    assert cli.config["seed_everything"] == 42
    assert sum(p.numel() for p in cli.model.parameters()) == parameters
    hparams = cli.datamodule.hparams
    assert (hparams.batch_size, hparams.normalization, hparams.labels) == (batch_size, normalization, labels)
    assert (hparams.train_files, hparams.test_size) == ("t10k", 2000)
    if optimizer is None:  # the model's default: Keras's Adam, lr 1e-3 (optimizer='adam')
        assert "optimizer" not in cli.config or cli.config["optimizer"] is None
        assert cli.model.hparams.learning_rate == 0.001
    else:
        class_path, init_args = optimizer
        assert cli.config["optimizer"]["class_path"] == class_path
        assert {k: cli.config["optimizer"]["init_args"][k] for k in init_args} == init_args
        assert cli.config["optimizer"]["init_args"].get("momentum", 0.0) == 0.0


def test_pytorch_tutorial_data_are_normalized_to_minus_one_one(tmp_path: Path, mnist_t10k_dir: Path) -> None:
    cli = build(TEXTS / "mnist_pytorch_mlp_t10k.yaml", tmp_path)
    images = torch.tensor([[[0, 255]]], dtype=torch.uint8)
    assert cli.datamodule.normalize(images).tolist() == [[-1.0, 1.0]]  # (x/255 − 0.5)/0.5: exact at 0 and 255


def test_line_data_lie_on_y_equals_2x() -> None:
    data = LineDataModule(n=50, seed=3)
    assert data.features.shape == (50, 1)
    assert torch.equal(data.targets, 2 * data.features)  # doubling is exact in float32
    assert -1 <= data.features.min() and data.features.max() <= 1


def test_the_books_dense_1_learns_w_2_and_b_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["fit", "--config", str(TEXTS / "line_y_equals_2x.yaml"), "--trainer.default_root_dir", str(tmp_path),
          "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false"])
    model = LinearRegression.load_from_checkpoint(tmp_path / "version_0" / "checkpoints" / "last.ckpt",
                                                  weights_only=True)
    learned = model.coefficients()
    # 3,200 SGD steps on exact data shrink w's and b's initial errors by far more than float32 can show (each
    # epoch multiplies them by at most (1 − 0.01·2/3)^32 ≈ 0.81): what is left is float32 rounding near 2
    assert learned["w1"] == pytest.approx(2.0, rel=1e-5, abs=1e-6)
    assert learned["b"] == pytest.approx(0.0, abs=1e-5)
    assert "learned (raw units):" in capsys.readouterr().out


def test_every_mnist_text_workflow_has_an_acceptance_bound() -> None:
    spec = importlib.util.spec_from_file_location("measure_mnist", REPO / "scripts" / "measure_mnist.py")
    measure_mnist = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(measure_mnist)
    for name in MNIST_TEXTS:
        assert 0.9 < measure_mnist.ACCEPTANCE[name] < 1, name
