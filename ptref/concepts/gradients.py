"""Vanishing and exploding gradients, and gradient clipping.

Backpropagation multiplies one factor per layer. Sigmoid's derivative is at most 1/4, so in a deep sigmoid
network the gradient shrinks layer after layer towards the input (vanishes); ReLU (derivative 1 where
active) with He init (std √(2/fan_in)) keeps it roughly constant. Factors above 1 make it grow
exponentially instead (explodes); clipping bounds each update. TensorFlow twin:
``compare/concepts/gradients_tf.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import torch
from torch import nn

from ptref.concepts.plotting import save_line_plot


def deep_network(
    activation: type[nn.Module], he_init: bool, depth: int = 10, seed: int = 0
) -> nn.Sequential:
    """``depth`` × (Linear(32, 32) + activation), then Linear(32, 1); PyTorch's default init unless ``he_init``.

    PyTorch's default is uniform in ±1/√fan_in; He (Kaiming) normal is N(0, 2/fan_in) with zero biases,
    Keras' ``"he_normal"`` (which truncates the normal at 2 std).
    """
    # seed the init without touching the caller's random state
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        layers = []
        for _ in range(depth):
            linear = nn.Linear(32, 32)
            if he_init:
                nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
                nn.init.zeros_(linear.bias)
            layers += [linear, activation()]
        return nn.Sequential(*layers, nn.Linear(32, 1))


def layer_gradient_norms(
    model: nn.Sequential, x: torch.Tensor, y: torch.Tensor
) -> list[float]:
    """‖∂L/∂W‖ of each Linear layer's weight, input layer first, for the MSE loss on (x, y)."""
    model.zero_grad()
    nn.functional.mse_loss(model(x), y).backward()
    linears = [layer for layer in model if isinstance(layer, nn.Linear)]
    return [layer.weight.grad.norm().item() for layer in linears]


def random_batch(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """64 rows of 32 standard-normal inputs and a standard-normal target."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(64, 32, generator=generator)
    return x, torch.randn(64, 1, generator=generator)


def scalar_chain(depth: int = 10) -> nn.Sequential:
    """``depth`` layers y = w·x (no bias) with w = 2: the output is 2¹⁰ = 1024, each gradient a product of 2s."""
    layers = [nn.Linear(1, 1, bias=False) for _ in range(depth)]
    for layer in layers:
        nn.init.constant_(layer.weight, 2.0)
    return nn.Sequential(*layers)


def train_chain(
    clip: Callable[[Iterable[nn.Parameter]], object] | None, steps: int = 80
) -> dict[str, object]:
    """SGD (lr 0.01) teaching ``scalar_chain()`` to map 1 → 1, ``clip`` run between backward and step.

    Returns the per-layer gradients of step 1 (after clipping), the first losses, and the first step whose
    loss is below 0.01 (``None``: never).
    """
    model = scalar_chain()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    x = y = torch.ones(1, 1)
    first_gradients, losses = [], []
    for _ in range(steps):
        loss = nn.functional.mse_loss(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        if clip is not None:
            clip(model.parameters())
        if not first_gradients:
            first_gradients = [layer.weight.grad.item() for layer in model]
        optimizer.step()
        losses.append(loss.item())
    return {
        "gradient per layer, step 1": first_gradients,
        "loss, steps 1-4": losses[:4],
        "first step with loss < 0.01": next((i for i, v in enumerate(losses, 1) if v < 0.01), None),
    }


def sigmoid_gradients_vanish() -> dict[str, object]:
    """10 sigmoid layers, default init: the gradient norm shrinks by orders of magnitude towards the input."""
    x, y = random_batch()
    norms = layer_gradient_norms(deep_network(nn.Sigmoid, he_init=False), x, y)
    return {"norm per layer": norms, "first / last": norms[0] / norms[-1]}


def relu_he_gradients_flow() -> dict[str, object]:
    """10 ReLU layers with He init: the gradient norm stays within an order of magnitude across layers."""
    x, y = random_batch()
    norms = layer_gradient_norms(deep_network(nn.ReLU, he_init=True), x, y)
    return {"norm per layer": norms, "first / last": norms[0] / norms[-1]}


def exploding_gradients() -> dict[str, object]:
    """Each layer's gradient is 2·(1024 − 1)·2⁹ = 1,047,552: one SGD step overshoots, the loss overflows to inf."""
    return train_chain(clip=None)


def clip_by_value() -> dict[str, object]:
    """Clip every gradient entry into [−5, 5]: training now converges.

    TF: ``tf.clip_by_value(g, -5, 5)`` (Keras ``SGD(clipvalue=5)``); PyTorch: ``clip_grad_value_(params, 5)``
    between ``backward()`` and ``step()``.
    """

    def clip(parameters: Iterable[nn.Parameter]) -> None:
        nn.utils.clip_grad_value_(parameters, clip_value=5.0)

    return train_chain(clip)


def clip_by_norm() -> dict[str, object]:
    """Rescale all gradients together so their global norm is at most 5: each becomes 5/√10 = 1.5811.

    TF: ``tf.clip_by_global_norm(grads, 5)`` (Keras ``SGD(global_clipnorm=5)``; Keras' ``clipnorm=`` clips each
    tensor on its own); PyTorch: ``clip_grad_norm_(params, 5)``, which adds 1e-6 to the norm.
    """

    def clip(parameters: Iterable[nn.Parameter]) -> None:
        nn.utils.clip_grad_norm_(parameters, max_norm=5.0)

    return train_chain(clip)


def plots(results: Mapping[str, Mapping], directory: Path) -> list[Path]:
    """Per-layer gradient norms, sigmoid vs ReLU + He, as ``gradient_norms.png``."""
    curves = {
        "sigmoid, default init": results["sigmoid_gradients_vanish"]["norm per layer"],
        "ReLU, He init": results["relu_he_gradients_flow"]["norm per layer"],
    }
    path = save_line_plot(
        Path(directory) / "gradient_norms.png",
        curves,
        title="Gradient norm per layer (layer 1 = input side)",
        xlabel="layer",
        ylabel="‖∂L/∂W‖",
        log_y=True,
    )
    return [path]


HELPERS = (deep_network, layer_gradient_norms, random_batch, scalar_chain, train_chain)
STEPS = (sigmoid_gradients_vanish, relu_he_gradients_flow, exploding_gradients, clip_by_value, clip_by_norm)
