"""The gradients lesson against NumPy: backprop through the same deep networks, the same clipped chain."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from ptref.concepts import gradients


def _numpy_layer_gradient_norms(model: nn.Sequential, x: np.ndarray, y: np.ndarray, relu: bool) -> list[float]:
    """‖∂L/∂W‖ per layer by hand in float64, for MSE on (x, y), with the model's own weights."""
    linears = [m for m in model if isinstance(m, nn.Linear)]
    weights = [(m.weight.detach().double().numpy(), m.bias.detach().double().numpy()) for m in linears]
    activations, h = [x], x
    for i, (w, b) in enumerate(weights):
        z = h @ w.T + b
        last = i == len(weights) - 1
        h = z if last else (np.maximum(z, 0) if relu else 1 / (1 + np.exp(-z)))
        activations.append(h)
    delta = 2 * (h - y) / h.size
    norms = []
    for i in reversed(range(len(weights))):
        norms.append(np.linalg.norm(delta.T @ activations[i]))
        if i:
            a = activations[i]
            delta = (delta @ weights[i][0]) * ((a > 0) if relu else a * (1 - a))
    return norms[::-1]


@pytest.mark.parametrize(
    ("step", "activation", "he_init"),
    [(gradients.sigmoid_gradients_vanish, nn.Sigmoid, False), (gradients.relu_he_gradients_flow, nn.ReLU, True)],
)
def test_layer_gradient_norms_match_numpy_backprop(step, activation, he_init) -> None:
    x, y = gradients.random_batch()
    expected = _numpy_layer_gradient_norms(
        gradients.deep_network(activation, he_init), x.double().numpy(), y.double().numpy(), activation is nn.ReLU
    )
    # float32 vs float64 through 11 layers: ~1e-6 relative; 1e-4 leaves room for the smallest sigmoid norms.
    # Relative only on purpose: each norm is a product of per-layer factors, so its float32 error is relative at
    # every depth (measured ~1e-7 at 5e-9 as at 1.6); an absolute part scaled to the largest norm would exempt
    # the vanishing norms this test is about.
    np.testing.assert_allclose(step()["norm per layer"], expected, rtol=1e-4, atol=0)


def test_sigmoid_gradients_vanish_towards_the_input() -> None:
    norms = gradients.sigmoid_gradients_vanish()["norm per layer"]
    assert all(a < b for a, b in zip(norms, norms[1:]))
    assert norms[0] / norms[-1] < 1e-6


def test_relu_with_he_init_keeps_norms_within_an_order_of_magnitude() -> None:
    norms = gradients.relu_he_gradients_flow()["norm per layer"]
    assert max(norms) / min(norms) < 10


def test_he_init_has_std_sqrt_2_over_fan_in() -> None:
    model = gradients.deep_network(nn.ReLU, he_init=True)
    weights = torch.cat([m.weight.flatten() for m in list(model)[:-1] if isinstance(m, nn.Linear)])
    # 10,240 draws: the sample std is within ~1% of the true one; 5% cannot fail by chance
    assert weights.std().item() == pytest.approx(math.sqrt(2 / 32), rel=0.05)


def _numpy_chain(clip, steps: int = 80, lr: float = 0.01) -> tuple[np.ndarray, list[float]]:
    """SGD on 10 scalar weights w (all 2) with output ∏w, target 1, in float64; returns step-1 gradient, losses."""
    w = np.full(10, 2.0)
    first, losses = None, []
    for _ in range(steps):
        out = np.prod(w)
        losses.append((out - 1) ** 2)
        grad = clip(2 * (out - 1) * out / w)
        first = grad if first is None else first
        w = w - lr * grad
    return first, losses


def test_unclipped_chain_explodes_to_nan() -> None:
    run = gradients.exploding_gradients()
    assert run["gradient per layer, step 1"] == [2 * (1024 - 1) * 512.0] * 10  # exact in float32
    first, *rest = run["loss, steps 1-4"]
    assert first == (1024 - 1) ** 2
    assert not any(math.isfinite(loss) for loss in rest) and math.isnan(rest[-1])
    assert run["first step with loss < 0.01"] is None


@pytest.mark.parametrize(
    ("step", "clip"),
    [
        (gradients.clip_by_value, lambda g: np.clip(g, -5, 5)),
        (gradients.clip_by_norm, lambda g: g * min(1.0, 5 / np.linalg.norm(g))),
    ],
)
def test_clipping_matches_numpy_and_converges(step, clip) -> None:
    run = step()
    first, losses = _numpy_chain(clip)
    # torch's clip_grad_norm_ divides by norm + 1e-6: 3e-13 relative at a norm of 3.3e6
    np.testing.assert_allclose(run["gradient per layer, step 1"], first, rtol=1e-6)
    np.testing.assert_allclose(run["loss, steps 1-4"], losses[:4], rtol=1e-5)  # float32 losses near 1e6
    assert run["first step with loss < 0.01"] == next(i for i, loss in enumerate(losses, 1) if loss < 0.01)
