"""Activations: sigmoid, tanh, ReLU and its variants, their derivatives, and why deep sigmoid nets stop learning.

An activation is the non-linearity between layers. Backpropagation multiplies by its derivative at every
layer, so the derivative matters as much as the function. Each step computes f(x) and f'(x) by autograd
(TensorFlow: ``GradientTape``) and checks f' against its closed form. ``torch.nn.functional`` ↔
``tf.nn`` / ``tf.keras.activations``. TensorFlow twin: ``compare/concepts/activations_tf.py``.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ptref.concepts.plotting import Panel, save_panels


def points() -> torch.Tensor:
    """The inputs every step evaluates at: −3, −1, −0.5, 0, 0.5, 1, 3."""
    return torch.tensor([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0])


def derivative(activation: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """f'(x) elementwise by autograd: the gradient of Σ f(xᵢ) with respect to each xᵢ is f'(xᵢ)."""
    x = x.clone().requires_grad_()
    (grad,) = torch.autograd.grad(activation(x).sum(), x)
    return grad


def sigmoid() -> dict[str, object]:
    """σ(x) = 1 / (1 + e^(−x)), σ'(x) = σ(x)(1 − σ(x)): at most 1/4, at x = 0, and ≈ 0 for |x| ≳ 5."""
    x = points()
    s = torch.sigmoid(x)
    return {
        "σ(x)": s.tolist(),
        "σ'(x), autograd": derivative(torch.sigmoid, x).tolist(),
        "σ'(x) = σ(1 − σ)": (s * (1 - s)).tolist(),
    }


def tanh() -> dict[str, object]:
    """tanh(x) = 2σ(2x) − 1, a sigmoid stretched to (−1, 1) and centred at 0; tanh' = 1 − tanh², 1 at 0."""
    x = points()
    t = torch.tanh(x)
    return {
        "tanh(x)": t.tolist(),
        "tanh'(x), autograd": derivative(torch.tanh, x).tolist(),
        "tanh'(x) = 1 − tanh²": (1 - t**2).tolist(),
        "2σ(2x) − 1": (2 * torch.sigmoid(2 * x) - 1).tolist(),
    }


def relu_and_leaky_relu() -> dict[str, object]:
    """ReLU(x) = max(x, 0): derivative 1 for x > 0, 0 for x < 0, and both frameworks take 0 at x = 0.

    Leaky ReLU keeps a slope a for x < 0 so no unit goes silent for good. Its default a differs: torch 0.01,
    ``keras.activations.leaky_relu`` and ``tf.nn.leaky_relu`` 0.2, ``keras.layers.LeakyReLU`` 0.3. Here a = 0.2.
    """
    x = points()
    return {
        "relu(x)": F.relu(x).tolist(),
        "relu'(x), autograd": derivative(F.relu, x).tolist(),
        "leaky_relu(x), a=0.2": F.leaky_relu(x, negative_slope=0.2).tolist(),
        "leaky_relu'(x), autograd": derivative(lambda v: F.leaky_relu(v, 0.2), x).tolist(),
        "torch default a: F.leaky_relu, nn.LeakyReLU": [
            inspect.signature(F.leaky_relu).parameters["negative_slope"].default,
            nn.LeakyReLU().negative_slope,
        ],
    }


def elu_and_selu() -> dict[str, object]:
    """ELU(x) = x for x > 0, α(eˣ − 1) below (α = 1); SELU = λ·ELU with α = 1.6733, λ = 1.0507, which keeps
    activations near mean 0, variance 1 through layers initialized LeCun-normal.

    SELU's derivative jumps at 0 (λ on the right, λα on the left) and the frameworks pick different sides:
    TensorFlow λ = 1.0507, PyTorch λα = 1.7581. Away from 0 they agree.
    """
    x = points()
    alpha, scale = 1.6732632423543772, 1.0507009873554805
    return {
        "elu(x)": F.elu(x).tolist(),
        "elu'(x), autograd": derivative(F.elu, x).tolist(),
        "elu'(x) = 1 or eˣ": torch.where(x > 0, 1.0, torch.exp(x)).tolist(),
        "selu(x)": F.selu(x).tolist(),
        "selu'(x), autograd": derivative(F.selu, x).tolist(),
        "selu'(x) = λ or λαeˣ": torch.where(x > 0, scale, scale * alpha * torch.exp(x)).tolist(),
        "selu'(0)": derivative(F.selu, torch.zeros(1)).item(),
    }


def gelu_exact_vs_tanh() -> dict[str, object]:
    """GELU(x) = x·Φ(x), Φ the standard normal CDF; its tanh approximation 0.5x(1 + tanh(√(2/π)(x + 0.044715x³)))
    is off by at most 4.7e-4 (near x = ±2.7).

    Defaults: ``F.gelu`` is exact (``approximate="none"``), as ``keras.activations.gelu`` and ``tf.nn.gelu``
    (``approximate=False``), but ``keras.ops.gelu`` defaults to ``approximate=True``: the tanh form.
    GELU'(x) = Φ(x) + x·φ(x).
    """
    x = points()
    grid = torch.linspace(-6.0, 6.0, 1201)
    phi = torch.exp(-(x**2) / 2) / math.sqrt(2 * math.pi)
    cdf = 0.5 * (1 + torch.erf(x / math.sqrt(2)))
    return {
        "gelu(x), exact": F.gelu(x).tolist(),
        "gelu(x), tanh approximation": F.gelu(x, approximate="tanh").tolist(),
        "max |exact − tanh| on [−6, 6]": (F.gelu(grid) - F.gelu(grid, approximate="tanh")).abs().max().item(),
        "gelu'(x), autograd": derivative(F.gelu, x).tolist(),
        "gelu'(x) = Φ + xφ": (cdf + x * phi).tolist(),
        "torch default approximate: F.gelu, nn.GELU": nn.GELU().approximate,
    }


def softplus_and_swish() -> dict[str, object]:
    """softplus(x) = log(1 + eˣ), a smooth ReLU whose derivative is σ(x); swish/SiLU(x) = x·σ(x), with
    derivative σ(x)(1 + x(1 − σ(x))): negative (non-monotonic) below x ≈ −1.28."""
    x = points()
    s = torch.sigmoid(x)
    return {
        "softplus(x)": F.softplus(x).tolist(),
        "softplus'(x), autograd": derivative(F.softplus, x).tolist(),
        "silu(x)": F.silu(x).tolist(),
        "silu'(x), autograd": derivative(F.silu, x).tolist(),
        "silu'(x) = σ(1 + x(1 − σ))": (s * (1 + x * (1 - s))).tolist(),
    }


def vanishing_gradient_chain() -> dict[str, object]:
    """Ten sigmoids in a chain, h = σ(σ(...σ(x))) at x = 0: dh/dx is the product of the ten σ' ≤ 1/4.

    The first factor is σ'(0) = 0.25, then σ'(0.5) = 0.235, and the rest settle at 0.2247: the product is
    3.9e-7, below the bound 0.25¹⁰ = 9.5e-7. So what reaches layer 1 from the top is 6.5e5 times smaller than
    what layer 10 gets. tanh (derivative 1 at 0) passes a gradient of 1 from x = 0 but 0.041 from x = 1;
    ReLU passes 1 wherever it is active.
    """
    x = torch.tensor(0.0, requires_grad=True)
    h, factors = x, []
    for _ in range(10):
        factors.append((torch.sigmoid(h) * (1 - torch.sigmoid(h))).item())
        h = torch.sigmoid(h)
    (dh_dx,) = torch.autograd.grad(h, x)

    def chain(activation: Callable[[torch.Tensor], torch.Tensor], start: float) -> float:
        v = torch.tensor(start, requires_grad=True)
        out = v
        for _ in range(10):
            out = activation(out)
        return torch.autograd.grad(out, v)[0].item()

    return {
        "σ' of layer 1..10": factors,
        "dh/dx, autograd": dh_dx.item(),
        "product of the σ'": math.prod(factors),
        "bound 0.25¹⁰": 0.25**10,
        "tanh chain from x=0": chain(torch.tanh, 0.0),
        "tanh chain from x=1": chain(torch.tanh, 1.0),
        "relu chain from x=1": chain(F.relu, 1.0),
    }


ACTIVATIONS: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": F.relu,
    "leaky_relu (0.2)": lambda x: F.leaky_relu(x, 0.2),
    "elu": F.elu,
    "selu": F.selu,
    "gelu": F.gelu,
    "softplus": F.softplus,
    "silu / swish": F.silu,
}


def plots(results: Mapping[str, Mapping], directory: Path) -> list[Path]:
    """``activations.png``: every activation of the lesson and its autograd derivative on [−4, 4]."""
    x = torch.linspace(-4.0, 4.0, 161)
    functions = {name: f(x).tolist() for name, f in ACTIVATIONS.items()}
    derivatives = {name: derivative(f, x).tolist() for name, f in ACTIVATIONS.items()}
    path = save_panels(
        Path(directory) / "activations.png",
        [
            Panel("Activations f(x)", "x", x.tolist(), functions),
            Panel("Derivatives f'(x), autograd", "x", x.tolist(), derivatives),
        ],
    )
    return [path]


HELPERS = (points, derivative)
STEPS = (
    sigmoid,
    tanh,
    relu_and_leaky_relu,
    elu_and_selu,
    gelu_exact_vs_tanh,
    softplus_and_swish,
    vanishing_gradient_chain,
)
