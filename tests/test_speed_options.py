"""The speed switches: ``--trainer.precision bf16-mixed``, ``ChannelsLast`` (on by default), ``Compile``.

All three must leave the math alone: same training within the precision each one implies.
On a GPU the same switches are exercised (and timed) by ``pytest -m cuda tests/test_cuda.py``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import pytest
import torch

from helpers import MNIST_T10K
from ptref.callbacks.speed import ChannelsLast, Compile
from ptref.cli import main
from ptref.data import MNISTDataModule
from ptref.models import CNN, MLP

REPO = Path(__file__).resolve().parents[1]
STEPS = ["--trainer.max_epochs", "1", "--trainer.limit_train_batches", "5", "--trainer.limit_val_batches", "0",
         "--trainer.log_every_n_steps", "1", "--trainer.enable_progress_bar", "false",
         "--trainer.enable_model_summary", "false",
         "--data.data_dir", MNIST_T10K]


def step_losses(out: Path, config: str, *flags: str) -> np.ndarray:
    main(["fit", "--config", str(REPO / "experiments" / config), "--trainer.default_root_dir", str(out),
          *STEPS, *flags])
    with (out / "version_0" / "metrics.csv").open() as handle:
        return np.array([float(row["train_loss_step"]) for row in csv.DictReader(handle) if row["train_loss_step"]])


@pytest.mark.parametrize("config", ["mnist_softmax_t10k.yaml", "mnist_mlp_t10k.yaml", "mnist_cnn_t10k.yaml"])
def test_bf16_mixed_trains_close_to_float32(config, tmp_path):
    full = step_losses(tmp_path / "fp32", config)
    mixed = step_losses(tmp_path / "bf16", config, "--trainer.precision", "bf16-mixed")
    assert len(mixed) == len(full) == 5
    assert not np.array_equal(mixed, full)  # bf16 really ran (same numbers would mean it was ignored)
    # bf16 keeps 8 significant bits (~0.4% per rounding, partly averaging out): measured here, the step
    # losses of the first 8 steps stay within 0.17% of float32 (CNN; MLP 0.05%, softmax 0.006%).
    np.testing.assert_allclose(mixed, full, rtol=1e-2)


def tiny_fit(model: pl.LightningModule, steps: int = 3, callbacks: list[pl.Callback] = ()) -> None:
    data = MNISTDataModule(data_dir=MNIST_T10K, train_files="t10k", test_size=2000, layout="image", batch_size=32)
    trainer = pl.Trainer(accelerator="cpu", max_steps=steps, limit_val_batches=0, logger=False,
                         callbacks=list(callbacks), enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False)
    pl.seed_everything(0)
    trainer.fit(model, data)


def test_channels_last_cnn_trains_like_the_default_layout():
    torch.manual_seed(0)
    default = CNN(layers="convnet")
    nhwc = CNN(layers="convnet")
    nhwc.load_state_dict(default.state_dict())
    seen = []
    nhwc.net[1].register_forward_hook(  # the first pool's output, between the convolutions
        lambda module, args, out: seen.append(out.is_contiguous(memory_format=torch.channels_last)))
    tiny_fit(default, callbacks=[ChannelsLast(enabled=False)])
    tiny_fit(nhwc, callbacks=[ChannelsLast()])
    assert seen and all(seen)
    # Same math in another memory order: oneDNN picks other kernels (other summation order); 3 Adam steps
    # keep the weights within float32 round-off of each other (measured <= 1e-7).
    for name, value in default.state_dict().items():
        if value.is_floating_point():
            torch.testing.assert_close(nhwc.state_dict()[name], value, rtol=1e-5, atol=1e-6, msg=name)


def test_compile_callback_sends_the_model_through_torch_compile():
    """Checks the wiring with dynamo's counting backend (real Inductor compiles take ~20 s on this CPU)."""
    from torch._dynamo.testing import CompileCounter

    counter = CompileCounter()
    torch.manual_seed(0)
    eager = MLP(hidden_sizes="seed")
    compiled = MLP(hidden_sizes="seed")
    compiled.load_state_dict(eager.state_dict())
    Compile(backend=counter).setup(None, compiled, "fit")
    assert list(compiled.state_dict()) == list(eager.state_dict())  # checkpoints stay interchangeable
    x = torch.rand(8, 784)
    # compiled, Dense's product is ATen's (MKL), eager it is oneDNN's: float32 round-off of 784-long dot products
    torch.testing.assert_close(compiled(x), eager(x), rtol=1e-5, atol=1e-6)
    assert counter.frame_count >= 1
