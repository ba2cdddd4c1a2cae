"""ptref.nn.initializers beside keras.initializers running live: names, configs, fans, and distributions.

Random streams cannot match across frameworks, so a random initializer is checked as a distribution: ~100k draws
from Keras's initializer and ~100k from ptref's for the same Keras shape and arguments (non-default ones) must
pass a two-sample Kolmogorov-Smirnov test and agree in mean, std and bounds, with every bound derived from the
sample size below. Deterministic initializers (Zeros, Ones, Constant, Identity, STFT) are compared value by value.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest
import torch
from keras.src.initializers import ALL_OBJECTS_DICT
from keras.src.initializers.random_initializers import compute_fans as keras_compute_fans
from torch import nn

from ptref.nn import initializers as I

# A test that holds in truth fails by chance with probability <= ALPHA (each statistical bound below).
ALPHA = 1e-6
Z = 5.33  # two-sided normal quantile of ALPHA: P(|N(0, 1)| > 5.33) = 1e-7 < ALPHA


def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic: the largest gap between the two empirical CDFs."""
    a, b = np.sort(a.ravel()), np.sort(b.ravel())
    grid = np.concatenate([a, b])
    return float(np.abs(np.searchsorted(a, grid, "right") / a.size - np.searchsorted(b, grid, "right") / b.size).max())


def ks_limit(n: int, m: int, alpha: float = ALPHA) -> float:
    """KS critical value: two samples of one distribution exceed it with probability ~alpha (Smirnov's asymptotic
    law, P(D > c·sqrt((n+m)/(nm))) ≈ 2·exp(-2c²)); 0.0122 for n = m = 100,000 and alpha = 1e-6."""
    return math.sqrt(-math.log(alpha / 2) / 2) * math.sqrt((n + m) / (n * m))


def draws(keras_init: keras.initializers.Initializer, ours: I.Initializer, keras_shape: tuple[int, ...],
          torch_weight: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """Keras's sample for ``keras_shape`` and ptref's fill of the twin torch weight (``layout="torch"``)."""
    assert I.keras_shape(torch_weight.shape) == keras_shape
    return keras_init(keras_shape).numpy().ravel(), ours(torch_weight).numpy().ravel()


def assert_same_distribution(theirs: np.ndarray, ours: np.ndarray, std: float, bound: float | None) -> None:
    """KS, mean, std against each other and the exact std; ``bound``: the support's edge, reached by both."""
    n = theirs.size
    assert ks_statistic(theirs, ours) < ks_limit(n, ours.size)
    # Means: each is within Z·std/sqrt(n) of 0; std estimates have standard error <= std/sqrt(2n) for
    # kurtosis <= 3 (uniform 1.8, truncated normal 2.6, normal 3).
    assert abs(theirs.mean()) < Z * std / math.sqrt(n) and abs(ours.mean()) < Z * std / math.sqrt(n)
    for sample in (theirs, ours):
        assert sample.std() == pytest.approx(std, rel=Z / math.sqrt(2 * n), abs=1e-12)  # abs: std is never 0
    if bound is not None:
        # float32 rounding may put a draw one ulp past the bound; 100k draws come within 0.1% of it (a uniform
        # misses the last 0.1% with probability 0.999^1e5 ~ e^-100, a truncated normal's density there is ~1/5).
        for sample in (theirs, ours):
            assert np.abs(sample).max() <= bound * (1 + 1e-6) and np.abs(sample).max() > 0.999 * bound


DENSE = ((200, 500), torch.empty(500, 200))  # Dense(200 -> 500) / Linear(200, 500): fan_in 200, fan_out 500
CONV = ((3, 3, 64, 160), torch.empty(160, 64, 3, 3))  # Conv2D / Conv2d, 64 -> 160 channels: fans 576, 1440

VARIANCE_SCALING = [
    (scale, mode, distribution, *shape)
    for scale in (0.7,)
    for mode in ("fan_in", "fan_out", "fan_avg")
    for distribution in ("truncated_normal", "untruncated_normal", "uniform")
    for shape in (DENSE, CONV)
]


@pytest.mark.parametrize(("scale", "mode", "distribution", "keras_shape", "torch_weight"), VARIANCE_SCALING,
                         ids=[f"{m}-{d}-{len(s)}d" for _, m, d, s, _ in VARIANCE_SCALING])
def test_variance_scaling_draws_from_keras_distribution(scale, mode, distribution, keras_shape, torch_weight):
    theirs, ours = draws(keras.initializers.VarianceScaling(scale, mode, distribution, seed=1),
                         I.VarianceScaling(scale, mode, distribution, seed=1), keras_shape, torch_weight)
    fan_in, fan_out = keras_compute_fans(keras_shape)
    std = math.sqrt(scale / {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode])
    bound = {"uniform": math.sqrt(3) * std, "truncated_normal": 2 * std / 0.87962566103423978}.get(distribution)
    assert_same_distribution(theirs, ours, std, bound)


PRESETS = [  # (name, variance scale, fan used, distribution)
    ("GlorotUniform", 1.0, "fan_avg", "uniform"),
    ("GlorotNormal", 1.0, "fan_avg", "truncated_normal"),
    ("HeUniform", 2.0, "fan_in", "uniform"),
    ("HeNormal", 2.0, "fan_in", "truncated_normal"),
    ("LecunUniform", 1.0, "fan_in", "uniform"),
    ("LecunNormal", 1.0, "fan_in", "truncated_normal"),
]


@pytest.mark.parametrize(("name", "scale", "mode", "distribution"), PRESETS, ids=[p[0] for p in PRESETS])
@pytest.mark.parametrize(("keras_shape", "torch_weight"), [DENSE, CONV], ids=["dense", "conv2d"])
def test_preset_draws_from_keras_distribution(name, scale, mode, distribution, keras_shape, torch_weight):
    snake = I._snake_case(name)  # looked up by its snake_case name, as in Dense(kernel_initializer="he_normal")
    theirs, ours = draws(keras.initializers.get({"class_name": name, "config": {"seed": 3}}),
                         I.get({"class_name": snake, "config": {"seed": 3}}), keras_shape, torch_weight)
    fan_in, fan_out = keras_compute_fans(keras_shape)
    std = math.sqrt(scale / {"fan_in": fan_in, "fan_avg": (fan_in + fan_out) / 2}[mode])
    bound = math.sqrt(3) * std if distribution == "uniform" else 2 * std / 0.87962566103423978
    assert_same_distribution(theirs, ours, std, bound)


@pytest.mark.parametrize(
    ("name", "config", "std", "bound"),
    [
        ("RandomNormal", {"mean": 0.0, "stddev": 0.3}, 0.3, None),
        ("TruncatedNormal", {"mean": 0.0, "stddev": 0.3}, 0.3 * 0.87962566103423978, 0.6),
        ("RandomUniform", {"minval": -0.2, "maxval": 0.2}, 0.2 / math.sqrt(3), 0.2),
    ],
)
def test_fixed_distribution_matches_keras(name, config, std, bound):
    theirs, ours = draws(keras.initializers.get({"class_name": name, "config": {**config, "seed": 5}}),
                         I.get({"class_name": name, "config": {**config, "seed": 5}}), *DENSE)
    assert_same_distribution(theirs, ours, std, bound)


@pytest.mark.parametrize(
    ("name", "config", "low", "high"),
    [("RandomNormal", {"mean": 1.5, "stddev": 0.25}, None, None),
     ("TruncatedNormal", {"mean": 1.5, "stddev": 0.25}, 1.0, 2.0),
     ("RandomUniform", {"minval": 0.5, "maxval": 2.0}, 0.5, 2.0)],
)
def test_shifted_distribution_matches_keras(name, config, low, high):
    identifier = {"class_name": name, "config": config}
    theirs, ours = draws(keras.initializers.get(identifier), I.get(identifier), *DENSE)
    assert ks_statistic(theirs, ours) < ks_limit(theirs.size, ours.size)
    for sample in (theirs, ours):
        if low is not None:  # float32 rounding may land one ulp outside
            assert sample.min() >= low * (1 - 1e-6) and sample.max() <= high * (1 + 1e-6)


def test_statistical_checks_tell_wrong_fans_truncation_and_layout_apart():
    """The statistical checks have teeth: the nearest wrong distributions fail them."""
    keras_glorot = keras.initializers.GlorotUniform(seed=0)(DENSE[0]).numpy()
    assert ks_statistic(keras_glorot, I.HeUniform(seed=0)(DENSE[1]).numpy()) > 10 * ks_limit(10**5, 10**5)
    keras_truncated = keras.initializers.VarianceScaling(distribution="truncated_normal", seed=0)(DENSE[0]).numpy()
    untruncated = I.VarianceScaling(distribution="untruncated_normal", seed=0)(DENSE[1]).numpy()
    bound = 2 * math.sqrt(1 / 200) / 0.87962566103423978
    # the bound check tells them apart: Keras's truncated draws stay within it (one float32 ulp past it at most,
    # as in assert_same_distribution), untruncated ones go far past it
    assert np.abs(keras_truncated).max() <= bound * (1 + 1e-6)
    assert np.abs(untruncated).max() > 1.5 * bound
    # A torch Linear weight (out, in) read as if it were Keras's (in, out) swaps fan_in and fan_out.
    keras_lecun = keras.initializers.LecunNormal(seed=0)(DENSE[0]).numpy()
    swapped = I.LecunNormal(seed=0)(torch.empty(200, 500)).numpy()
    assert ks_statistic(keras_lecun, swapped) > 5 * ks_limit(10**5, 10**5)


# --- names and configs -------------------------------------------------------------------------------------------

KERAS_FUNCTIONS = {"get", "serialize", "deserialize"}


def test_every_keras_initializer_name_is_known_to_get():
    names = [n for n in dir(keras.initializers) if not n.startswith("_") and n not in KERAS_FUNCTIONS]
    assert set(names) <= set(I.NAMES)
    assert set(ALL_OBJECTS_DICT) == set(I.NAMES)  # what keras.initializers.get looks names up in
    for name in ALL_OBJECTS_DICT:
        if name in ("Initializer", "initializer"):  # the abstract base class
            continue
        # by class: keras.initializers.get("constant") and get("stft") fail in Keras 3.15 (Constant.from_config
        # needs "value"; STFT's default window needs scipy), ptref gives them Keras's constructor defaults
        assert type(I.get(name)).__name__ == ALL_OBJECTS_DICT[name].__name__, name


NON_DEFAULT = [
    keras.initializers.Constant(0.37),
    keras.initializers.Identity(gain=2.5),
    keras.initializers.Ones(),
    keras.initializers.Zeros(),
    keras.initializers.STFT(side="imag", window=[0.5, 1.0, 0.5], scaling="spectrum", periodic=True),
    keras.initializers.RandomNormal(mean=0.1, stddev=0.2, seed=7),
    keras.initializers.TruncatedNormal(mean=0.1, stddev=0.2, seed=7),
    keras.initializers.RandomUniform(minval=-1.0, maxval=2.0, seed=7),
    keras.initializers.VarianceScaling(2.0, "fan_out", "uniform", seed=7, input_axes=[0], output_axes=[1]),
    keras.initializers.VarianceScaling(0.5, "fan_avg", "normal"),
    keras.initializers.Orthogonal(gain=3.0, seed=7),
    *(getattr(keras.initializers, name)(seed=7) for name, *_ in PRESETS),
]


@pytest.mark.parametrize("theirs", NON_DEFAULT, ids=lambda k: type(k).__name__)
def test_get_rebuilds_a_keras_config_and_a_keras_object(theirs):
    config = keras.initializers.serialize(theirs)
    pairs = [(I.get(config), keras.initializers.deserialize(config)), (I.get(theirs), theirs)]
    for ours, keras_twin in pairs:
        assert type(ours).__name__ == type(keras_twin).__name__
        # every argument, also those Keras's get_config leaves out (Identity's gain: its config loses it)
        arguments = {k: getattr(keras_twin, k) for k in ours.get_config() if k != "seed"}
        assert ours.get_config() == {**arguments, **keras_twin.get_config()}


def test_get_takes_classes_callables_arrays_and_none():
    assert isinstance(I.get(I.HeNormal), I.HeNormal) and I.get(None) is None
    instance, function = I.Orthogonal(gain=2.0), lambda tensor: tensor
    assert I.get(instance) is instance and I.get(function) is function
    kernel = np.arange(6, dtype=np.float32).reshape(2, 3)  # a Keras Dense(2 -> 3) kernel
    expected = keras.initializers.get(kernel)((2, 3)).numpy()
    np.testing.assert_array_equal(I.get(kernel).sample((2, 3)).numpy(), expected)
    np.testing.assert_array_equal(I.get(kernel)(torch.empty(3, 2)).numpy(), expected.T)  # Linear(2, 3).weight


def test_unknown_name_is_refused_naming_it():
    with pytest.raises(ValueError, match="unknown initializer 'glorot'"):
        I.get("glorot")
    with pytest.raises(ValueError):  # Keras refuses it too: names are case-sensitive
        keras.initializers.get("Glorot_Uniform")
    with pytest.raises(ValueError, match="unknown initializer 'Glorot_Uniform'"):
        I.get("Glorot_Uniform")


# --- deterministic initializers: exact ---------------------------------------------------------------------------


@pytest.mark.parametrize("theirs", NON_DEFAULT[:4], ids=lambda k: type(k).__name__)
@pytest.mark.parametrize("keras_shape", [(3, 5), (5, 3)])
def test_deterministic_initializer_equals_keras(theirs, keras_shape):
    ours = I.get(theirs)
    expected = theirs(keras_shape).numpy()
    np.testing.assert_array_equal(ours.sample(keras_shape).numpy(), expected)  # exact: no arithmetic to round
    torch_weight = torch.empty(keras_shape[::-1])  # the twin Linear weight
    np.testing.assert_array_equal(ours(torch_weight).numpy(), expected.T)


def test_constant_and_ones_fill_conv_kernels_and_biases_as_keras():
    for theirs in NON_DEFAULT[:4:2] + NON_DEFAULT[3:4]:
        ours = I.get(theirs)
        conv_kernel = theirs((3, 3, 4, 8)).numpy()  # Conv2D(8, 3) on 4 channels; torch Conv2d(4, 8, 3)
        np.testing.assert_array_equal(ours(torch.empty(8, 4, 3, 3)).numpy(), conv_kernel.transpose(3, 2, 0, 1))
        np.testing.assert_array_equal(ours(torch.empty(8)).numpy(), theirs((8,)).numpy())


@pytest.mark.parametrize(
    "config",
    [
        {"side": "real", "window": None, "scaling": None},
        {"side": "imag", "window": None, "scaling": "density"},
        {"side": "real", "window": list(np.linspace(0.1, 1.0, 16)), "scaling": "density"},
        {"side": "imag", "window": list(np.linspace(0.1, 1.0, 16)), "scaling": "spectrum", "periodic": True},
    ],
)
def test_stft_kernel_equals_keras(config):
    """Keras's STFT looks window names up in scipy (not installed here): named windows are checked against NumPy
    in tests/test_initializers.py; arrays and None go through the same formula here."""
    theirs, ours = keras.initializers.STFT(**config), I.STFT(**config)
    shape = (16, 1, 9)  # 16-sample frames, 9 frequency bins (fft length 16)
    # float64: both compute cos/sin of the same angles, |values| <= 1: 1e-12 covers libm differences.
    np.testing.assert_allclose(ours.sample(shape, dtype=torch.float64).numpy(), theirs(shape, "float64").numpy(),
                               atol=1e-12, rtol=1e-12)
    # float32: Keras forms angles up to 2π·15·8/16 ≈ 47 rad in float32 (error ~47·6e-8 = 3e-6); ptref in float64.
    np.testing.assert_allclose(ours(torch.empty(9, 1, 16)).numpy(), theirs(shape).numpy().transpose(2, 1, 0),
                               atol=1e-5, rtol=1e-5)


# --- Orthogonal: structure, gain and the Haar distribution -------------------------------------------------------


@pytest.mark.parametrize(("keras_shape", "torch_weight"), [((40, 160), torch.empty(160, 40)),  # LSTM recurrent
                                                            ((160, 40), torch.empty(40, 160)),
                                                            ((3, 3, 8, 16), torch.empty(16, 8, 3, 3))])
def test_orthogonal_is_orthogonal_with_gain_like_keras(keras_shape, torch_weight):
    gain = 1.7
    theirs = keras.initializers.Orthogonal(gain=gain, seed=1)(keras_shape).numpy()
    ours = I.to_keras_layout(I.Orthogonal(gain=gain, seed=1)(torch_weight)).numpy()  # back to the Keras shape
    for sample in (theirs, ours):
        flat = sample.reshape(-1, keras_shape[-1])
        gram = flat.T @ flat if flat.shape[0] >= flat.shape[1] else flat @ flat.T
        # float32 QR: entries of Q are exact to ~1e-6; the Gram matrix sums 160 products of size ~1/160.
        np.testing.assert_allclose(gram, gain**2 * np.eye(len(gram)), atol=1e-5 * gain**2, rtol=0)


def test_orthogonal_entries_are_distributed_as_keras():
    """Haar-distributed Q has E[q_ij] = 0; QR without Keras's sign fix gives q_11 < 0 almost always."""
    theirs = np.array([keras.initializers.Orthogonal(seed=s)((4, 4)).numpy()[0, 0] for s in range(400)])
    generator = torch.Generator().manual_seed(0)
    ours = np.array([I.Orthogonal(seed=generator).sample((4, 4))[0, 0].item() for _ in range(400)])
    assert ks_statistic(theirs, ours) < ks_limit(400, 400)
    for sample in (theirs, ours):  # q_11 has variance 1/4; its mean of 400 is within Z·0.5/20 of 0
        assert abs(sample.mean()) < Z * 0.5 / 20


# --- fans of Keras layers' kernels and their torch twins ---------------------------------------------------------

LAYER_TWINS = [
    (keras.layers.Dense(30), (None, 20), nn.Linear(20, 30), "weight", "kernel"),
    (keras.layers.Conv1D(16, 5), (None, 50, 4), nn.Conv1d(4, 16, 5), "weight", "kernel"),
    (keras.layers.Conv2D(16, (3, 5)), (None, 28, 28, 4), nn.Conv2d(4, 16, (3, 5)), "weight", "kernel"),
    (keras.layers.Conv3D(6, (2, 3, 4)), (None, 8, 8, 8, 5), nn.Conv3d(5, 6, (2, 3, 4)), "weight", "kernel"),
    (keras.layers.Conv2DTranspose(6, 3), (None, 8, 8, 5), nn.ConvTranspose2d(5, 6, 3), "weight", "kernel"),
    (keras.layers.LSTM(12), (None, 7, 5), nn.LSTM(5, 12), "weight_ih_l0", "kernel"),
    (keras.layers.LSTM(12), (None, 7, 5), nn.LSTM(5, 12), "weight_hh_l0", "recurrent_kernel"),
    (keras.layers.GRU(12, reset_after=True), (None, 7, 5), nn.GRU(5, 12), "weight_hh_l0", "recurrent_kernel"),
]


@pytest.mark.parametrize(("layer", "input_shape", "twin", "weight", "kernel"), LAYER_TWINS,
                         ids=[f"{type(t[0]).__name__}-{t[4]}" for t in LAYER_TWINS])
def test_torch_weight_has_the_keras_kernel_shape_and_fans(layer, input_shape, twin, weight, kernel):
    layer.build(input_shape)
    keras_kernel_shape = tuple(getattr(layer.cell if hasattr(layer, "cell") else layer, kernel).shape)
    torch_weight = getattr(twin, weight)
    assert I.keras_shape(torch_weight.shape) == keras_kernel_shape
    assert I.keras_fans(torch_weight) == keras_compute_fans(keras_kernel_shape)
    assert I.compute_fans(keras_kernel_shape) == keras_compute_fans(keras_kernel_shape)


@pytest.mark.parametrize(("input_axes", "output_axes"), [([0, 1], [3]), ([2], [0, 1, 3]), (None, [1])])
def test_fans_with_axes_equal_keras(input_axes, output_axes):
    shape = (3, 5, 7, 11)
    assert I.compute_fans(shape, input_axes, output_axes) == keras_compute_fans(shape, input_axes, output_axes)


def test_he_uniform_conv2d_twin_draws_like_keras_conv2d_layer():
    layer = keras.layers.Conv2D(128, 3, kernel_initializer="he_uniform")
    layer.build((None, 32, 32, 96))  # kernel (3, 3, 96, 128): 110,592 draws
    conv = nn.Conv2d(96, 128, 3)
    I.get("he_uniform")(conv.weight)
    bound = math.sqrt(6 / (9 * 96))
    assert_same_distribution(layer.kernel.numpy().ravel(), conv.weight.detach().numpy().ravel(), bound / math.sqrt(3),
                             bound)
