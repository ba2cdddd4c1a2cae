"""Same seed, same numbers: every MNIST preset trained twice through the CLI ends bit-identical on CPU."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ptref.cli import main

REPO = Path(__file__).resolve().parents[1]

# shuffling, a seeded validation split and (in the CNNs) dropout all draw from the seeded RNG
EXPERIMENTS = ["mnist_softmax_t10k", "mnist_mlp_t10k", "mnist_cnn_t10k", "mnist_deeper_cnn_momentum_t10k"]


def train(root: Path, experiment: str, data_dir: Path, seed: int) -> dict[str, torch.Tensor]:
    main(["fit", "--config", str(REPO / "experiments" / f"{experiment}.yaml"), "--seed_everything", str(seed),
          "--data.data_dir", str(data_dir), "--data.subset", "192", "--data.val_size", "64",
          "--data.batch_size", "32", "--trainer.max_epochs", "2", "--trainer.limit_val_batches", "1",
          "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false",
          "--trainer.default_root_dir", str(root)])
    checkpoint = next((root / "version_0" / "checkpoints").glob("last*.ckpt"))
    return torch.load(checkpoint, weights_only=True)["state_dict"]


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_same_seed_gives_bit_identical_weights_and_another_seed_does_not(tmp_path, experiment, mnist_t10k_dir):
    first = train(tmp_path / "a", experiment, mnist_t10k_dir, seed=3)
    second = train(tmp_path / "b", experiment, mnist_t10k_dir, seed=3)
    other = train(tmp_path / "c", experiment, mnist_t10k_dir, seed=4)
    assert first.keys() == second.keys()
    for name in first:
        assert torch.equal(first[name], second[name]), name
    assert any(not torch.equal(first[name], other[name]) for name in first)
