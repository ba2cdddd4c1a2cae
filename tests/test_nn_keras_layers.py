"""ptref.nn's Keras layers against float64 NumPy references of TF's formulas (no TensorFlow here).

compare/test_layers_keras_tf.py runs the same layers beside Keras. Tolerances here: float64 against float64,
the same few operations in another order: rtol 1e-12 with atol 1e-12 times the compared values' size (a value
near 0 is a difference of O(1) terms and keeps their rounding). A wrong count, axis or gate costs O(0.1).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

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
    SimpleRNN,
)

rng = np.random.default_rng(13)


def assert_float64_close(actual: np.ndarray, expected: np.ndarray) -> None:
    np.testing.assert_allclose(actual, expected, rtol=1e-12, atol=1e-12 * max(np.abs(expected).max(), 1.0))


def average_pool_same_reference(x: np.ndarray, pool: tuple[int, ...], stride: tuple[int, ...]) -> np.ndarray:
    """TF's avg_pool 'SAME' on ``(N, C, *spatial)``, window by window: the mean of the real cells it covers."""
    spatial = x.shape[2:]
    outputs = [math.ceil(n / s) for n, s in zip(spatial, stride)]
    # TF's documented padding: total = max((out - 1) * s + k - n, 0), the smaller half before
    before = [max((o - 1) * s + k - n, 0) // 2 for o, s, k, n in zip(outputs, stride, pool, spatial)]
    y = np.empty(x.shape[:2] + tuple(outputs))
    for index in itertools.product(*(range(o) for o in outputs)):
        window = tuple(
            slice(max(i * s - b, 0), min(i * s - b + k, n))
            for i, s, b, k, n in zip(index, stride, before, pool, spatial)
        )
        y[(..., *index)] = x[(..., *window)].reshape(*x.shape[:2], -1).mean(axis=-1)
    return y


@pytest.mark.parametrize(
    ("layer", "pool", "stride", "size"),
    [
        (AvgPool1dSame, (3,), (2,), (16,)),
        (AvgPool1dSame, (4,), (3,), (17,)),
        (AvgPool2dSame, (3, 3), (2, 2), (16, 15)),
        (AvgPool2dSame, (3, 5), (2, 3), (11, 13)),
        (AvgPool2dSame, (2, 2), (2, 2), (7, 7)),
        (AvgPool3dSame, (3, 3, 3), (2, 2, 2), (7, 8, 9)),
        (AvgPool3dSame, (2, 3, 3), (1, 2, 3), (5, 7, 8)),
    ],
    ids=lambda v: getattr(v, "__name__", None),
)
def test_average_pooling_same_divides_by_the_count_of_real_cells(layer, pool, stride, size):
    x = rng.normal(2.0, 1.0, size=(2, 3, *size))
    actual = layer(pool, stride)(torch.from_numpy(x)).numpy()
    assert_float64_close(actual, average_pool_same_reference(x, pool, stride))


@pytest.mark.parametrize(
    ("input_size", "pool", "stride", "expected"),
    # TensorFlow's golden values: tensorflow/python/kernel_tests/nn_ops/pooling_ops_test.py,
    # _testAvgPoolSamePadding and _testAvgPoolSamePaddingNonSquareWindow (inputs 1, 2, ... in NHWC order)
    [
        ((1, 2, 4, 3), (2, 2), (2, 2), [8.5, 9.5, 10.5, 14.5, 15.5, 16.5]),
        ((1, 2, 2, 1), (1, 2), (1, 1), [1.5, 2.0, 3.5, 4.0]),
        ((1, 2, 2, 1), (2, 1), (1, 1), [2.0, 3.0, 3.0, 4.0]),
    ],
)
def test_average_pooling_same_gives_tensorflows_golden_values(input_size, pool, stride, expected):
    nhwc = torch.arange(1.0, math.prod(input_size) + 1, dtype=torch.float64).reshape(input_size)
    out = AvgPool2dSame(pool, stride)(nhwc.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
    assert_float64_close(out.reshape(-1).numpy(), np.array(expected))


@pytest.mark.parametrize(("layer", "size", "stride"), [(Conv1dSame, (17,), 3), (Conv3dSame, (7, 8, 9), 2)])
def test_conv1d_and_conv3d_same_output_ceil_size_over_stride(layer, size, stride):
    out = layer(2, 3, 3, stride=stride)(torch.zeros(1, 2, *size))
    assert out.shape[2:] == tuple(math.ceil(n / stride) for n in size)


@pytest.mark.parametrize(
    ("shape", "axis"), [((4, 7, 6), -1), ((4, 7, 6), [1, 2]), ((3, 5, 6, 4), [1, 3]), ((3, 5, 6, 4), 1)]
)
def test_layer_normalization_matches_numpy_on_any_axes(shape, axis):
    axes = [axis] if isinstance(axis, int) else axis
    sizes = [shape[a] for a in axes]
    gamma, beta = rng.normal(size=sizes), rng.normal(size=sizes)
    norm = LayerNormalization(sizes, axis, epsilon=1e-3).double()
    with torch.no_grad():
        norm.weight.copy_(torch.from_numpy(gamma))
        norm.bias.copy_(torch.from_numpy(beta))
    x = rng.normal(3.0, 2.0, size=shape)
    reduce = tuple(a % len(shape) for a in axes)
    broadcast = [shape[d] if d in reduce else 1 for d in range(len(shape))]
    mean, var = x.mean(axis=reduce, keepdims=True), x.var(axis=reduce, keepdims=True)  # biased variance
    expected = (x - mean) / np.sqrt(var + 1e-3) * gamma.reshape(broadcast) + beta.reshape(broadcast)
    assert_float64_close(norm(torch.from_numpy(x)).detach().numpy(), expected)


def test_layer_normalization_refuses_an_input_of_other_sizes_in_one_line():
    with pytest.raises(ValueError, match=r"sizes \(5,\) on axes \[2\], the layer was built for \(6,\)"):
        LayerNormalization(6)(torch.zeros(2, 3, 5))


def test_batch_renormalization_matches_numpy_over_steps_with_clipping():
    clip, momentum, renorm_momentum, eps = {"rmax": 1.5, "rmin": 0.7, "dmax": 0.5}, 0.9, 0.8, 1e-3
    bn = BatchNormalization(3, momentum, renorm=True, renorm_clipping=clip, renorm_momentum=renorm_momentum)
    bn = bn.double()
    gamma, beta = np.array([0.5, 1.0, 2.0]), np.array([0.1, -0.2, 0.3])
    with torch.no_grad():
        bn.weight.copy_(torch.from_numpy(gamma))
        bn.bias.copy_(torch.from_numpy(beta))
    moving_mean, moving_std, renorm_mean, renorm_std = np.zeros(3), np.ones(3), np.zeros(3), np.ones(3)
    for step in range(6):
        x = rng.normal(1.0 + step, 1.0 + 0.5 * step, size=(4, 3, 5, 5))
        mean, var = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
        std = np.sqrt(var + eps)
        r = np.clip(std / np.maximum(renorm_std, np.sqrt(eps)), clip["rmin"], clip["rmax"])
        d = np.clip((mean - renorm_mean) / np.maximum(renorm_std, np.sqrt(eps)), -clip["dmax"], clip["dmax"])
        column = (slice(None), None, None)
        expected = ((x - mean[column]) / std[column] * r[column] + d[column]) * gamma[column] + beta[column]
        assert_float64_close(bn(torch.from_numpy(x)).detach().numpy(), expected)
        renorm_mean = renorm_mean * renorm_momentum + mean * (1 - renorm_momentum)
        renorm_std = renorm_std * renorm_momentum + std * (1 - renorm_momentum)
        moving_mean = moving_mean * momentum + mean * (1 - momentum)
        moving_std = moving_std * momentum + std * (1 - momentum)
    moving_var = np.maximum(moving_std**2 - eps, 0.0)
    for buffer, value in zip(
        (bn.running_mean, bn.running_var, bn.moving_stddev, bn.renorm_mean, bn.renorm_stddev),
        (moving_mean, moving_var, moving_std, renorm_mean, renorm_std),
    ):
        assert_float64_close(buffer.numpy(), value)


def test_batch_normalization_refuses_unknown_renorm_clipping_keys():
    with pytest.raises(ValueError, match=r"renorm_clipping keys \['r_max'\] unknown"):
        BatchNormalization(3, renorm=True, renorm_clipping={"r_max": 2.0})


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def lstm_reference(x: np.ndarray, kernel, recurrent_kernel, bias) -> np.ndarray:
    """Keras's LSTMCell in float64: gates i, f, c, o in the kernel's column blocks."""
    h = c = np.zeros((x.shape[0], recurrent_kernel.shape[0]))
    outputs = []
    for t in range(x.shape[1]):
        i, f, candidate, o = np.split(x[:, t] @ kernel + h @ recurrent_kernel + bias, 4, axis=-1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(candidate)
        h = sigmoid(o) * np.tanh(c)
        outputs.append(h)
    return np.stack(outputs, axis=1)


def gru_reference(x: np.ndarray, kernel, recurrent_kernel, bias, reset_after: bool) -> np.ndarray:
    """Keras's GRUCell in float64: gates z, r, h; bias (2, 3u) with reset_after, else (3u,)."""
    u = recurrent_kernel.shape[0]
    input_bias, recurrent_bias = (bias[0], bias[1]) if reset_after else (bias, np.zeros(3 * u))
    h = np.zeros((x.shape[0], u))
    outputs = []
    for t in range(x.shape[1]):
        x_z, x_r, x_h = np.split(x[:, t] @ kernel + input_bias, 3, axis=-1)
        m_z, m_r, m_h = np.split(h @ recurrent_kernel + recurrent_bias, 3, axis=-1)
        z, r = sigmoid(x_z + m_z), sigmoid(x_r + m_r)
        reset = r * m_h if reset_after else (r * h) @ recurrent_kernel[:, 2 * u :]
        h = z * h + (1 - z) * np.tanh(x_h + reset)
        outputs.append(h)
    return np.stack(outputs, axis=1)


def with_random_weights(layer):
    layer = layer.double()
    layer.set_weights([rng.normal(scale=0.5, size=w.shape) for w in layer.get_weights()])
    return layer


@pytest.mark.parametrize("fused", [True, False], ids=["torch-kernel", "step-loop"])
def test_lstm_matches_numpy_keras_cell_in_both_paths(fused):
    # a callable activation (not the name "tanh") runs the step loop: both paths must be Keras's cell
    layer = with_random_weights(LSTM(5, 4, return_sequences=True, activation="tanh" if fused else torch.tanh))
    x = rng.normal(size=(3, 7, 5))
    expected = lstm_reference(x, *layer.get_weights())
    assert_float64_close(layer(torch.from_numpy(x)).detach().numpy(), expected)


@pytest.mark.parametrize(
    ("reset_after", "activation"), [(True, "tanh"), (True, torch.tanh), (False, "tanh")],
    ids=["reset_after-torch-kernel", "reset_after-step-loop", "reset_before"],
)
def test_gru_matches_numpy_keras_cell(reset_after, activation):
    layer = with_random_weights(GRU(5, 4, reset_after=reset_after, activation=activation, return_sequences=True))
    x = rng.normal(size=(3, 7, 5))
    expected = gru_reference(x, *layer.get_weights(), reset_after=reset_after)
    assert_float64_close(layer(torch.from_numpy(x)).detach().numpy(), expected)


@pytest.mark.parametrize(("name", "activation"), [("tanh", torch.tanh), ("relu", torch.relu)])
def test_simple_rnn_torch_kernel_equals_the_step_loop_backwards_with_states(name, activation):
    x = torch.from_numpy(rng.normal(size=(3, 7, 5)))
    kwargs = {"return_sequences": True, "return_state": True, "go_backwards": True}
    fused = with_random_weights(SimpleRNN(5, 4, activation=name, **kwargs))
    loop = SimpleRNN(5, 4, activation=activation, **kwargs).double()
    loop.set_weights(fused.get_weights())
    for a, b in zip(fused(x), loop(x)):
        assert_float64_close(a.detach().numpy(), b.detach().numpy())


def test_go_backwards_reads_the_reversed_sequence_and_returns_outputs_in_that_order():
    forward = with_random_weights(GRU(5, 4, return_sequences=True))
    backward = GRU(5, 4, return_sequences=True, go_backwards=True).double()
    backward.set_weights(forward.get_weights())
    x = torch.from_numpy(rng.normal(size=(2, 6, 5)))
    assert_float64_close(backward(x).detach().numpy(), forward(x.flip(1)).detach().numpy())


def test_input_dropout_mask_is_drawn_once_per_call_and_scaled():
    # linear cell with identity kernel and no recurrence: output_t = x_t * mask, so every step shows the mask
    layer = SimpleRNN(6, 6, activation=None, use_bias=False, dropout=0.5, return_sequences=True)
    layer.set_weights([np.eye(6), np.zeros((6, 6))])
    torch.manual_seed(0)
    y = layer.train()(torch.ones(200, 5, 6)).detach()
    assert (y == y[:, :1]).all()  # the same mask at every time step
    assert set(y.unique().tolist()) == {0.0, 2.0}  # kept cells scaled by 1 / (1 - 0.5)
    assert 0.4 < (y == 0).float().mean().item() < 0.6
    assert (layer.eval()(torch.ones(2, 5, 6)) == 1).all()  # inference: no dropout


def test_lstm_starts_with_keras_initial_weights():
    layer = LSTM(5, 4)
    assert layer.kernel.shape == (5, 16) and layer.recurrent_kernel.shape == (4, 16)
    assert layer.bias[4:8].eq(1).all() and layer.bias[:4].eq(0).all() and layer.bias[8:].eq(0).all()
    torch.testing.assert_close(layer.recurrent_kernel @ layer.recurrent_kernel.T, torch.eye(4), atol=1e-5, rtol=0)
    assert GRU(5, 4).bias.shape == (2, 12) and GRU(5, 4, reset_after=False).bias.shape == (12,)


def test_recurrent_layers_refuse_bad_arguments_in_one_line():
    with pytest.raises(ValueError, match=r"activation='hard_tanh' is not a Keras activation"):
        LSTM(5, 4, activation="hard_tanh")
    with pytest.raises(ValueError, match=r"initial_state needs 2 tensor\(s\) of shape \(2, 4\)"):
        LSTM(5, 4)(torch.zeros(2, 3, 5), initial_state=[torch.zeros(2, 4)])
    with pytest.raises(ValueError, match=r"expects \(batch, time, 5\) inputs, got \(2, 3, 6\)"):
        GRU(5, 4)(torch.zeros(2, 3, 6))
    with pytest.raises(ValueError, match=r"Keras weights of shapes"):
        SimpleRNN(5, 4).set_weights([np.zeros((4, 4)), np.zeros((4, 4)), np.zeros(4)])
