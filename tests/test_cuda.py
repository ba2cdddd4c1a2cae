"""Every workflow on a CUDA GPU: the same training as on CPU, and the GPU speed switches.

Deselected by default (pyproject addopts ``-m "not cuda and not xla"``); run where a GPU is present with
``pytest -m cuda tests/test_cuda.py``. Without a GPU every test here fails (never skips): asking for the
CUDA tests on a machine without one is a mistake to be seen. Not yet run on a GPU (none was lent while
they were written): the tolerances below are first settings, to be confirmed on the first GPU run.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import FEW_SGD_STEPS as FEW_BATCHES
from helpers import MNIST_T10K as MNIST
from helpers import fit_and_read as fit

from ptref import devices

pytestmark = pytest.mark.cuda
WORKFLOWS = {
    "house_price": ("house_price.yaml", ["--trainer.max_epochs", "20"]),
    "mnist_softmax": ("mnist_softmax_t10k.yaml", FEW_BATCHES),
    "mnist_mlp": ("mnist_mlp_t10k.yaml", FEW_BATCHES),
    # PyTorch init: from the Keras init the trajectory meets a ReLU kink that round-off flips (tests/test_xla.py).
    "mnist_cnn": ("mnist_cnn_t10k.yaml", [*FEW_BATCHES, "--model.layers", "convnet", "--model.init", "torch"]),
}


@pytest.fixture(autouse=True)
def gpu(monkeypatch):
    if not torch.cuda.is_available():
        pytest.fail("pytest -m cuda needs a CUDA GPU, and torch sees none (see `ptref env`)")
    # Exact float32 for comparisons with CPU: no TF32 in cuBLAS/cuDNN, deterministic cuDNN kernels.
    monkeypatch.setattr(torch.backends.cuda.matmul, "allow_tf32", False)
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)
    monkeypatch.setattr(torch.backends.cudnn, "deterministic", True)


def test_auto_picks_the_gpu():
    assert devices.choose_auto().name == "cuda"


@pytest.mark.parametrize("workflow", list(WORKFLOWS))
def test_training_on_the_gpu_matches_cpu(workflow, tmp_path):
    config, flags = WORKFLOWS[workflow]
    gpu_metrics, gpu_weights = fit(tmp_path / "cuda", config, "--trainer.accelerator", "cuda", *flags)
    cpu_metrics, cpu_weights = fit(tmp_path / "cpu", config, "--trainer.accelerator", "cpu", *flags)
    # Other kernels, other summation orders: a few ulp per value per step (first setting, unmeasured).
    # Accuracy counts argmaxes: round-off may flip one near-tie prediction per 128-image batch.
    for key in cpu_metrics:
        atol = 1 / 128 if "acc" in key else 1e-7
        np.testing.assert_allclose(gpu_metrics[key], cpu_metrics[key], rtol=1e-5, atol=atol, err_msg=key)
    for name in cpu_weights:
        np.testing.assert_allclose(gpu_weights[name], cpu_weights[name], rtol=1e-5, atol=1e-7, err_msg=name)


@pytest.mark.parametrize("precision", ["bf16-mixed", "16-mixed"])
def test_mixed_precision_trains_the_course_cnn_close_to_float32(precision, tmp_path):
    flags = ["--trainer.accelerator", "cuda", "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "20",
             "--trainer.limit_val_batches", "2", "--trainer.log_every_n_steps", "1", "--data.data_dir", MNIST]
    full, _ = fit(tmp_path / "fp32", "mnist_cnn_t10k.yaml", *flags)
    mixed, _ = fit(tmp_path / precision, "mnist_cnn_t10k.yaml", *flags, "--trainer.precision", precision)
    losses = ~np.isnan(full["train_loss_step"])
    assert not np.array_equal(mixed["train_loss_step"][losses], full["train_loss_step"][losses])
    # Half-precision products, float32 accumulation; 16-mixed may skip the first steps while GradScaler
    # finds its scale, so the comparison is on the last steps and the validation loss.
    np.testing.assert_allclose(mixed["train_loss_step"][losses][-5:], full["train_loss_step"][losses][-5:], rtol=5e-2)
    np.testing.assert_allclose(np.nanmax(mixed["val_loss"]), np.nanmax(full["val_loss"]), rtol=5e-2)


@pytest.mark.parametrize("option", [["--trainer.callbacks+=ptref.callbacks.speed.ChannelsLast",
                                     "--trainer.callbacks.enabled", "false"],
                                    ["--trainer.callbacks+=ptref.callbacks.speed.Compile"]],
                         ids=["nchw", "compile"])
def test_cnn_speed_options_train_like_the_default(option, tmp_path):
    config, flags = WORKFLOWS["mnist_cnn"]
    default, _ = fit(tmp_path / "default", config, "--trainer.accelerator", "cuda", *flags)
    switched, _ = fit(tmp_path / "switched", config, "--trainer.accelerator", "cuda", *flags, *option)
    for key in default:
        atol = 1 / 128 if "acc" in key else 1e-6  # one flipped near-tie prediction per batch, see above
        np.testing.assert_allclose(switched[key], default[key], rtol=1e-4, atol=atol, err_msg=key)
