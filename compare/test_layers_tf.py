"""ptref.nn layer helpers beside Keras layers, with Keras's weights transferred through ptref.nn.layout.

Tolerance 1e-5 absolute plus 2e-6 relative: outputs are O(1)-O(30) float32 sums of up to 7*7*3 = 147 products,
summed in another order by each framework; the rounding of such a sum grows like sqrt(n) * eps32 = 12 * 1.2e-7
= 1.5e-6 of its size (the relative part), and the absolute part covers outputs near zero. Wrong
padding, layout or BatchNorm conventions cost >= 1e-3 (checked below for symmetric padding).
The initializers are compared as distributions (random streams cannot match across frameworks).
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import torch
from torch import nn

from ptref.nn import (
    BatchNormalization,
    Conv2dSame,
    MaxPool2dSame,
    conv_kernel_to_torch,
    dense_kernel_to_linear,
    flattened_dense_kernel_to_linear,
    glorot_normal,
    glorot_uniform,
    he_normal,
    he_uniform,
    keras_init_,
    lecun_normal,
    nchw_to_nhwc,
    nhwc_to_nchw,
)

TOLERANCE = 1e-5
RELATIVE = 2e-6
rng = np.random.default_rng(0)


def images(size: int, channels: int = 3, batch: int = 2) -> np.ndarray:
    return rng.standard_normal((batch, size, size, channels)).astype(np.float32)


def to_torch(x: np.ndarray) -> torch.Tensor:
    return nhwc_to_nchw(torch.from_numpy(x))


def to_keras_layout(y: torch.Tensor) -> np.ndarray:
    return nchw_to_nhwc(y).detach().numpy()


def conv_pair(kernel: int, stride: int, dilation: int = 1) -> tuple[keras.layers.Conv2D, Conv2dSame]:
    """A Keras Conv2D 'same' with random weights and a Conv2dSame holding the same weights."""
    keras_conv = keras.layers.Conv2D(4, kernel, strides=stride, dilation_rate=dilation, padding="same")
    keras_conv.build((None, None, None, 3))
    keras_conv.set_weights([rng.standard_normal(w.shape).astype(np.float32) for w in keras_conv.get_weights()])
    ours = Conv2dSame(3, 4, kernel, stride=stride, dilation=dilation)
    kernel_weights, bias = keras_conv.get_weights()
    with torch.no_grad():
        ours.weight.copy_(conv_kernel_to_torch(torch.from_numpy(kernel_weights)))
        ours.bias.copy_(torch.from_numpy(bias))
    return keras_conv, ours


@pytest.mark.parametrize(
    ("kernel", "stride", "size", "dilation"),
    [(3, 1, 16, 1), (4, 1, 16, 1), (3, 2, 16, 1), (3, 2, 15, 1), (5, 2, 16, 1), (7, 2, 32, 1), (3, 3, 16, 1),
     (3, 1, 16, 2)],
)
def test_conv2d_same_matches_keras(kernel, stride, size, dilation):
    keras_conv, ours = conv_pair(kernel, stride, dilation)
    x = images(size)
    np.testing.assert_allclose(to_keras_layout(ours(to_torch(x))), keras_conv(x).numpy(), atol=TOLERANCE, rtol=RELATIVE)


def test_symmetric_torch_padding_misses_keras_same_with_stride_2():
    keras_conv, ours = conv_pair(3, 2)
    x = images(16)
    naive = nn.functional.conv2d(to_torch(x), ours.weight, ours.bias, stride=2, padding=1)
    assert np.abs(to_keras_layout(naive) - keras_conv(x).numpy()).max() > 1e-3


@pytest.mark.parametrize(("pool", "stride", "size"), [(3, 2, 16), (3, 2, 15), (2, None, 15), (2, None, 16)])
def test_max_pool_same_matches_keras(pool, stride, size):
    x = images(size)
    expected = keras.layers.MaxPooling2D(pool, stride, padding="same")(x).numpy()
    np.testing.assert_allclose(to_keras_layout(MaxPool2dSame(pool, stride)(to_torch(x))), expected, atol=0, rtol=0)


def test_batch_normalization_matches_keras_in_training_and_inference():
    keras_bn = keras.layers.BatchNormalization()
    keras_bn.build((None, 6, 6, 3))
    gamma, beta = rng.uniform(0.5, 2.0, 3).astype(np.float32), rng.standard_normal(3).astype(np.float32)
    keras_bn.gamma.assign(gamma)
    keras_bn.beta.assign(beta)
    ours = BatchNormalization(3)
    with torch.no_grad():
        ours.weight.copy_(torch.from_numpy(gamma))
        ours.bias.copy_(torch.from_numpy(beta))
    for step in range(5):  # small batches (n=2*6*6) make the biased/unbiased variance difference visible
        x = (2.0 + 3.0 * rng.standard_normal((2, 6, 6, 3))).astype(np.float32)
        expected = keras_bn(x, training=True).numpy()
        np.testing.assert_allclose(to_keras_layout(ours(to_torch(x))), expected, atol=TOLERANCE, rtol=RELATIVE)
    np.testing.assert_allclose(ours.running_mean.numpy(), keras_bn.moving_mean.numpy(), atol=1e-6, rtol=0)
    np.testing.assert_allclose(ours.running_var.numpy(), keras_bn.moving_variance.numpy(), atol=1e-6, rtol=0)
    x = images(6)
    ours.eval()
    np.testing.assert_allclose(
        to_keras_layout(ours(to_torch(x))), keras_bn(x, training=False).numpy(), atol=TOLERANCE, rtol=RELATIVE
    )


def test_conv_stack_with_flatten_and_dense_matches_keras_after_weight_transfer():
    keras_model = keras.Sequential([
        keras.Input((12, 12, 3)),
        keras.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu"),
        keras.layers.MaxPooling2D(3, 2, padding="same"),
        keras.layers.Flatten(),
        keras.layers.Dense(10),
    ])
    conv_kernel, conv_bias, dense_kernel, dense_bias = (torch.from_numpy(w) for w in keras_model.get_weights())
    conv = Conv2dSame(3, 8, 3, stride=2)
    dense = nn.Linear(3 * 3 * 8, 10)
    with torch.no_grad():
        conv.weight.copy_(conv_kernel_to_torch(conv_kernel))
        conv.bias.copy_(conv_bias)
        dense.weight.copy_(flattened_dense_kernel_to_linear(dense_kernel, 3, 3, 8))
        dense.bias.copy_(dense_bias)
    ours = nn.Sequential(conv, nn.ReLU(), MaxPool2dSame(3, 2), nn.Flatten(), dense)
    x = images(12, batch=4)
    np.testing.assert_allclose(ours(to_torch(x)).detach().numpy(), keras_model(x).numpy(),
                               atol=TOLERANCE, rtol=RELATIVE)


def test_dense_kernel_transpose_matches_keras_dense():
    keras_dense = keras.layers.Dense(7)
    x = rng.standard_normal((5, 7)).astype(np.float32)  # square kernel: a missing transpose would not raise
    expected = keras_dense(x).numpy()
    kernel, bias = (torch.from_numpy(w) for w in keras_dense.get_weights())
    linear = nn.Linear(7, 7)
    with torch.no_grad():
        linear.weight.copy_(dense_kernel_to_linear(kernel))
        linear.bias.copy_(bias)
    np.testing.assert_allclose(linear(torch.from_numpy(x)).detach().numpy(), expected, atol=TOLERANCE, rtol=RELATIVE)


def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic: the largest gap between the two empirical CDFs."""
    a, b = np.sort(a.ravel()), np.sort(b.ravel())
    grid = np.concatenate([a, b])
    return float(np.abs(np.searchsorted(a, grid, "right") / a.size - np.searchsorted(b, grid, "right") / b.size).max())


# 200x300 = 60k draws each: the KS statistic of two samples of one distribution is below 0.013 with probability
# 1 - 1e-4; torch's default (kaiming_uniform(a=sqrt(5))) scores ~0.25 against glorot_uniform.
KS_LIMIT = 0.013


@pytest.mark.parametrize(
    ("ours", "keras_init"),
    [
        (glorot_uniform, keras.initializers.GlorotUniform),
        (glorot_normal, keras.initializers.GlorotNormal),
        (he_normal, keras.initializers.HeNormal),
        (he_uniform, keras.initializers.HeUniform),
        (lecun_normal, keras.initializers.LecunNormal),
    ],
    ids=lambda v: getattr(v, "__name__", ""),
)
def test_initializer_draws_from_the_keras_distribution(ours, keras_init):
    keras_sample = keras_init(seed=0)((200, 300)).numpy()  # Dense(200 -> 300) kernel
    our_sample = ours(torch.empty(300, 200), torch.Generator().manual_seed(0)).numpy()  # Linear(200 -> 300)
    assert ks_statistic(keras_sample, our_sample) < KS_LIMIT


def test_keras_init_matches_a_keras_dense_layer_and_torch_default_does_not():
    keras_dense = keras.layers.Dense(300)
    keras_dense.build((None, 200))
    keras_kernel = keras_dense.kernel.numpy()
    torch_default = nn.Linear(200, 300)
    ours = keras_init_(nn.Linear(200, 300), torch.Generator().manual_seed(0))
    assert ks_statistic(keras_kernel, ours.weight.detach().numpy()) < KS_LIMIT
    assert ks_statistic(keras_kernel, torch_default.weight.detach().numpy()) > 0.1
    assert not ours.bias.any() and not keras_dense.bias.numpy().any()
