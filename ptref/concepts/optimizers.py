"""Optimizers: each update rule stepped by hand (NumPy), by ptref.optim and by torch.optim, on the same gradients.

Every rule starts at w = (1, 1) and is fed the same four gradients, whose second coordinate is 16× larger than
the first: plain momentum moves that coordinate 16× further, the adaptive rules (Adagrad, RMSprop, Adam, ...)
divide by a running size of the gradient and move both by similar amounts. Where the course texts write a rule
in another form than the libraries run, the step shows both. TensorFlow twin: ``compare/concepts/optimizers_tf.py``.
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


def adagrad() -> dict[str, object]:
    """Adagrad: a ← a + g², w ← w − α·g/√(a + ε), the accumulator a starting at 0.1 in Keras.

    torch starts it at 0 and divides by √a + ε: map it with ``initial_accumulator_value=0.1 + ε, eps=0``. From
    0, the first step is α·g/|g| = ±α whatever the gradient's size: the 0.1 damps the first steps.
    """
    paths = {}
    for start in (0.1, 0.0):
        w, a, paths[start] = W0.copy(), np.full(2, start), []
        for g in GRADIENTS:
            a = a + g**2
            w = w - LR * g / np.sqrt(a + EPS)
            paths[start].append(w.tolist())
    return {
        "by hand, a₀ = 0.1": paths[0.1],
        "ptref.optim.Adagrad": follow(lambda p: optim.Adagrad(p, learning_rate=LR)),
        "torch.optim.Adagrad(a₀ = 0.1 + ε, eps = 0)": follow(
            lambda p: torch.optim.Adagrad(p, lr=LR, initial_accumulator_value=0.1 + EPS, eps=0)
        ),
        "by hand, a₀ = 0": paths[0.0],
        "torch.optim.Adagrad defaults (a₀ = 0)": follow(lambda p: torch.optim.Adagrad(p, lr=LR)),
    }


def adadelta() -> dict[str, object]:
    """Adadelta: A ← ρA + (1−ρ)g², Δ = −√(D + ε)/√(A + ε)·g, D ← ρD + (1−ρ)Δ², w ← w + α·Δ.

    The course text prints this formula garbled; the rule above is Zeiler's (2012) and what both libraries run.
    What to check in any copy of it: the numerator is the RMS of the *previous* updates D (so Δ has the units of
    w and needs no learning rate: Zeiler's α is 1, torch's default 1.0, Keras's 0.001); ε sits inside both roots,
    and the one in the numerator is what starts it: without it D stays 0 and w never moves. Here α = 1, ρ = 0.95.
    """
    paths = {}
    for eps_above in (EPS, 0.0):
        w, acc_g, acc_d, paths[eps_above] = W0.copy(), np.zeros(2), np.zeros(2), []
        for g in GRADIENTS:
            acc_g = 0.95 * acc_g + 0.05 * g**2
            delta = -np.sqrt(acc_d + eps_above) / np.sqrt(acc_g + EPS) * g
            acc_d = 0.95 * acc_d + 0.05 * delta**2
            w = w + 1.0 * delta
            paths[eps_above].append(w.tolist())
    return {
        "by hand (NumPy)": paths[EPS],
        "ptref.optim.Adadelta": follow(lambda p: optim.Adadelta(p, learning_rate=1.0)),
        "torch.optim.Adadelta": follow(lambda p: torch.optim.Adadelta(p, lr=1.0, rho=0.95, eps=EPS)),
        "by hand, no ε in the numerator": paths[0.0],
    }


def rmsprop() -> dict[str, object]:
    """RMSprop: v ← ρv + (1−ρ)g², then w ← w − α·g/√(v + ε) in Keras but w ← w − α·g/(√v + ε) in torch.

    ρ = 0.9 (Keras's default; torch's ``alpha`` defaults to 0.99). ε = 0.01 here, not Keras's 1e-7, so that the
    difference shows: no torch setting puts ε inside the root.
    """
    eps, paths = 0.01, {}
    for inside in (True, False):
        w, v, paths[inside] = W0.copy(), np.zeros(2), []
        for g in GRADIENTS:
            v = 0.9 * v + 0.1 * g**2
            w = w - LR * g / (np.sqrt(v + eps) if inside else np.sqrt(v) + eps)
            paths[inside].append(w.tolist())
    return {
        "by hand, ε inside √": paths[True],
        "ptref.optim.RMSprop": follow(lambda p: optim.RMSprop(p, learning_rate=LR, rho=0.9, epsilon=eps)),
        "by hand, ε outside √": paths[False],
        "torch.optim.RMSprop": follow(lambda p: torch.optim.RMSprop(p, lr=LR, alpha=0.9, eps=eps)),
    }


def adam() -> dict[str, object]:
    """Adam: m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², w ← w − α·m̂/(√v̂ + ε), m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ).

    β₁ = 0.9, β₂ = 0.999: the first step is α·g/(|g| + ε) = ±α whatever the gradient's size. AMSGrad divides by
    the largest v so far instead, so a step never grows because v shrank (v₂ shrinks at step 4). Keras (and
    ptref) add ε to √v before the correction, 1/√(1−β₂) = 32× more after it at t = 1, and take 1 − β₂ᵗ in
    float32, where 0.999 is 0.99900001: together they shorten the first step by 1.3e-5 of itself (the sixth
    digit here). torch adds ε after the correction, in float64 scalars, as written above.
    """
    paths = {}
    for amsgrad in (False, True):
        w, m, v, v_max, paths[amsgrad] = W0.copy(), np.zeros(2), np.zeros(2), np.zeros(2), []
        for t, g in enumerate(GRADIENTS, start=1):
            m = BETA * m + (1 - BETA) * g
            v = 0.999 * v + 0.001 * g**2
            v_max = np.maximum(v_max, v)
            v_hat = (v_max if amsgrad else v) / (1 - 0.999**t)
            w = w - LR * m / (1 - BETA**t) / (np.sqrt(v_hat) + EPS)
            paths[amsgrad].append(w.tolist())
    return {
        "Adam by hand": paths[False],
        "ptref.optim.Adam": follow(lambda p: optim.Adam(p, learning_rate=LR)),
        "torch.optim.Adam": follow(lambda p: torch.optim.Adam(p, lr=LR, eps=EPS)),
        "AMSGrad by hand": paths[True],
        "ptref.optim.Adam(amsgrad)": follow(lambda p: optim.Adam(p, learning_rate=LR, amsgrad=True)),
        "torch.optim.Adam(amsgrad)": follow(lambda p: torch.optim.Adam(p, lr=LR, eps=EPS, amsgrad=True)),
    }


def adam_as_a_text_prints_it() -> dict[str, object]:
    """One course text prints Adam with β₂ = 0.9 and without bias correction: w ← w − α·m/(√v + ε).

    m and v start at 0, so at first they are too small, m by (1−β₁ᵗ) and v by (1−β₂ᵗ): the first step is
    α(1−β₁)/√(1−β₂) = 0.316·α instead of α (with β₂ = 0.999 it would be 3.16·α). Dividing by 1−βᵗ undoes it.
    """
    w, m, v, path = W0.copy(), np.zeros(2), np.zeros(2), []
    for g in GRADIENTS:
        m = BETA * m + (1 - BETA) * g
        v = 0.9 * v + 0.1 * g**2
        w = w - LR * m / (np.sqrt(v) + EPS)
        path.append(w.tolist())
    adam_path = follow(lambda p: optim.Adam(p, learning_rate=LR, beta_2=0.9))
    return {
        "the text's form, by hand": path,
        "ptref.optim.Adam(beta_2=0.9)": adam_path,
        "torch.optim.Adam(betas=(0.9, 0.9))": follow(lambda p: torch.optim.Adam(p, lr=LR, betas=(0.9, 0.9), eps=EPS)),
        "first step ÷ α, the text's": ((W0 - path[0]) / LR).tolist(),
        "first step ÷ α, Adam": ((W0 - np.array(adam_path[0])) / LR).tolist(),
    }


def adamax() -> dict[str, object]:
    """Adamax: m ← β₁m + (1−β₁)g, u ← max(β₂u, |g|), w ← w − α·m/((1−β₁ᵗ)(u + ε)).

    Adam with the largest recent |g| in place of the root mean square (u needs no bias correction).
    torch takes max(β₂u, |g| + ε) and adds no ε below: a difference of order ε.
    """
    w, m, u, path = W0.copy(), np.zeros(2), np.zeros(2), []
    for t, g in enumerate(GRADIENTS, start=1):
        m = BETA * m + (1 - BETA) * g
        u = np.maximum(0.999 * u, np.abs(g))
        w = w - LR * m / ((1 - BETA**t) * (u + EPS))
        path.append(w.tolist())
    return {
        "by hand (NumPy)": path,
        "ptref.optim.Adamax": follow(lambda p: optim.Adamax(p, learning_rate=LR)),
        "torch.optim.Adamax": follow(lambda p: torch.optim.Adamax(p, lr=LR, eps=EPS)),
    }


def nadam() -> dict[str, object]:
    """Nadam, Adam with Nesterov momentum: m̂ = μₜ₊₁·m/(1 − Πμ₁..ₜ₊₁) + (1−μₜ)·g/(1 − Πμ₁..ₜ), v̂ as in Adam.

    The momentum warms up as μₜ = β₁(1 − 0.5·0.96ᵗ) (Dozat); torch writes 0.96^(0.004·t) and needs
    ``momentum_decay=1.0`` to match Keras. Then w ← w − α·m̂/(√v̂ + ε).
    """
    w, m, v, path = W0.copy(), np.zeros(2), np.zeros(2), []
    mu = lambda t: BETA * (1 - 0.5 * 0.96**t)  # noqa: E731
    product = 1.0
    for t, g in enumerate(GRADIENTS, start=1):
        m = BETA * m + (1 - BETA) * g
        v = 0.999 * v + 0.001 * g**2
        product *= mu(t)
        m_hat = mu(t + 1) * m / (1 - product * mu(t + 1)) + (1 - mu(t)) * g / (1 - product)
        w = w - LR * m_hat / (np.sqrt(v / (1 - 0.999**t)) + EPS)
        path.append(w.tolist())
    return {
        "by hand (NumPy)": path,
        "ptref.optim.Nadam": follow(lambda p: optim.Nadam(p, learning_rate=LR)),
        "torch.optim.NAdam": follow(lambda p: torch.optim.NAdam(p, lr=LR, eps=EPS, momentum_decay=1.0)),
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
STEPS = (
    gradient_descent_variants, momentum, momentum_as_ema, nesterov, adagrad, adadelta, rmsprop, adam,
    adam_as_a_text_prints_it, adamax, nadam, optimizers_on_a_valley,
)
