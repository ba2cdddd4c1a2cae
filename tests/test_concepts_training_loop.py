"""The training-loop lesson against plain NumPy gradient descent on the same data."""

from __future__ import annotations

import numpy as np
import pytest

from ptref.concepts import training_loop


def _numpy_sgd(batch_size: int, epochs: int = 10, lr: float = 0.1) -> tuple[list[float], float, float]:
    """Mini-batch SGD on y = w·x + b, MSE, from w = b = 0, in float64; the Keras-style per-epoch loss."""
    x = np.linspace(-1, 1, 32)
    y = 3 * x + 2 + 0.5 * np.sin(6 * x)
    w = b = 0.0
    losses = []
    for _ in range(epochs):
        total = 0.0
        for start in range(0, 32, batch_size):
            xb, yb = x[start : start + batch_size], y[start : start + batch_size]
            error = w * xb + b - yb
            total += np.mean(error**2) * len(xb)
            w, b = w - lr * np.mean(2 * error * xb), b - lr * np.mean(2 * error)
        losses.append(total / 32)
    return losses, w, b


# float32 (torch) vs float64 (NumPy) over up to 320 updates: relative drift stays below 1e-5; 1e-4 leaves room.
RTOL = 1e-4


def test_loop_matches_numpy_minibatch_sgd() -> None:
    run = training_loop.training_loop()
    losses, w, b = _numpy_sgd(batch_size=8)
    assert run["updates per epoch"] == 4
    np.testing.assert_allclose(run["loss per epoch"], losses, rtol=RTOL)
    assert (run["w"], run["b"]) == (pytest.approx(w, rel=RTOL), pytest.approx(b, rel=RTOL))


def test_without_zero_grad_the_gradient_doubles() -> None:
    grads = training_loop.forgetting_zero_grad()
    x = np.linspace(-1, 1, 32)
    y = 3 * x + 2 + 0.5 * np.sin(6 * x)
    expected = np.mean(2 * (0 - y) * x)  # dL/dw of the MSE at w = b = 0
    assert grads["dL/dw, one pass"] == pytest.approx(expected, rel=1e-5)  # float32 mean of 32 terms
    assert grads["two passes, no zero_grad"] == pytest.approx(2 * grads["dL/dw, one pass"], rel=1e-6)
    assert grads["zero_grad, one pass"] == grads["dL/dw, one pass"]


def test_batch_minibatch_single_take_1_4_32_updates_per_epoch() -> None:
    runs = training_loop.batch_vs_minibatch_vs_single()
    assert runs["updates per epoch"] == {"batch": 1, "mini-batch": 4, "single": 32}
    for name, size in (("batch", 32), ("mini-batch", 8), ("single", 1)):
        np.testing.assert_allclose(runs["loss per epoch"][name], _numpy_sgd(size)[0], rtol=RTOL, err_msg=name)
    final = {name: curve[-1] for name, curve in runs["loss per epoch"].items()}
    assert final["single"] < final["mini-batch"] < final["batch"]  # more updates per epoch, further after 10
