"""ptref.nn's Keras layers beside the Keras layers running live, weights copied from Keras, non-default arguments.

Tolerances (absolute part + relative part, each with its reason):

- max pooling: atol 0, rtol 0. It picks one input cell: bit-identical.
- ``FLOAT32``: atol 1e-5, rtol 1e-5. Convolutions, average pooling and normalizations of O(1)-O(10) values in
  float32: sums of <= 3*3*3*4 products in another order (TF Eigen/oneDNN vs ATen) give ~sqrt(n) eps of the
  terms (~1e-6); layer normalization divides by a std of O(1). Measured <= 5e-7.
  Wrong padding, counts or axes cost >= 1e-2.
- ``RECURRENT``: atol 1e-5, rtol 1e-5. Outputs in [-1, 1] (linear/relu runs: O(10)) after 7 steps; each step
  adds the rounding of two float32 matmuls of length <= 11 (~1e-7 of the terms) and the recurrence carries it on
  (contracting for tanh/sigmoid cells); TF's sigmoid/tanh differ from ATen's by a few ulps. Measured <= 1e-6.
  A wrong gate order, direction or reset convention costs O(0.1).
- ``renorm_close``: atol 2e-5 * max|expected|, rtol 1e-4, for batch renormalization over 6 training steps (outputs,
  input and gamma/beta gradients, the five moving statistics): Keras's float32 batch variance carries up to ~1e-5
  relative error (one-pass moments, see ``compare/tolerances.BATCHNORM_TRAINING``), which reaches r, d and every
  output and gradient through 1/sqrt(var + eps), in units of the compared set's largest value (gradients are
  sums over the batch). Measured <= 5e-6 max|expected|. Giving r and d a gradient costs >= 1e-2.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
import torch
from torch import nn

from ptref.interop import load_keras_weights, ptref_arrays
from ptref.nn import (
    GRU,
    LSTM,
    AvgPool1dSame,
    AvgPool2dSame,
    AvgPool3dSame,
    BatchNormalization,
    Conv1dSame,
    Conv3dSame,
    LayerNormalization,
    MaxPool1dSame,
    MaxPool3dSame,
    SimpleRNN,
)

FLOAT32 = {"atol": 1e-5, "rtol": 1e-5}
RECURRENT = {"atol": 1e-5, "rtol": 1e-5}
rng = np.random.default_rng(13)


def channels_first(x: np.ndarray) -> torch.Tensor:
    """Keras ``(N, *spatial, C)`` -> torch ``(N, C, *spatial)``."""
    return torch.from_numpy(np.moveaxis(x, -1, 1).copy())


def channels_last(y: torch.Tensor) -> np.ndarray:
    return np.moveaxis(y.detach().numpy(), 1, -1)


def renorm_close(actual: np.ndarray, expected: np.ndarray) -> None:
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=2e-5 * np.abs(expected).max())


def normal(*shape: int, scale: float = 1.0) -> np.ndarray:
    return (scale * rng.standard_normal(shape)).astype(np.float32)


def randomize(layer: keras.layers.Layer) -> list[np.ndarray]:
    """Give a built Keras layer random non-default weights (biases included) and return them."""
    layer.set_weights([normal(*w.shape, scale=0.5) for w in layer.get_weights()])
    return layer.get_weights()


# --- convolutions and pooling with padding='same' --------------------------------------------------------------

@pytest.mark.parametrize(
    ("kernel", "stride", "size", "dilation"),
    [(3, 2, 16, 1), (4, 3, 17, 1), (5, 2, 15, 1), (2, 3, 10, 1), (3, 1, 11, 2)],
)
def test_conv1d_same_matches_keras_conv1d(kernel, stride, size, dilation):
    keras_conv = keras.layers.Conv1D(5, kernel, strides=stride, dilation_rate=dilation, padding="same")
    keras_conv.build((None, size, 3))
    kernel_weights, bias = randomize(keras_conv)
    ours = Conv1dSame(3, 5, kernel, stride=stride, dilation=dilation)
    with torch.no_grad():
        ours.weight.copy_(torch.from_numpy(kernel_weights).permute(2, 1, 0))  # (k, in, out) -> (out, in, k)
        ours.bias.copy_(torch.from_numpy(bias))
    x = normal(2, size, 3)
    np.testing.assert_allclose(channels_last(ours(channels_first(x))), keras_conv(x).numpy(), **FLOAT32)


@pytest.mark.parametrize(("kernel", "stride", "size"), [(3, 2, (7, 8, 9)), ((2, 3, 4), (3, 2, 1), (9, 7, 8))])
def test_conv3d_same_matches_keras_conv3d(kernel, stride, size):
    keras_conv = keras.layers.Conv3D(4, kernel, strides=stride, padding="same")
    keras_conv.build((None, *size, 2))
    kernel_weights, bias = randomize(keras_conv)
    ours = Conv3dSame(2, 4, kernel, stride=stride)
    with torch.no_grad():
        ours.weight.copy_(torch.from_numpy(kernel_weights).permute(4, 3, 0, 1, 2))  # DHWIO -> OIDHW
        ours.bias.copy_(torch.from_numpy(bias))
    x = normal(2, *size, 2)
    np.testing.assert_allclose(channels_last(ours(channels_first(x))), keras_conv(x).numpy(), **FLOAT32)


POOLS = [
    (MaxPool1dSame, keras.layers.MaxPooling1D, 3, 2, (16,)),
    (MaxPool1dSame, keras.layers.MaxPooling1D, 4, 3, (17,)),
    (MaxPool3dSame, keras.layers.MaxPooling3D, 3, 2, (7, 8, 9)),
    (MaxPool3dSame, keras.layers.MaxPooling3D, (2, 3, 2), None, (5, 7, 6)),
    (AvgPool1dSame, keras.layers.AveragePooling1D, 3, 2, (16,)),
    (AvgPool1dSame, keras.layers.AveragePooling1D, 5, 3, (17,)),
    (AvgPool2dSame, keras.layers.AveragePooling2D, 3, 2, (16, 15)),
    (AvgPool2dSame, keras.layers.AveragePooling2D, (3, 5), (2, 3), (11, 13)),
    (AvgPool2dSame, keras.layers.AveragePooling2D, 2, None, (7, 7)),
    (AvgPool3dSame, keras.layers.AveragePooling3D, 3, 2, (7, 8, 9)),
    (AvgPool3dSame, keras.layers.AveragePooling3D, (2, 3, 3), (1, 2, 3), (5, 7, 8)),
]


@pytest.mark.parametrize(
    ("ours", "theirs", "pool", "stride", "size"), POOLS, ids=lambda v: getattr(v, "__name__", None)
)
def test_pooling_same_matches_keras(ours, theirs, pool, stride, size):
    x = normal(2, *size, 3) + 2.0  # a mean away from 0: a padded zero counted in an average shows
    expected = theirs(pool, stride, padding="same")(x).numpy()
    actual = channels_last(ours(pool, stride)(channels_first(x)))
    tolerance = {"atol": 0, "rtol": 0} if ours in (MaxPool1dSame, MaxPool3dSame) else FLOAT32
    np.testing.assert_allclose(actual, expected, **tolerance)


def test_torch_average_pooling_that_counts_the_padding_misses_keras_same():
    x = normal(1, 16, 16, 3) + 2.0
    expected = keras.layers.AveragePooling2D(3, 2, padding="same")(x).numpy()
    padded = nn.functional.pad(channels_first(x), (0, 1, 0, 1))  # TF's (0, 1) padding, zeros counted
    naive = channels_last(nn.functional.avg_pool2d(padded, 3, 2))
    assert np.abs(naive - expected).max() > 0.1


# --- LayerNormalization --------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("shape", "axis", "epsilon", "center", "scale"),
    [
        ((4, 7, 6), -1, 1e-3, True, True),
        ((4, 7, 6), [1, 2], 1e-3, True, True),
        ((3, 5, 6, 4), [1, 3], 1e-2, True, True),
        ((3, 5, 6, 4), 1, 1e-3, False, True),
        ((3, 5, 6, 4), [-3, -2, -1], 0.5, True, False),
    ],
)
def test_layer_normalization_matches_keras(shape, axis, epsilon, center, scale):
    keras_norm = keras.layers.LayerNormalization(axis=axis, epsilon=epsilon, center=center, scale=scale)
    keras_norm.build((None, *shape[1:]))
    weights = randomize(keras_norm)
    axes = [axis] if isinstance(axis, int) else axis
    ours = LayerNormalization([shape[a] for a in axes], axis, epsilon, center, scale)
    for target, value in zip([t for t in (ours.weight, ours.bias) if t is not None], weights):
        with torch.no_grad():
            target.copy_(torch.from_numpy(value))
    x = 3.0 + 2.0 * normal(*shape)
    np.testing.assert_allclose(ours(torch.from_numpy(x)).detach().numpy(), keras_norm(x).numpy(), **FLOAT32)


# --- BatchNormalization(renorm=True) -------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("clipping", "momentum", "renorm_momentum"),
    [({"rmax": 1.5, "rmin": 0.7, "dmax": 0.5}, 0.9, 0.8), ({}, 0.95, 0.5), ({"rmax": 2.0}, 0.99, 0.99)],
)
def test_batch_renormalization_matches_keras_over_training_steps(clipping, momentum, renorm_momentum):
    keras_bn = keras.layers.BatchNormalization(
        momentum=momentum, renorm=True, renorm_clipping=clipping, renorm_momentum=renorm_momentum
    )
    keras_bn.build((None, 5, 5, 3))
    gamma, beta = rng.uniform(0.5, 2.0, 3).astype(np.float32), normal(3)
    keras_bn.gamma.assign(gamma)
    keras_bn.beta.assign(beta)
    ours = BatchNormalization(
        3, momentum=momentum, renorm=True, renorm_clipping=clipping, renorm_momentum=renorm_momentum
    )
    load_keras_weights(ours, keras_bn.get_weights())
    for step in range(6):  # batches whose statistics drift, so r and d leave 1 and 0 and the clipping binds
        x = (1.0 + step + (1.0 + 0.5 * step) * normal(4, 5, 5, 3)).astype(np.float32)
        x_tf = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(x_tf)
            expected = keras_bn(x_tf, training=True)
            keras_loss = tf.reduce_sum(expected * tf.sin(expected))
        expected_grads = tape.gradient(keras_loss, [x_tf, keras_bn.gamma, keras_bn.beta])
        x_torch = channels_first(x).requires_grad_(True)
        actual = ours(x_torch)
        (actual * torch.sin(actual)).sum().backward()
        renorm_close(channels_last(actual), expected.numpy())
        # gradients: r and d carry none (Keras's stop_gradient), so these differ if they did
        renorm_close(channels_last(x_torch.grad), expected_grads[0].numpy())
        for grad, tf_grad in zip((ours.weight.grad, ours.bias.grad), expected_grads[1:]):
            renorm_close(grad.numpy(), tf_grad.numpy())
        ours.zero_grad()
    buffers = [ours.running_mean, ours.running_var, ours.moving_stddev, ours.renorm_mean, ours.renorm_stddev]
    for buffer, keras_value in zip(buffers, keras_bn.get_weights()[2:]):
        renorm_close(buffer.numpy(), keras_value)
    x = normal(2, 5, 5, 3)
    ours.eval()
    renorm_close(channels_last(ours(channels_first(x))), keras_bn(x, training=False).numpy())


# --- recurrent layers ----------------------------------------------------------------------------------------

RNN_CASES = [
    ("SimpleRNN", {}),
    ("SimpleRNN", {"activation": "relu", "return_sequences": True, "go_backwards": True}),
    ("SimpleRNN", {"activation": None, "use_bias": False, "return_state": True}),
    ("LSTM", {}),
    ("LSTM", {"return_sequences": True, "return_state": True}),
    ("LSTM", {"go_backwards": True, "return_sequences": True, "unit_forget_bias": False}),
    ("LSTM", {"activation": "relu", "recurrent_activation": "hard_sigmoid", "return_state": True}),
    ("LSTM", {"use_bias": False, "recurrent_activation": "tanh", "return_sequences": True}),
    ("LSTM", {"use_bias": False, "go_backwards": True, "return_state": True}),
    ("GRU", {}),
    ("GRU", {"return_sequences": True, "return_state": True, "go_backwards": True}),
    ("GRU", {"reset_after": False, "return_sequences": True}),
    ("GRU", {"reset_after": False, "use_bias": False, "go_backwards": True, "return_state": True}),
    ("GRU", {"activation": "softsign", "recurrent_activation": "hard_sigmoid", "return_sequences": True}),
    ("GRU", {"use_bias": False, "return_state": True}),
]


def keras_and_ours(name: str, kwargs: dict, units: int = 6, features: int = 5):
    keras_layer = getattr(keras.layers, name)(units, **kwargs)
    keras_layer.build((None, None, features))
    weights = randomize(keras_layer)
    ours = {"SimpleRNN": SimpleRNN, "LSTM": LSTM, "GRU": GRU}[name](features, units, **kwargs)
    ours.set_weights(weights)
    return keras_layer, ours


def as_list(outputs) -> list[np.ndarray]:
    """A layer's output(s) as a list of arrays: Keras returns a list with return_state, ptref a tuple."""
    outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
    return [o.detach().numpy() if isinstance(o, torch.Tensor) else np.asarray(o) for o in outputs]


@pytest.mark.parametrize(("name", "kwargs"), RNN_CASES, ids=lambda v: v if isinstance(v, str) else str(v))
def test_recurrent_layer_matches_keras_with_copied_weights(name, kwargs):
    keras_layer, ours = keras_and_ours(name, kwargs)
    x = normal(3, 7, 5)
    expected = as_list(keras_layer(x))
    actual = as_list(ours(torch.from_numpy(x)))
    assert [a.shape for a in actual] == [e.shape for e in expected]
    for a, e in zip(actual, expected):
        np.testing.assert_allclose(a, e, **RECURRENT)


@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU"])
def test_recurrent_layer_starts_from_a_given_initial_state_as_keras(name):
    keras_layer, ours = keras_and_ours(name, {"return_sequences": True, "return_state": True})
    x = normal(2, 4, 5)
    states = [normal(2, 6) for _ in range(2 if name == "LSTM" else 1)]
    expected = as_list(keras_layer(x, initial_state=states))
    actual = as_list(ours(torch.from_numpy(x), initial_state=[torch.from_numpy(s) for s in states]))
    assert len(actual) == len(expected) == 2 + (name == "LSTM")
    for a, e in zip(actual, expected):
        np.testing.assert_allclose(a, e, **RECURRENT)


def test_recurrent_layers_in_eval_mode_ignore_dropout_as_keras_in_inference():
    keras_layer, ours = keras_and_ours("LSTM", {"dropout": 0.4, "recurrent_dropout": 0.3, "return_sequences": True})
    x = normal(3, 7, 5)
    actual = ours.eval()(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(actual, keras_layer(x, training=False).numpy(), **RECURRENT)


def test_sequential_recurrent_model_matches_keras_after_load_keras_weights():
    keras_model = keras.Sequential([
        keras.Input((7, 5)),
        keras.layers.Conv1D(4, 3, strides=2, padding="same"),
        keras.layers.LSTM(6, return_sequences=True),
        keras.layers.LayerNormalization(),
        keras.layers.GRU(3, reset_after=False),
        keras.layers.Dense(2),
    ])
    keras_model.set_weights([normal(*w.shape, scale=0.5) for w in keras_model.get_weights()])

    class Ours(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = Conv1dSame(5, 4, 3, stride=2)
            self.lstm = LSTM(4, 6, return_sequences=True)
            self.norm = LayerNormalization(6)
            self.gru = GRU(6, 3, reset_after=False)
            self.dense = nn.Linear(3, 2)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            x = self.conv(x.transpose(1, 2)).transpose(1, 2)
            return self.dense(self.gru(self.norm(self.lstm(x))))

    ours = load_keras_weights(Ours(), keras_model)
    x = normal(3, 7, 5)
    np.testing.assert_allclose(ours(torch.from_numpy(x)).detach().numpy(), keras_model(x).numpy(), **RECURRENT)
    for back, original in zip(ptref_arrays(ours), keras_model.get_weights(), strict=True):  # the way back: exact
        np.testing.assert_array_equal(back, original)
