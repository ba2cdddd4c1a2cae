"""Every workflow trained a few steps on torch_xla's CPU PJRT device matches the same run on plain CPU.

Runs only in the XLA environment (``.ci/xla``: torch 2.9 + torch-xla 2.9 in their own virtualenv) as
``pytest -m xla tests/test_xla.py``; the default run deselects the ``xla`` mark (pyproject addopts).
Both runs go through the real CLI (``ptref fit ... --trainer.accelerator xla_cpu`` vs ``cpu``) and are
compared epoch by epoch from their ``metrics.csv``.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pytest

from ptref.cli import main

pytestmark = pytest.mark.xla

REPO = Path(__file__).resolve().parents[1]
QUIET = ["--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false"]

# (experiment, extra flags): a few epochs of each workflow, mini-batched where it has batches.
WORKFLOWS = {
    "house_price": ("house_price.yaml", ["--trainer.max_epochs", "20"]),
    "house_price_1d": ("house_price_1d.yaml", ["--trainer.max_epochs", "20"]),
    "house_price_minibatch": ("house_price.yaml", ["--trainer.max_epochs", "5", "--data.batch_size", "16"]),
}


@pytest.fixture(scope="module", autouse=True)
def xla_device_first():
    """Create the XLA device before any CPU backward: the other order trips an autograd assert in torch_xla 2.9."""
    os.environ.setdefault("PJRT_DEVICE", "CPU")
    import torch_xla  # noqa: PLC0415 - only the XLA environment has it

    return torch_xla.device()


def fit_metrics(out: Path, accelerator: str, config: str, flags: list[str]) -> dict[str, np.ndarray]:
    main(["fit", "--config", str(REPO / "experiments" / config), "--trainer.default_root_dir", str(out),
          "--trainer.accelerator", accelerator, *QUIET, *flags])
    with (out / "version_0" / "metrics.csv").open() as handle:
        rows = [row for row in csv.DictReader(handle) if row.get("train_loss")]
    return {key: np.array([float(row[key]) for row in rows]) for key in rows[0] if key not in ("epoch", "step")}


@pytest.mark.parametrize("workflow", list(WORKFLOWS))
def test_training_on_the_xla_device_matches_cpu(workflow, tmp_path):
    config, flags = WORKFLOWS[workflow]
    on_xla = fit_metrics(tmp_path / "xla", "xla_cpu", config, flags)
    on_cpu = fit_metrics(tmp_path / "cpu", "cpu", config, flags)
    assert on_xla.keys() == on_cpu.keys() and len(on_xla["train_loss"]) == len(on_cpu["train_loss"])
    # XLA compiles its own float32 kernels (other summation order, fused ops): values differ by a few ulp
    # (measured here: <= 3.3e-7 relative over 20 epochs); 2e-6 is ~16 ulp. b stays at float32 round-off
    # around 0 on centred data (measured <= 1e-9), so it is compared absolutely.
    for key in on_cpu:
        if key == "b":
            np.testing.assert_allclose(on_xla[key], on_cpu[key], rtol=0, atol=1e-8, err_msg=key)
        else:
            np.testing.assert_allclose(on_xla[key], on_cpu[key], rtol=2e-6, err_msg=key)


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
    trainer.fit(LinearRegression(), HousePriceDataModule())
    assert type(trainer.strategy).__name__ == "SingleDeviceXLAStrategy"
    assert devices_seen == [("xla", "xla")] * 2
