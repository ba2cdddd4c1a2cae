"""Optimizers: gradient descent, mini-batch, SGD, momentum, Nesterov; by hand (NumPy), ptref.optim, torch.optim.

Every rule starts at w = (1, 1) and is fed the same four gradients (``follow``), whose second coordinate is 16×
the first: momentum moves that coordinate 16× further (``ptref lesson adaptive_optimizers`` shows the rules that
do not). Where the course texts write a rule in another form than the libraries run, the step shows both; the
last step races them down a valley (``--plots``). TensorFlow twin: ``compare/concepts/optimizers_tf.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import torch

from ptref import optim
from ptref.concepts.plotting import save_paths_plot

W0 = np.array([1.0, 1.0])
GRADIENTS = np.array([[0.5, 8.0], [0.25, -4.0], [-0.5, 2.0], [0.25, 0.125]])
LR, BETA, EPS = 0.1, 0.9, 1e-7
Make = Callable[[list[torch.Tensor]], torch.optim.Optimizer]


def follow(make: Make) -> list[list[float]]:
    """w (float32) after each of the ``GRADIENTS``, set as ``w.grad`` and applied by the optimizer ``make([w])``."""
    w = torch.tensor(W0, dtype=torch.float32, requires_grad=True)
    optimizer, path = make([w]), []
    for g in GRADIENTS:
        w.grad = torch.tensor(g, dtype=torch.float32)
        optimizer.step()
        path.append(w.tolist())
    return path


def fit_line(make: Make, batch_size: int) -> list[float]:
    """One epoch of y = w·x + b from w = b = 0 on ``line_data()``, MSE, batches in order; returns [w, b]."""
    x, y = (torch.tensor(a, dtype=torch.float32) for a in line_data())
    w, b = torch.zeros((), requires_grad=True), torch.zeros((), requires_grad=True)
    optimizer = make([w, b])
    for i in range(0, len(x), batch_size):
        loss = torch.mean((w * x[i : i + batch_size] + b - y[i : i + batch_size]) ** 2)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return [w.item(), b.item()]


def line_data() -> tuple[np.ndarray, np.ndarray]:
    """8 points of y = 2x + 1, x from −1.5 to 2 in steps of 0.5."""
    x = np.arange(-1.5, 2.5, 0.5)
    return x, 2 * x + 1


def valley(w: torch.Tensor) -> torch.Tensor:
    """f(w) = (w₁² + 10·w₂²)/2: a valley 10× steeper across than along, the minimum at (0, 0)."""
    return (w[0] ** 2 + 10 * w[1] ** 2) / 2


def descend(make: Make, steps: int = 30) -> list[list[float]]:
    """The points w visits minimising ``valley`` from (−4, 1.5) with the optimizer ``make([w])``, start included."""
    w = torch.tensor([-4.0, 1.5], requires_grad=True)
    optimizer, path = make([w]), [w.tolist()]
    for _ in range(steps):
        optimizer.zero_grad()
        valley(w).backward()
        optimizer.step()
        path.append(w.tolist())
    return path


def gradient_descent_variants() -> dict[str, object]:
    """GD, mini-batch and SGD run one rule, w ← w − α·∇L; they differ in what the gradient averages over.

    All 8 examples (1 update per epoch), 4 (2 updates) or 1 (8 updates, "stochastic"). α = 0.1, one epoch,
    the gradient of L = mean((w·x + b − y)²) written out: ∂L/∂w = 2·mean(e·x), ∂L/∂b = 2·mean(e), e = w·x + b − y.
    """
    x, y = line_data()
    by_hand, ptref_sgd, torch_sgd = {}, {}, {}
    for name, size in (("GD", 8), ("mini-batch", 4), ("SGD", 1)):
        w = b = 0.0
        for i in range(0, len(x), size):
            e = w * x[i : i + size] + b - y[i : i + size]
            w, b = w - LR * 2 * np.mean(e * x[i : i + size]), b - LR * 2 * np.mean(e)
        by_hand[name] = [float(w), float(b)]
        ptref_sgd[name] = fit_line(lambda p: optim.SGD(p, learning_rate=LR), size)
        torch_sgd[name] = fit_line(lambda p: torch.optim.SGD(p, lr=LR), size)
    return {"by hand (NumPy)": by_hand, "ptref.optim.SGD": ptref_sgd, "torch.optim.SGD": torch_sgd}


def momentum() -> dict[str, object]:
    """Momentum as the libraries run it: v ← β·v − α·g, w ← w + v (α = 0.1, β = 0.9).

    torch keeps b ← β·b + g and steps w ← w − α·b: the same path while α is constant (b = −v/α).
    """
    w, v, path = W0.copy(), np.zeros(2), []
    for g in GRADIENTS:
        v = BETA * v - LR * g
        w = w + v
        path.append(w.tolist())
    return {
        "by hand (NumPy)": path,
        "ptref.optim.SGD": follow(lambda p: optim.SGD(p, learning_rate=LR, momentum=BETA)),
        "torch.optim.SGD": follow(lambda p: torch.optim.SGD(p, lr=LR, momentum=BETA)),
    }


def momentum_as_ema() -> dict[str, object]:
    """The texts' momentum is an average: v ← β·v + (1−β)·g, w ← w − α·v. It is SGD(lr = α(1−β), momentum = β).

    Unrolled, the libraries' velocity is −lr·Σβᵏg, the average's −α(1−β)·Σβᵏg: equal when lr = α(1−β).
    Porting it as SGD(α, β) moves 1/(1−β) times as far. With α = 0.5, β = 0.75 every number here is a short
    binary fraction, so no rounding happens and the forms agree bit for bit (with β = 0.9 to the last digit).
    """
    alpha, beta = 0.5, 0.75
    w, v, path = W0.copy(), np.zeros(2), []
    for g in GRADIENTS:
        v = beta * v + (1 - beta) * g
        w = w - alpha * v
        path.append(w.tolist())
    lr = alpha * (1 - beta)
    return {
        "the texts' average, by hand": path,
        "ptref.optim.SGD(α(1−β), β)": follow(lambda p: optim.SGD(p, learning_rate=lr, momentum=beta)),
        "torch.optim.SGD(α(1−β), β)": follow(lambda p: torch.optim.SGD(p, lr=lr, momentum=beta)),
        "SGD(α, β), the naive port": follow(lambda p: optim.SGD(p, learning_rate=alpha, momentum=beta)),
    }


def nesterov() -> dict[str, object]:
    """Nesterov: v ← β·v − α·g, w ← w + β·v − α·g.

    The texts take g at the look-ahead point w + β·v; the libraries keep the look-ahead point itself as w,
    which turns the rule into this one, with g taken at w.
    """
    w, v, path = W0.copy(), np.zeros(2), []
    for g in GRADIENTS:
        v = BETA * v - LR * g
        w = w + BETA * v - LR * g
        path.append(w.tolist())
    return {
        "by hand (NumPy)": path,
        "ptref.optim.SGD": follow(lambda p: optim.SGD(p, learning_rate=LR, momentum=BETA, nesterov=True)),
        "torch.optim.SGD": follow(lambda p: torch.optim.SGD(p, lr=LR, momentum=BETA, nesterov=True)),
    }


def valley_optimizers() -> dict[str, Make]:
    """The optimizers raced down ``valley``, each with a learning rate that suits it."""
    return {
        "GD": lambda p: optim.SGD(p, learning_rate=0.15),
        "momentum": lambda p: optim.SGD(p, learning_rate=0.03, momentum=0.8),
        "Nesterov": lambda p: optim.SGD(p, learning_rate=0.03, momentum=0.8, nesterov=True),
        "Adagrad": lambda p: optim.Adagrad(p, learning_rate=1.0),
        "RMSprop": lambda p: optim.RMSprop(p, learning_rate=0.1),
        "Adam": lambda p: optim.Adam(p, learning_rate=0.3),
    }


def optimizers_on_a_valley() -> dict[str, float]:
    """f after 30 steps down ``valley`` from (−4, 1.5), per optimizer (``--plots`` draws their paths).

    GD's step across the valley flips sign each time (1 − 10α < 0), while along it it crawls;
    momentum gathers speed along the floor; the adaptive rules take steps of similar size in both directions.
    """
    return {name: valley(torch.tensor(descend(make)[-1])).item() for name, make in valley_optimizers().items()}


def plots(results: Mapping[str, Mapping], directory: Path) -> list[Path]:
    """The paths down ``valley`` over its contour lines, as ``optimizer_paths.png``."""
    paths = {name: descend(make) for name, make in valley_optimizers().items()}
    path = save_paths_plot(
        Path(directory) / "optimizer_paths.png",
        lambda x, y: (x**2 + 10 * y**2) / 2,
        paths,
        title="30 steps down f(w) = (w₁² + 10·w₂²)/2",
    )
    return [path]


HELPERS = (follow, fit_line, line_data, valley, descend, valley_optimizers)
STEPS = (gradient_descent_variants, momentum, momentum_as_ema, nesterov, optimizers_on_a_valley)
