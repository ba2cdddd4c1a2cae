"""ptref.nn against NumPy and against the formulas in TensorFlow's documentation (no TensorFlow here).

compare/test_layers_tf.py runs the same layers beside Keras with transferred weights.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from ptref.nn import (
    BatchNormalization,
    Conv2dSame,
    FlattenChannelsLast,
    MaxPool2dSame,
    flattened_dense_kernel_to_linear,
    glorot_normal,
    glorot_uniform,
    he_normal,
    he_uniform,
    keras_init_,
    lecun_normal,
    same_padding,
)


@pytest.mark.parametrize(
    ("size", "kernel", "stride", "expected"),
    # TF's documented rule; the stride-2 even-size cases are the asymmetric ones
    [(16, 3, 1, (1, 1)), (16, 4, 1, (1, 2)), (16, 3, 2, (0, 1)), (16, 5, 2, (1, 2)), (15, 3, 2, (1, 1)),
     (224, 7, 2, (2, 3)), (16, 1, 2, (0, 0))],
)
def test_same_padding_puts_the_odd_cell_after(size, kernel, stride, expected):
    assert same_padding(size, kernel, stride) == expected


@pytest.mark.parametrize(("size", "stride"), [(15, 2), (16, 2), (16, 3), (17, 1)])
def test_conv2d_same_outputs_ceil_size_over_stride(size, stride):
    out = Conv2dSame(2, 3, 3, stride=stride)(torch.zeros(1, 2, size, size))
    assert out.shape[-2:] == (math.ceil(size / stride),) * 2


def test_conv2d_same_stride_2_samples_the_stride_1_output_at_odd_positions():
    # k=3, n=16: TF pads (0, 1) at stride 2 and (1, 1) at stride 1, so window i at stride 2 starts at 2i,
    # which is window 2i + 1 at stride 1. Symmetric padding=1 would instead give the even positions.
    torch.manual_seed(0)
    conv = Conv2dSame(2, 3, 3, stride=2)
    x = torch.randn(1, 2, 16, 16)
    dense = nn.functional.conv2d(x, conv.weight, conv.bias, padding=1)
    torch.testing.assert_close(conv(x), dense[..., 1::2, 1::2], rtol=0, atol=1e-6)


def test_max_pool_same_never_picks_the_padding():
    x = -torch.arange(1.0, 17.0).reshape(1, 1, 4, 4)  # all negative: a zero pad would win every window
    out = MaxPool2dSame(3, 2)(x)
    assert out.shape[-2:] == (2, 2) and (out < 0).all()


def test_batch_normalization_matches_keras_formula_with_biased_moving_variance():
    rng = np.random.default_rng(0)
    xs = [rng.normal(2.0, 3.0, size=(4, 3, 5, 5)) for _ in range(3)]
    bn = BatchNormalization(3).double()
    gamma, beta = np.array([0.5, 1.0, 2.0]), np.array([0.1, -0.2, 0.3])
    with torch.no_grad():
        bn.weight.copy_(torch.from_numpy(gamma))
        bn.bias.copy_(torch.from_numpy(beta))
    moving_mean, moving_var = np.zeros(3), np.ones(3)
    for x in xs:
        out = bn(torch.from_numpy(x)).detach().numpy()
        mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))  # NumPy var: biased
        expected = (x - mean[:, None, None]) / np.sqrt(var[:, None, None] + 1e-3)
        expected = expected * gamma[:, None, None] + beta[:, None, None]
        np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)
        moving_mean, moving_var = 0.99 * moving_mean + 0.01 * mean, 0.99 * moving_var + 0.01 * var
    np.testing.assert_allclose(bn.running_mean.numpy(), moving_mean, rtol=1e-12)
    np.testing.assert_allclose(bn.running_var.numpy(), moving_var, rtol=1e-12)
    bn.eval()
    x = xs[0]
    expected = (x - moving_mean[:, None, None]) / np.sqrt(moving_var[:, None, None] + 1e-3)
    expected = expected * gamma[:, None, None] + beta[:, None, None]
    np.testing.assert_allclose(bn(torch.from_numpy(x)).detach().numpy(), expected, rtol=1e-10, atol=1e-12)


def test_flatten_permutation_makes_a_keras_dense_kernel_work_after_a_torch_conv_stack():
    rng = np.random.default_rng(1)
    h, w, c, out = 3, 4, 5, 6
    nhwc = rng.normal(size=(2, h, w, c))
    kernel = rng.normal(size=(h * w * c, out))
    expected = nhwc.reshape(2, -1) @ kernel  # what Keras's Flatten + Dense computes
    nchw = torch.from_numpy(nhwc).permute(0, 3, 1, 2)
    weight = flattened_dense_kernel_to_linear(torch.from_numpy(kernel), h, w, c)
    # float64 sums of 60 products in another order: ~sqrt(60) eps64 of the terms (~1e-14 of max |expected|), which
    # an output near 0 (a zero-mean random sum) carries too: atol scaled to max |expected|. A wrong order costs O(1).
    tolerance = {"rtol": 1e-12, "atol": 1e-12 * np.abs(expected).max()}
    np.testing.assert_allclose((nn.Flatten()(nchw) @ weight.T).numpy(), expected, **tolerance)
    np.testing.assert_allclose((FlattenChannelsLast()(nchw) @ torch.from_numpy(kernel)).numpy(), expected, **tolerance)


# Statistical checks: 200k draws, so the sample std is within ~0.2% of the truth; 1% tolerance.
@pytest.mark.parametrize(
    ("init", "expected_std", "bound"),
    [
        (glorot_uniform, math.sqrt(2 / (400 + 500)), math.sqrt(6 / (400 + 500))),
        (he_uniform, math.sqrt(2 / 400), math.sqrt(6 / 400)),
        (glorot_normal, math.sqrt(2 / (400 + 500)), 2 * math.sqrt(2 / (400 + 500)) / 0.87962566103423978),
        (he_normal, math.sqrt(2 / 400), 2 * math.sqrt(2 / 400) / 0.87962566103423978),
        (lecun_normal, math.sqrt(1 / 400), 2 * math.sqrt(1 / 400) / 0.87962566103423978),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_initializer_has_keras_std_and_bounds(init, expected_std, bound):
    w = init(torch.empty(500, 400), torch.Generator().manual_seed(0))  # Linear(400 -> 500)
    assert w.std().item() == pytest.approx(expected_std, rel=0.01)
    assert w.abs().max().item() <= bound
    assert w.abs().max().item() > 0.95 * bound  # the truncation/limit is actually reached


def test_keras_init_gives_zero_biases_glorot_kernels_and_lstm_forget_bias_one():
    model = nn.ModuleDict(
        {"conv": nn.Conv2d(3, 8, 3), "dense": nn.Linear(20, 10), "embed": nn.Embedding(50, 4), "lstm": nn.LSTM(4, 6)}
    )
    keras_init_(model, torch.Generator().manual_seed(0))
    assert not model["conv"].bias.any() and not model["dense"].bias.any()
    assert model["dense"].weight.abs().max() <= math.sqrt(6 / 30)
    assert model["dense"].weight.abs().max() > 0.9 * math.sqrt(6 / 30)  # torch's default limit is 1/sqrt(20)=0.22
    assert model["embed"].weight.abs().max() <= 0.05
    bias = model["lstm"].bias_ih_l0
    assert bias[6:12].eq(1).all() and bias[:6].eq(0).all() and bias[12:].eq(0).all()
    assert not model["lstm"].bias_hh_l0.any()
    recurrent = model["lstm"].weight_hh_l0  # (4u, u): orthonormal columns
    torch.testing.assert_close(recurrent.T @ recurrent, torch.eye(6), atol=1e-5, rtol=0)
