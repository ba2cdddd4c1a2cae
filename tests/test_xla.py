"""Every workflow trained a few steps on torch_xla's CPU PJRT device matches the same run on plain CPU.

Runs only in the XLA environment (``.ci/xla``: torch 2.9 + torch-xla 2.9 in their own virtualenv) as
``pytest -m xla tests/test_xla.py``; the default run deselects the ``xla`` mark (pyproject addopts).
Both runs go through the real CLI (``ptref fit ... --trainer.accelerator xla_cpu`` vs ``cpu``) and are
compared epoch by epoch from their ``metrics.csv``.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from helpers import FEW_SGD_STEPS as FEW_BATCHES
from helpers import fit_and_read

pytestmark = pytest.mark.xla
# (experiment, extra flags). The CNN preset without Dropout: XLA draws its own random masks, so a
# Dropout network cannot match CPU step for step (Dropout itself runs on XLA). And PyTorch's init for it:
# from the Keras init this trajectory meets a conv pre-activation at ~0 by step 6, whose ReLU round-off
# flips on one side only; that changes a gradient term outright (weights then differ by ~1e-4, measured).
WORKFLOWS = {
    "house_price": ("house_price.yaml", ["--trainer.max_epochs", "20"]),
    "house_price_1d": ("house_price_1d.yaml", ["--trainer.max_epochs", "20"]),
    "house_price_minibatch": ("house_price.yaml", ["--trainer.max_epochs", "5", "--data.batch_size", "16"]),
    "mnist_softmax": ("mnist_softmax_t10k.yaml", FEW_BATCHES),
    "mnist_mlp": ("mnist_mlp_t10k.yaml", FEW_BATCHES),
    "mnist_cnn": ("mnist_cnn_t10k.yaml", [*FEW_BATCHES, "--model.layers", "convnet", "--model.init", "torch"]),
}


@pytest.fixture(scope="module", autouse=True)
def xla_device_first():
    """Create the XLA device before any CPU backward: the other order trips an autograd assert in torch_xla 2.9."""
    os.environ.setdefault("PJRT_DEVICE", "CPU")
    import torch_xla  # only the XLA environment has it

    return torch_xla.device()


@pytest.mark.parametrize("workflow", list(WORKFLOWS))
def test_training_on_the_xla_device_matches_cpu(workflow, tmp_path):
    config, flags = WORKFLOWS[workflow]
    xla_metrics, xla_weights = fit_and_read(tmp_path / "xla", config, "--trainer.accelerator", "xla_cpu", *flags)
    cpu_metrics, cpu_weights = fit_and_read(tmp_path / "cpu", config, "--trainer.accelerator", "cpu", *flags)
    assert xla_metrics.keys() == cpu_metrics.keys() and xla_weights.keys() == cpu_weights.keys()
    # XLA compiles its own float32 kernels (other summation order, fused ops), so values differ by a few
    # ulp: measured here <= 3.3e-7 relative on losses and weights of normal size; rtol 2e-6 is ~16 ulp.
    # Values that are 0 in exact arithmetic (the house-price bias on centred data) sit at round-off,
    # <= 1e-9: atol 1e-8. Weights that SGD drove close to 0 carry the round-off of their larger updates
    # (measured <= 7.5e-9 absolute): atol 5e-8, ~10 ulp at the weights' initial size (~0.03).
    # Accuracy counts argmaxes: round-off may flip one near-tie prediction in a 128-image batch (seen on
    # the CNN with Keras init), while losses and weights agree to round-off.
    for key in cpu_metrics:
        atol = 1 / 128 if "acc" in key else 1e-8
        np.testing.assert_allclose(xla_metrics[key], cpu_metrics[key], rtol=2e-6, atol=atol, err_msg=key)
    for name in cpu_weights:
        np.testing.assert_allclose(xla_weights[name], cpu_weights[name], rtol=2e-6, atol=5e-8, err_msg=name)


def test_the_xla_run_really_used_the_xla_device(tmp_path):
    import lightning.pytorch as pl

    from ptref.data import HousePriceDataModule
    from ptref.devices import XLACPUAccelerator
    from ptref.models import LinearRegression

    devices_seen = []

    class RecordDevice(pl.Callback):
        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            devices_seen.append((batch[0].device.type, next(pl_module.parameters()).device.type))

    trainer = pl.Trainer(accelerator=XLACPUAccelerator(), devices=1, max_epochs=2, logger=False,
                         enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False,
                         callbacks=[RecordDevice()], default_root_dir=tmp_path)
    trainer.fit(LinearRegression(n_features=2), HousePriceDataModule())
    assert type(trainer.strategy).__name__ == "SingleDeviceXLAStrategy"
    assert devices_seen == [("xla", "xla")] * 2


def test_auto_leaves_the_cpu_pjrt_device_opt_in_and_says_how():
    from ptref import devices

    probe = devices.probe_tpu()  # the real probe, torch_xla installed, no TPU chip: must not hang
    assert not probe.available and "--trainer.accelerator xla_cpu" in probe.reason
    assert devices.choose_auto().name == "cpu"
