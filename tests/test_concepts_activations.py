"""The activations lesson (PyTorch side) against the functions and derivatives written out in float64 NumPy.

Tolerance unless stated: rtol 1e-6 and atol 2e-7. The lesson computes in float32 (a rounding is 6e-8 relative);
the absolute part covers values near 0 and 1 − tanh², which cancels to about one float32 spacing of 1.
"""

from __future__ import annotations

import math

import numpy as np

from ptref.concepts import activations

RTOL, ATOL = 1e-6, 2e-7
X = np.array([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0])  # exact in float32
SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805


def close(actual, expected, rtol: float = RTOL, atol: float = ATOL) -> None:
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), expected, rtol=rtol, atol=atol)


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-x))


def test_points_are_the_documented_ones() -> None:
    close(activations.points().tolist(), X, rtol=0, atol=0)


def test_sigmoid_and_its_derivative_peak_at_one_quarter() -> None:
    values = activations.sigmoid()
    s = sigmoid(X)
    close(values["σ(x)"], s)
    for key in ("σ'(x), autograd", "σ'(x) = σ(1 − σ)"):
        close(values[key], s * (1 - s))
    assert max(values["σ'(x), autograd"]) == 0.25  # at x = 0: 0.5 · 0.5, exact


def test_tanh_is_a_stretched_sigmoid() -> None:
    values = activations.tanh()
    close(values["tanh(x)"], np.tanh(X))
    close(values["2σ(2x) − 1"], np.tanh(X))
    for key in ("tanh'(x), autograd", "tanh'(x) = 1 − tanh²"):
        close(values[key], 1 / np.cosh(X) ** 2)


def test_relu_and_leaky_relu_with_torch_defaults() -> None:
    values = activations.relu_and_leaky_relu()
    close(values["relu(x)"], np.maximum(X, 0), rtol=0, atol=0)
    close(values["relu'(x), autograd"], (X > 0).astype(float), rtol=0, atol=0)  # 0 at x = 0
    close(values["leaky_relu(x), a=0.2"], np.where(X > 0, X, 0.2 * X))
    close(values["leaky_relu'(x), autograd"], np.where(X > 0, 1.0, 0.2))  # a at x = 0
    assert values["torch default a: F.leaky_relu, nn.LeakyReLU"] == [0.01, 0.01]


def test_elu_and_selu_and_the_left_derivative_of_selu_at_zero() -> None:
    values = activations.elu_and_selu()
    close(values["elu(x)"], np.where(X > 0, X, np.expm1(X)))
    elu_grad = np.where(X > 0, 1.0, np.exp(X))
    close(values["elu'(x), autograd"], elu_grad)
    close(values["elu'(x) = 1 or eˣ"], elu_grad)
    close(values["selu(x)"], SELU_SCALE * np.where(X > 0, X, SELU_ALPHA * np.expm1(X)))
    selu_grad = SELU_SCALE * np.where(X > 0, 1.0, SELU_ALPHA * np.exp(X))  # the left derivative at 0
    close(values["selu'(x), autograd"], selu_grad)
    close(values["selu'(x) = λ or λαeˣ"], selu_grad)
    close(values["selu'(0)"], SELU_SCALE * SELU_ALPHA)


def _gelu_exact(x: np.ndarray) -> np.ndarray:
    return x * 0.5 * np.vectorize(math.erfc)(-x / math.sqrt(2))


def _gelu_tanh(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))


def test_gelu_exact_tanh_approximation_and_derivative() -> None:
    values = activations.gelu_exact_vs_tanh()
    # atol 1e-6: float32 0.5·x·(1 + erf(x/√2)) cancels for negative x (torch's CPU kernel is 5e-7 off at x = −3)
    close(values["gelu(x), exact"], _gelu_exact(X), atol=1e-6)
    close(values["gelu(x), tanh approximation"], _gelu_tanh(X), atol=1e-6)
    grid = np.linspace(-6.0, 6.0, 120_001)
    gap = np.abs(_gelu_exact(grid) - _gelu_tanh(grid)).max()
    # a difference of float32 values near 2.7 (spacing 2.4e-7), on a grid 100× coarser than this one
    close(values["max |exact − tanh| on [−6, 6]"], gap, rtol=0, atol=2e-6)
    assert 4.5e-4 < gap < 4.8e-4  # the docstring's "at most 4.7e-4"
    derivative = 0.5 * np.vectorize(math.erfc)(-X / math.sqrt(2)) + X * np.exp(-(X**2) / 2) / math.sqrt(2 * math.pi)
    close(values["gelu'(x), autograd"], derivative, atol=1e-6)
    close(values["gelu'(x) = Φ + xφ"], derivative, atol=1e-6)
    assert values["torch default approximate: F.gelu, nn.GELU"] == "none"


def test_softplus_derivative_is_sigmoid_and_silu_dips_below_zero() -> None:
    values = activations.softplus_and_swish()
    close(values["softplus(x)"], np.log1p(np.exp(X)))
    close(values["softplus'(x), autograd"], sigmoid(X))
    close(values["silu(x)"], X * sigmoid(X))
    s = sigmoid(X)
    for key in ("silu'(x), autograd", "silu'(x) = σ(1 + x(1 − σ))"):
        close(values[key], s * (1 + X * (1 - s)))
    assert values["silu'(x), autograd"][0] < 0  # x = −3: the non-monotonic dip


def test_ten_sigmoids_shrink_the_gradient_below_a_millionth() -> None:
    values = activations.vanishing_gradient_chain()
    h, factors = 0.0, []
    for _ in range(10):
        s = sigmoid(np.float64(h))
        factors.append(s * (1 - s))
        h = s
    close(values["σ' of layer 1..10"], factors)
    # a product of 10 float32 factors: 10 roundings of 6e-8
    close(values["dh/dx, autograd"], np.prod(factors), rtol=1e-6, atol=0)
    close(values["product of the σ'"], np.prod(factors), rtol=1e-6, atol=0)
    assert values["bound 0.25¹⁰"] == 0.25**10 and np.prod(factors) < 0.25**10 < 1e-6
    t, tanh_grad = 1.0, 1.0
    for _ in range(10):
        tanh_grad *= 1 - np.tanh(t) ** 2
        t = np.tanh(t)
    close(values["tanh chain from x=1"], tanh_grad, rtol=1e-5, atol=0)  # 10 float32 layers of 1 − tanh²
    assert values["tanh chain from x=0"] == values["relu chain from x=1"] == 1.0
