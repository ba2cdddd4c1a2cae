"""No workflow computes in float64 while training: MPS has no float64 at all, TPUs demote it silently.

Each workflow trains a couple of steps through the real CLI on CPU while a dispatch mode records the
dtype of every tensor each op receives or returns. Data preparation (z-scoring the house-price CSV in
float64, before the Trainer starts) happens on the CPU and is not part of what runs on a device.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

from helpers import MNIST_T10K
from ptref.cli import main

REPO = Path(__file__).resolve().parents[1]
FEW = ["--trainer.max_epochs", "1", "--trainer.limit_train_batches", "2", "--trainer.limit_val_batches", "1"]
WORKFLOWS = {
    "house_price": ("house_price.yaml", ["--trainer.max_epochs", "2"]),
    "mnist_softmax": ("mnist_softmax_t10k.yaml", [*FEW, "--data.data_dir", MNIST_T10K]),
    "mnist_mlp": ("mnist_mlp_t10k.yaml", [*FEW, "--data.data_dir", MNIST_T10K]),
    "mnist_cnn": ("mnist_cnn_t10k.yaml", [*FEW, "--data.data_dir", MNIST_T10K]),
}


class Float64Recorder(TorchDispatchMode):
    """Remembers every op that touched a float64 tensor."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: set[str] = set()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for value in tree_leaves((args, kwargs, out)):
            if isinstance(value, torch.Tensor) and value.dtype == torch.float64:
                self.ops.add(str(func))
        return out



@pytest.mark.parametrize("workflow", list(WORKFLOWS))
def test_training_runs_no_float64_op(workflow, tmp_path, monkeypatch):
    import lightning.pytorch as pl

    config, flags = WORKFLOWS[workflow]
    recorder = Float64Recorder()
    run_stage = pl.Trainer._run_stage

    def recorded_run_stage(trainer):  # the training loop itself: what MPS/XLA would execute
        with recorder:
            return run_stage(trainer)

    monkeypatch.setattr(pl.Trainer, "_run_stage", recorded_run_stage)
    main(["fit", "--config", str(REPO / "experiments" / config), "--trainer.default_root_dir", str(tmp_path),
          "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false", *flags])
    assert recorder.ops == set()


def test_the_recorder_sees_a_float64_op():
    recorder = Float64Recorder()
    with recorder:
        torch.ones(2, dtype=torch.float64).sum()
    assert recorder.ops
