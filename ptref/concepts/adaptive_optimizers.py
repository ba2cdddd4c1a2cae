"""Adaptive optimizers: Adagrad, Adadelta, RMSprop, Adam (AMSGrad), Adamax, Nadam, by hand and by the libraries.

Each divides the step by a running size of the gradient, per coordinate. Fed the gradients of the optimizers
lesson (``ptref lesson optimizers``: w starts at (1, 1), the second coordinate's gradients 16× the first's), they
move both coordinates by similar amounts, where momentum moved the second 16× further. Each rule is stepped by
hand (NumPy), by ptref.optim and by torch.optim with ``follow`` from that lesson. TensorFlow twin:
``compare/concepts/adaptive_optimizers_tf.py``.
"""

from __future__ import annotations

import numpy as np
import torch

from ptref import optim
from ptref.concepts.optimizers import BETA, EPS, GRADIENTS, LR, W0, follow

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
    the largest v so far, so a step never grows because v shrank (v₂ shrinks by 0.08% at step 4: AMSGrad
    matters over long runs). Keras (and ptref) add ε to √v before the correction, 1/√(1−β₂) = 32× more after
    it at t = 1, and take 1 − β₂ᵗ in float32, where 0.999 is 0.99900001: together they shorten the first step
    by 1.3e-5 of itself (the sixth digit here). torch adds ε after the correction, as written above.
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


STEPS = (adagrad, adadelta, rmsprop, adam, adam_as_a_text_prints_it, adamax, nadam)
