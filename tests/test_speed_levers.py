"""The speed levers ptref uses by default: vectorized Dropout, Conv2D with its ReLU fused, channels-last memory,
glibc keeping freed buffers. Each must leave the math as it was (within float32 round-off where kernels change)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from ptref.cli import SPEED_DEFAULTS
from ptref.callbacks.speed import ChannelsLast, KeepFreedMemory
from ptref.models import CNN
from ptref.nn import Conv2dReLU, Dense, Dropout

REPO = Path(__file__).resolve().parents[1]


def test_dropout_keeps_one_minus_rate_of_the_elements_scaled_by_its_inverse():
    torch.manual_seed(0)
    x = torch.rand(200_000) + 0.5  # no zeros: a zero output means dropped
    y = Dropout(0.25).train()(x)
    kept = y != 0
    torch.testing.assert_close(y[kept], x[kept] / 0.75, rtol=1e-6, atol=0)  # one float32 rounding of x·(1/0.75)
    # binomial standard error of the kept fraction: sqrt(0.75·0.25/200k) ≈ 0.001; 0.005 is 5 of them
    assert kept.float().mean().item() == pytest.approx(0.75, abs=0.005)


def test_dropout_is_the_identity_in_eval_and_its_gradient_is_the_mask():
    torch.manual_seed(0)
    layer = Dropout(0.5)
    x = torch.rand(1000, requires_grad=True)
    assert layer.eval()(x) is x
    y = layer.train()(x)
    y.backward(torch.ones_like(y))
    torch.testing.assert_close(x.grad, (y != 0).float() * 2.0, rtol=0, atol=0)
    with pytest.raises(ValueError, match=r"rate must be in \[0, 1\), got 1"):
        Dropout(1.0)


def test_the_course_cnn_draws_its_dropout_masks_with_the_vectorized_dropout(monkeypatch):
    calls = []
    monkeypatch.setattr(torch.Tensor, "bernoulli_", lambda *args, **kwargs: calls.append("bernoulli_"))
    model = CNN(layers="course").train()
    model(torch.rand(2, 1, 28, 28))
    assert calls == []
    assert sum(isinstance(module, Dropout) for module in model.modules()) == 2


@pytest.mark.parametrize("channels_last", [False, True], ids=["nchw", "nhwc"])
def test_fused_conv_relu_gives_relu_of_conv_and_its_gradients(channels_last):
    torch.manual_seed(0)
    fused = Conv2dReLU(3, 8, 3, padding=1, stride=2)
    plain = nn.Conv2d(3, 8, 3, padding=1, stride=2)
    plain.load_state_dict(fused.state_dict())
    x = torch.randn(4, 3, 11, 11)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    grad = torch.randn(4, 8, 6, 6)
    out_fused, out_plain = fused(x1), F.relu(plain(x2))
    # the same oneDNN convolution either way; the ReLU applied to its result (bit-equal here, allowed round-off)
    torch.testing.assert_close(out_fused, out_plain, rtol=1e-6, atol=1e-6)
    out_fused.backward(grad)
    out_plain.backward(grad)
    # conv backward may pick another summation order for another memory layout: float32 round-off
    pairs = [(x1.grad, x2.grad), (fused.weight.grad, plain.weight.grad), (fused.bias.grad, plain.bias.grad)]
    for ours, theirs in pairs:
        torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-5)


def test_fused_conv_relu_calls_the_fused_kernel_for_float32_cpu_only(monkeypatch):
    calls = []
    fused_op = torch.ops.mkldnn._convolution_pointwise

    def counting(*args):
        calls.append(args[0].dtype)
        return fused_op(*args)

    monkeypatch.setattr(torch.ops.mkldnn, "_convolution_pointwise", counting)
    layer = Conv2dReLU(1, 4, 3)
    layer(torch.rand(2, 1, 8, 8))
    layer.double()(torch.rand(2, 1, 8, 8, dtype=torch.float64))  # not fusable: plain conv then relu
    assert calls == [torch.float32]


def test_dense_gives_linear_and_its_gradients_through_onednn(monkeypatch):
    calls = []
    onednn = torch.ops.mkldnn._linear_pointwise

    def counting(*args):
        calls.append(tuple(args[0].shape))
        return onednn(*args)

    monkeypatch.setattr(torch.ops.mkldnn, "_linear_pointwise", counting)
    torch.manual_seed(0)
    dense, linear = Dense(300, 20), nn.Linear(300, 20)
    linear.load_state_dict(dense.state_dict())
    x1 = torch.randn(16, 300, requires_grad=True)
    x2 = x1.detach().clone().requires_grad_()
    grad = torch.randn(16, 20)
    out_dense, out_linear = dense(x1), linear(x2)
    out_dense.backward(grad)
    out_linear.backward(grad)
    assert calls == [(16, 300), (16, 20), (20, 16)]  # forward, dL/dx, dL/dW: all three products by oneDNN
    # 300-long float32 dot products summed in another order: a few ulp of the largest terms
    torch.testing.assert_close(out_dense, out_linear, rtol=1e-5, atol=1e-5)
    for ours, theirs in [(x1.grad, x2.grad), (dense.weight.grad, linear.weight.grad), (dense.bias.grad,
                                                                                       linear.bias.grad)]:
        torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-5)


def test_dense_falls_back_to_linear_where_onednn_does_not_apply(monkeypatch):
    monkeypatch.setattr(torch.ops.mkldnn, "_linear_pointwise", None)  # would fail if called
    dense = Dense(4, 3)
    assert dense(torch.rand(2, 5, 4)).shape == (2, 5, 3)  # 3-D input
    assert dense.double()(torch.rand(2, 4, dtype=torch.float64)).dtype == torch.float64


def test_channels_last_callback_keeps_the_cnn_nhwc_from_input_to_flatten_and_undoes_its_hook():
    from lightning.pytorch import Trainer

    model = CNN(layers="course")
    formats = []
    for module in model.net:
        if isinstance(module, (nn.Conv2d, nn.MaxPool2d)):
            module.register_forward_pre_hook(
                lambda module, args: formats.append(args[0].is_contiguous(memory_format=torch.channels_last)))
    callback = ChannelsLast()
    trainer = Trainer(accelerator="cpu", logger=False)
    callback.setup(trainer, model, "fit")
    assert model.net[0].weight.is_contiguous(memory_format=torch.channels_last)
    model(torch.rand(2, 1, 28, 28))
    # conv1's input (one channel: NCHW and NHWC are the same bytes), conv2's input, the pool's input
    assert formats == [True, True, True]
    callback.teardown(trainer, model, "fit")
    assert not model._forward_pre_hooks


def test_channels_last_leaves_models_without_convolutions_alone():
    from lightning.pytorch import Trainer

    from ptref.models import MLP

    model = MLP(hidden_sizes=[8])
    ChannelsLast().setup(Trainer(accelerator="cpu", logger=False), model, "fit")
    assert not model._forward_pre_hooks


TRAINING_STEPS = """
import resource, sys
import torch
from ptref.models import CNN
if sys.argv[1] == "keep":
    from ptref.callbacks.speed import keep_freed_memory
    assert keep_freed_memory()
model, x = CNN(layers="course"), torch.rand(128, 1, 28, 28)
def step():  # forward and backward: activations and their gradients allocated, then all freed
    model(x).sum().backward()
for _ in range(2):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    step()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


def page_faults(mode: str) -> int:
    """Minor page faults of 5 course-CNN steps (batch 128) in a fresh process (the allocator is process-wide)."""
    result = subprocess.run([sys.executable, "-c", TRAINING_STEPS, mode], capture_output=True, text=True,
                            check=True, env={"PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "PATH": ""})
    return int(result.stdout)


@pytest.mark.skipif(sys.platform != "linux", reason="glibc's allocator")
def test_keep_freed_memory_stops_glibc_returning_a_steps_buffers_to_the_os():
    default, kept = page_faults("default"), page_faults("keep")
    # glibc's defaults give the freed activations back to the OS and fault them in again every step (measured
    # ~100k faults over the 5 steps); kept, they are reused (measured ~6k, from buffers over 32 MiB)
    assert default > 20_000
    assert kept < default / 4


def lever_callbacks(tmp_path: Path, mnist_t10k_dir: Path, lever: type, *flags: str) -> list:
    """The ``lever`` callbacks of the Trainer ``ptref fit --config mnist_cnn_t10k.yaml <flags>`` builds."""
    from ptref.cli import build_cli

    cli = build_cli(["--config", str(REPO / "experiments" / "mnist_cnn_t10k.yaml"), "--data.data_dir",
                     str(mnist_t10k_dir), "--trainer.default_root_dir", str(tmp_path), *flags], run=False)
    return [callback for callback in cli.trainer.callbacks if isinstance(callback, lever)]


def test_ptref_fit_defaults_to_every_lever_the_readme_names():
    from ptref.callbacks.empty_hooks import SkipEmptyHooks
    from ptref.callbacks.hook_signatures import CacheHookSignatures
    from ptref.callbacks.log_move import SkipResidentLogMove
    from ptref.callbacks.plain_setattr import SetPlainAttributesDirectly

    assert set(SPEED_DEFAULTS) == {ChannelsLast, KeepFreedMemory, SkipResidentLogMove, SkipEmptyHooks,
                                   CacheHookSignatures, SetPlainAttributesDirectly}


@pytest.mark.parametrize("lever", SPEED_DEFAULTS, ids=lambda lever: lever.__name__)
def test_ptref_fit_adds_each_lever_by_default_and_one_listed_in_the_config_replaces_it(tmp_path, mnist_t10k_dir,
                                                                                        lever):
    default = lever_callbacks(tmp_path, mnist_t10k_dir, lever)
    assert len(default) == 1 and default[0].enabled
    listed = lever_callbacks(tmp_path, mnist_t10k_dir, lever,
                             f"--trainer.callbacks+={lever.__module__}.{lever.__name__}",
                             "--trainer.callbacks.enabled", "false")
    assert len(listed) == 1 and not listed[0].enabled
