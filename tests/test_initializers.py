"""ptref.nn.initializers without TensorFlow: layouts, fans, seeding, float64 references of the formulas, errors.

The same initializers against Keras running live are in compare/test_initializers_tf.py.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from ptref.nn import initializers as I
from ptref.nn import keras_init_

N_DRAWS = 200_000
Z = 5.33  # two-sided normal quantile for 1e-7: a bound below fails by chance with probability < 1e-6


@pytest.mark.parametrize(
    ("torch_shape", "keras_shape", "fans"),
    [
        ((), (), (1, 1)),
        ((7,), (7,), (7, 7)),  # a bias
        ((30, 20), (20, 30), (20, 30)),  # Linear(20, 30) / Dense(30) on 20 inputs
        ((16, 4, 5), (5, 4, 16), (20, 80)),  # Conv1d(4, 16, 5)
        ((16, 4, 3, 5), (3, 5, 4, 16), (60, 240)),  # Conv2d(4, 16, (3, 5))
        ((6, 5, 2, 3, 4), (2, 3, 4, 5, 6), (120, 144)),  # Conv3d(5, 6, (2, 3, 4))
        ((48, 12), (12, 48), (12, 48)),  # LSTM(., 12).weight_hh: Keras recurrent_kernel (units, 4 units)
    ],
)
def test_torch_weight_maps_to_keras_kernel_shape_and_fans(torch_shape, keras_shape, fans):
    assert I.keras_shape(torch_shape) == keras_shape
    assert I.keras_shape(keras_shape, layout="keras") == keras_shape
    assert I.keras_fans(torch.empty(torch_shape)) == fans
    weight = torch.arange(math.prod(torch_shape), dtype=torch.float32).reshape(torch_shape)
    assert torch.equal(I.from_keras_layout(I.to_keras_layout(weight)), weight)
    assert tuple(I.to_keras_layout(weight).shape) == keras_shape


def test_fans_with_axes_multiply_the_named_axes():
    assert I.compute_fans((3, 5, 7, 11), input_axes=[0, 2], output_axes=[3]) == (21, 11)


# float64 references: the exact std and support edge of each VarianceScaling distribution for a Linear(400, 500)
# weight (fan_in 400, fan_out 500). 200k draws: the sample std is within Z/sqrt(2·200k) = 0.85% of the truth.
@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg"])
@pytest.mark.parametrize("distribution", ["truncated_normal", "untruncated_normal", "uniform", "normal"])
def test_variance_scaling_has_the_formula_std_and_support(mode, distribution):
    scale, shape = 3.0, (500, 400)
    n = {"fan_in": 400, "fan_out": 500, "fan_avg": 450}[mode]
    w = I.VarianceScaling(scale, mode, distribution, seed=0)(torch.empty(shape, dtype=torch.float64))
    std = math.sqrt(scale / n)
    assert w.std().item() == pytest.approx(std, rel=Z / math.sqrt(2 * w.numel()), abs=1e-12)
    truncated_edge = 2 * std / 0.87962566103423978
    edge = {"uniform": math.sqrt(3) * std, "untruncated_normal": math.inf}.get(distribution, truncated_edge)
    assert w.abs().max().item() <= edge
    if distribution == "untruncated_normal":  # beyond the truncated edge: 200k normals reach ~4.5 std
        assert w.abs().max().item() > truncated_edge
    else:
        assert w.abs().max().item() > 0.999 * edge  # 200k draws reach the last 0.1% of the support


def test_truncation_constant_is_the_std_of_a_unit_normal_cut_at_two():
    """0.8796... = sqrt(1 - 2·φ(2)·2 / (2Φ(2) - 1)), the std of N(0, 1) restricted to [-2, 2]."""
    phi = math.exp(-2) / math.sqrt(2 * math.pi)
    mass = math.erf(2 / math.sqrt(2))
    assert I.TRUNCATED_STD == pytest.approx(math.sqrt(1 - 4 * phi / mass), rel=1e-15, abs=0)


def test_integer_seed_repeats_and_leaves_the_global_rng_alone():
    state = torch.get_rng_state()
    init = I.HeNormal(seed=3)
    first, second = init(torch.empty(20, 10)), init(torch.empty(20, 10))
    assert torch.equal(first, second)
    assert torch.equal(torch.get_rng_state(), state)
    assert not torch.equal(first, I.HeNormal(seed=4)(torch.empty(20, 10)))


def test_generator_seed_advances_and_none_follows_the_global_rng():
    generator = torch.Generator().manual_seed(0)
    init = I.RandomUniform(seed=generator)
    assert not torch.equal(init(torch.empty(5, 5)), init(torch.empty(5, 5)))
    torch.manual_seed(11)
    a = I.GlorotUniform()(torch.empty(5, 5))
    torch.manual_seed(11)
    assert torch.equal(a, I.GlorotUniform()(torch.empty(5, 5)))


def test_keras_init_draws_what_glorot_uniform_draws():
    """keras_init_ and the GlorotUniform class share one code path: same generator, same kernel."""
    linear = keras_init_(nn.Linear(20, 30), torch.Generator().manual_seed(5))
    expected = I.GlorotUniform(seed=torch.Generator().manual_seed(5))(torch.empty(30, 20))
    assert torch.equal(linear.weight.detach(), expected)
    assert not linear.bias.any()


def test_initializer_fills_a_parameter_in_place_without_recording_grad():
    linear = nn.Linear(3, 4)
    returned = I.get("ones")(linear.weight)
    assert returned is linear.weight and linear.weight.eq(1).all() and linear.weight.grad_fn is None


def test_identity_of_a_linear_weight_is_the_transposed_keras_eye():
    assert torch.equal(I.Identity(gain=2.0)(torch.empty(3, 5)), 2.0 * torch.eye(5, 3).T)
    assert torch.equal(I.Identity()(torch.empty(3, 5), layout="keras"), torch.eye(3, 5))


def test_orthogonal_lstm_recurrent_weight_has_orthonormal_columns_times_gain():
    weight = nn.LSTM(4, 6).weight_hh_l0  # (24, 6); Keras recurrent_kernel (6, 24) gets orthonormal rows
    I.Orthogonal(gain=0.5, seed=0)(weight)
    # float32 QR of a 24x6 matrix: Q exact to ~1e-6.
    torch.testing.assert_close(weight.T @ weight, 0.25 * torch.eye(6), atol=1e-6, rtol=1e-6)


def test_constant_broadcasts_like_keras_and_get_array_copies_in_keras_layout():
    assert torch.equal(I.Constant([1.0, 2.0, 3.0])(torch.empty(3, 2)), torch.tensor([[1.0, 2.0, 3.0]] * 2).T)
    kernel = np.arange(6, dtype=np.float32).reshape(2, 3)
    assert torch.equal(I.get(kernel)(torch.empty(3, 2)), torch.from_numpy(kernel).T)


def numpy_window(name: str, length: int, periodic: bool) -> np.ndarray:
    """scipy.signal.get_window(name, length, fftbins=periodic) in NumPy: a periodic window is the symmetric one of
    length + 1 without its last point."""
    symmetric = {"hann": np.hanning, "hamming": np.hamming, "blackman": np.blackman, "bartlett": np.bartlett}[name]
    return symmetric(length + 1)[:-1] if periodic else symmetric(length)


@pytest.mark.parametrize("window", ["hann", "hamming", "blackman", "bartlett"])
@pytest.mark.parametrize("periodic", [False, True])
@pytest.mark.parametrize(("side", "scaling"), [("real", "density"), ("imag", "spectrum"), ("real", None)])
def test_stft_kernel_equals_the_float64_formula(window, periodic, side, scaling):
    frames, bins = 12, 7
    w = numpy_window(window, frames, periodic)
    t, f = np.arange(frames)[:, None, None], np.arange(bins)[None, None, :]
    angle = -2 * np.pi * t * f / (2 * (bins - 1))
    expected = (np.cos(angle) if side == "real" else np.sin(angle)) * w[:, None, None]
    expected /= {"density": np.sqrt(np.sum(w**2)), "spectrum": np.sum(np.abs(w)), None: 1.0}[scaling]
    init = I.STFT(side, window, scaling, periodic)
    # 1e-12: both are float64 evaluations of the same closed form (|values| <= 1).
    np.testing.assert_allclose(init.sample((frames, 1, bins), torch.float64).numpy(), expected, atol=1e-12, rtol=1e-12)
    conv = nn.Conv1d(1, bins, frames, dtype=torch.float64)  # the Keras kernel (T, 1, F) as a torch weight (F, 1, T)
    np.testing.assert_allclose(init(conv.weight).detach().numpy(), expected.transpose(2, 1, 0), atol=1e-12, rtol=1e-12)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: I.get("he_norm"), "unknown initializer 'he_norm'"),
        (lambda: I.get({"config": {}}), "needs a 'class_name' key"),
        (lambda: I.get(3), "could not interpret initializer identifier 3"),
        (lambda: I.VarianceScaling(scale=0.0), "scale must be a positive float, got scale=0.0"),
        (lambda: I.VarianceScaling(mode="fan_sum"), "mode must be 'fan_in', 'fan_out' or 'fan_avg'"),
        (lambda: I.VarianceScaling(distribution="gamma"), "distribution must be 'uniform'"),
        (lambda: I.RandomNormal(seed=1.5), "seed must be an int, a torch.Generator or None, got 1.5"),
        (lambda: I.Identity()(torch.empty(2, 2, 2)), r"rank-2 .* got shape \(2, 2, 2\)"),
        (lambda: I.Orthogonal()(torch.empty(4)), r"rank >= 2, got shape \(4,\)"),
        (lambda: I.STFT(window="kaiser"), "STFT window 'kaiser' is not one of"),
        (lambda: I.STFT(window=[1.0, 2.0])(torch.empty(5, 1, 3)), r"shape \(2,\), the frame length needs \(3,\)"),
        (lambda: I.get(np.zeros((2, 3)))(torch.empty(2, 3)), r"shape \(2, 3\), the weight's Keras shape is \(3, 2\)"),
        (lambda: I.Zeros()(torch.empty(2, 2), layout="tf"), "layout must be 'torch' or 'keras', got 'tf'"),
    ],
)
def test_bad_arguments_are_refused_in_one_line_naming_them(make, message):
    with pytest.raises(ValueError, match=message):
        make()
