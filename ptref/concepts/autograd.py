"""Automatic differentiation: GradientTape ↔ autograd, and backpropagation by hand.

TensorFlow records the operations run inside a ``tf.GradientTape`` you open; PyTorch records every operation
on a tensor with ``requires_grad=True`` as it runs, and ``backward()`` (or ``torch.autograd.grad``) walks
that record backwards with the chain rule. TensorFlow twin: ``compare/concepts/autograd_tf.py``.
"""

from __future__ import annotations

import torch


def square_derivative() -> dict[str, float]:
    """y = x² at x = 3: dy/dx = 2x = 6.

    TF: ``with tf.GradientTape() as tape: y = x**2`` then ``tape.gradient(y, x)``. PyTorch: no tape to
    open, ``y.backward()`` fills ``x.grad``.
    """
    x = torch.tensor(3.0, requires_grad=True)
    y = x**2
    y.backward()
    return {"y": y.item(), "dy/dx": x.grad.item()}


def persistent_tape() -> dict[str, float]:
    """Two gradients from one recording: ``GradientTape(persistent=True)`` ↔ ``retain_graph=True``.

    y = x², z = y² = x⁴ at x = 3: dz/dx = 4x³ = 108 and dy/dx = 2x = 6. A tape is freed after one
    ``gradient`` call unless it is persistent; PyTorch frees the graph after one backward pass unless
    asked to retain it.
    """
    x = torch.tensor(3.0, requires_grad=True)
    y = x**2
    z = y**2
    # z's backward pass would free y's part of the graph: keep it for the 2nd call
    (dz_dx,) = torch.autograd.grad(z, x, retain_graph=True)
    (dy_dx,) = torch.autograd.grad(y, x)
    return {"dz/dx": dz_dx.item(), "dy/dx": dy_dx.item()}


def several_sources() -> dict[str, float]:
    """Gradient with respect to several inputs at once: f = x²·y + y at x = 2, y = 3.

    ∂f/∂x = 2xy = 12, ∂f/∂y = x² + 1 = 5. TF: ``tape.gradient(f, [x, y])``.
    """
    x = torch.tensor(2.0, requires_grad=True)
    y = torch.tensor(3.0, requires_grad=True)
    f = x**2 * y + y
    df_dx, df_dy = torch.autograd.grad(f, [x, y])
    return {"f": f.item(), "df/dx": df_dx.item(), "df/dy": df_dy.item()}


def second_derivative() -> dict[str, float]:
    """Second derivative: nested tapes ↔ ``create_graph=True``. y = x³ at x = 3: y' = 3x² = 27, y'' = 6x = 18.

    ``create_graph=True`` records the backward pass itself, so its result can be differentiated again.
    """
    x = torch.tensor(3.0, requires_grad=True)
    y = x**3
    (dy_dx,) = torch.autograd.grad(y, x, create_graph=True)
    (d2y_dx2,) = torch.autograd.grad(dy_dx, x)
    return {"dy/dx": dy_dx.item(), "d2y/dx2": d2y_dx2.item()}


def worked_example() -> dict[str, float]:
    """The course's worked example: y = W·x + b, L = (y − y_true)², W=10, x=50, b=200, y_true=750.

    Forward: y = 700, L = 2500. Backward (chain rule): dL/dy = 2(y − y_true) = −100,
    dL/dW = dL/dy · x = −5000, dL/db = dL/dy · 1 = −100.
    """
    W = torch.tensor(10.0, requires_grad=True)
    b = torch.tensor(200.0, requires_grad=True)
    x, y_true = torch.tensor(50.0), torch.tensor(750.0)
    y = W * x + b
    y.retain_grad()  # .grad is kept for leaves (W, b) only, unless asked
    L = (y - y_true) ** 2
    L.backward()
    return {
        "y": y.item(),
        "L": L.item(),
        "dL/dy": y.grad.item(),
        "dL/dW": W.grad.item(),
        "dL/db": b.grad.item(),
    }


def gradient_descent_step() -> dict[str, float]:
    """One gradient-descent step on the worked example, lr = 0.001.

    W ← W − lr·dL/dW = 10 − 0.001·(−5000) = 15, b ← 200 − 0.001·(−100) = 200.1.
    TF: ``W.assign_sub(lr * dW)``.
    """
    W = torch.tensor(10.0, requires_grad=True)
    b = torch.tensor(200.0, requires_grad=True)
    L = (W * 50.0 + b - 750.0) ** 2
    L.backward()
    lr = 0.001
    with torch.no_grad():  # the update itself must not be recorded
        W -= lr * W.grad
        b -= lr * b.grad
    return {"W": W.item(), "b": b.item()}


def two_layer_backprop_by_hand() -> dict[str, object]:
    """Backpropagation written out for a 2-layer network, checked against autograd.

    Forward: h = σ(X·W1 + b1), ŷ = h·W2 + b2, L = mean((ŷ − Y)²) over the N rows. Backward, layer by layer:
    δ2 = dL/dŷ = 2(ŷ − Y)/N, dW2 = hᵀ·δ2, db2 = Σ_rows δ2; δ1 = (δ2·W2ᵀ) ⊙ h(1 − h) (σ' = σ(1 − σ)),
    dW1 = Xᵀ·δ1, db1 = Σ_rows δ1.
    """
    X = torch.tensor([[0.5, -1.0], [1.5, 2.0], [-0.5, 0.25]])
    Y = torch.tensor([[1.0], [0.0], [0.5]])
    W1 = torch.tensor([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]], requires_grad=True)
    b1 = torch.tensor([0.0, 0.1, -0.1], requires_grad=True)
    W2 = torch.tensor([[0.7], [-0.8], [0.9]], requires_grad=True)
    b2 = torch.tensor([0.05], requires_grad=True)

    h = torch.sigmoid(X @ W1 + b1)
    y_hat = h @ W2 + b2
    L = ((y_hat - Y) ** 2).mean()
    L.backward()

    with torch.no_grad():
        delta2 = 2 * (y_hat - Y) / len(X)
        dW2, db2 = h.T @ delta2, delta2.sum(0)
        delta1 = (delta2 @ W2.T) * h * (1 - h)
        dW1, db1 = X.T @ delta1, delta1.sum(0)

    by_hand = {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
    by_autograd = {"dW1": W1.grad, "db1": b1.grad, "dW2": W2.grad, "db2": b2.grad}
    agree = all(torch.allclose(by_hand[k], by_autograd[k]) for k in by_hand)
    return {
        "L": L.item(),
        **{name: g.tolist() for name, g in by_hand.items()},
        "autograd agrees": agree,
    }


STEPS = (
    square_derivative,
    persistent_tape,
    several_sources,
    second_derivative,
    worked_example,
    gradient_descent_step,
    two_layer_backprop_by_hand,
)
