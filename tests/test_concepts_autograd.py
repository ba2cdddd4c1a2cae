"""The autograd lesson shows the course's numbers, and its hand-written backprop matches finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from ptref.concepts import autograd


def test_square_derivative_at_three_is_six() -> None:
    assert autograd.square_derivative() == {"y": 9.0, "dy/dx": 6.0}


def test_persistent_tape_gives_both_gradients() -> None:
    assert autograd.persistent_tape() == {"dz/dx": 4 * 3.0**3, "dy/dx": 2 * 3.0}


def test_gradient_with_respect_to_several_sources() -> None:
    x, y = 2.0, 3.0
    assert autograd.several_sources() == {"f": x**2 * y + y, "df/dx": 2 * x * y, "df/dy": x**2 + 1}


def test_second_derivative_of_cube() -> None:
    assert autograd.second_derivative() == {"dy/dx": 3 * 3.0**2, "d2y/dx2": 6 * 3.0}


def test_worked_example_reproduces_the_course_numbers() -> None:
    # Every value is a small integer, exact in float32: compared exactly.
    assert autograd.worked_example() == {"y": 700.0, "L": 2500.0, "dL/dy": -100.0, "dL/dW": -5000.0, "dL/db": -100.0}


def test_one_gradient_descent_step_gives_w_15_b_200_1() -> None:
    step = autograd.gradient_descent_step()
    assert step["W"] == 15.0  # 10 + 0.001 * 5000 rounds to exactly 15 in float32
    assert step["b"] == pytest.approx(200.1, abs=2e-5)  # float32 spacing at 200 is 1.5e-5


def _two_layer_loss(params: dict[str, np.ndarray]) -> float:
    """The lesson's network in float64 NumPy: L = mean((σ(X·W1 + b1)·W2 + b2 − Y)²)."""
    X = np.array([[0.5, -1.0], [1.5, 2.0], [-0.5, 0.25]])
    Y = np.array([[1.0], [0.0], [0.5]])
    h = 1 / (1 + np.exp(-(X @ params["dW1"] + params["db1"])))
    return float(np.mean((h @ params["dW2"] + params["db2"] - Y) ** 2))


def test_hand_derived_backprop_matches_finite_differences() -> None:
    result = autograd.two_layer_backprop_by_hand()
    params = {
        "dW1": np.array([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]]),
        "db1": np.array([0.0, 0.1, -0.1]),
        "dW2": np.array([[0.7], [-0.8], [0.9]]),
        "db2": np.array([0.05]),
    }
    assert result["L"] == pytest.approx(_two_layer_loss(params), rel=1e-6)  # float32 forward vs float64
    for name, value in params.items():
        numeric = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            up, down = {k: v.copy() for k, v in params.items()}, {k: v.copy() for k, v in params.items()}
            up[name][index] += 1e-6
            down[name][index] -= 1e-6
            numeric[index] = (_two_layer_loss(up) - _two_layer_loss(down)) / 2e-6
        # float32 gradients of size ~0.1 carry ~1e-8 rounding; central differences in float64 ~1e-10
        np.testing.assert_allclose(result[name], numeric, atol=1e-6, err_msg=name)
    assert result["autograd agrees"] is True
