"""Keras's ``LossScaleOptimizer`` (dynamic loss scaling) on ``torch.amp.GradScaler``, which implements the same rule.

Keras (``keras/src/optimizers/loss_scale_optimizer.py``) and ``GradScaler`` keep a scale ``s`` and a counter ``n``:

- a step whose gradients are all finite applies ``g / s`` to the inner optimizer, then ``s = 2 s, n = 0`` if
  ``n + 1 == dynamic_growth_steps`` else ``n = n + 1``;
- a step with any inf/NaN gradient is skipped (the inner optimizer is not called, its ``iterations`` does not
  move) and ``s = s / 2, n = 0``.

``GradScaler(init_scale=initial_scale, growth_factor=2, backoff_factor=0.5, growth_interval=dynamic_growth_steps)``
is that rule; it unscales with ``g * (1 / s)``, equal to Keras's ``g / s`` whenever ``s`` is a power of two (Keras's
default 2**15 and all its halvings and doublings), else within one float32 ulp. So this class only holds the
scaler, Keras's names and defaults (torch's ``init_scale`` is 2**16), and one ``torch.optim.Optimizer`` face for
Lightning and the CLI. Lightning's ``precision="16-mixed"`` (Keras's ``mixed_float16`` policy, which wraps the
optimizer in a ``LossScaleOptimizer`` by itself) already uses a ``GradScaler`` with torch's defaults: use that for
float16 training, this class for Keras's scaling with any precision or to match Keras's initial scale.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer

from ptref.optim.loss_scaling import LossScaling


class LossScaleOptimizer(LossScaling, Optimizer):
    """Dynamic loss scaling around ``inner_optimizer`` (TF: ``keras.optimizers.LossScaleOptimizer``).

    Args:
        inner_optimizer: the optimizer to wrap (its own ``loss_scale_factor`` is switched off, as in Keras).
        initial_scale: the first loss scale. Default ``2.0**15``.
        dynamic_growth_steps: finite steps between doublings of the scale. Default 2000.
        name: kept for :meth:`get_config`, as Keras's.

    ``scale_loss(loss)`` multiplies by the current scale (Keras's ``fit`` does it; ptref's fit through the
    callback :class:`~ptref.callbacks.keras.ScaleLoss`); ``step()`` checks, unscales, steps or skips, and updates
    the scale. ``param_groups`` and ``state`` are the inner optimizer's, so learning-rate monitors, schedulers and
    :class:`~ptref.callbacks.keras.SwapEMAWeights` see through it; ``state_dict()`` holds both.
    """

    def __init__(
        self,
        inner_optimizer: Optimizer,
        initial_scale: float = 2.0**15,
        dynamic_growth_steps: int = 2000,
        name: str = "loss_scale_optimizer",
    ) -> None:
        if not (isinstance(dynamic_growth_steps, int) and dynamic_growth_steps >= 1):
            raise ValueError(f"LossScaleOptimizer: dynamic_growth_steps must be an integer >= 1, "
                             f"got {dynamic_growth_steps}")
        if not (0.0 < initial_scale < float("inf")):
            raise ValueError(f"LossScaleOptimizer: initial_scale must be > 0 and finite, got {initial_scale}")
        self.inner_optimizer = inner_optimizer
        self.name = name
        self.initial_scale = float(initial_scale)
        self.dynamic_growth_steps = dynamic_growth_steps
        if hasattr(inner_optimizer, "loss_scale_factor"):
            inner_optimizer.loss_scale_factor = None  # else the gradients would be unscaled twice
        device = inner_optimizer.param_groups[0]["params"][0].device.type
        self.scaler = torch.amp.GradScaler(
            device, init_scale=initial_scale, growth_factor=2.0, backoff_factor=0.5,
            growth_interval=dynamic_growth_steps,
        )
        self.watch_backward()

    # The inner optimizer's groups, state and defaults are this optimizer's: one set of hyper-parameters.
    @property
    def param_groups(self) -> list[dict[str, Any]]:  # type: ignore[override]
        return self.inner_optimizer.param_groups

    @property
    def state(self) -> Any:  # type: ignore[override]
        return self.inner_optimizer.state

    @property
    def defaults(self) -> dict[str, Any]:  # type: ignore[override]
        return self.inner_optimizer.defaults

    @property
    def dynamic_scale(self) -> float:
        """The current loss scale (Keras's ``dynamic_scale`` variable)."""
        return self.scaler.get_scale()

    @property
    def iterations(self) -> int:
        """The inner optimizer's ``iterations`` (skipped steps are not counted)."""
        return getattr(self.inner_optimizer, "iterations", 0)

    def loss_scale(self) -> float:
        """The current scale (``initial_scale`` before the first step)."""
        return self.scaler.get_scale()

    def multiply_by_scale(self, tensor: Tensor) -> Tensor:
        """``GradScaler.scale``: ``tensor * scale`` with the scale kept on ``tensor``'s device."""
        return self.scaler.scale(tensor)

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.inner_optimizer.zero_grad(set_to_none)

    def step(self, closure: Any = None) -> Any:
        """Run ``closure`` (Lightning passes one), then Keras's finite check, unscale, inner step, scale update."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        if not any(p.grad is not None for group in self.param_groups for p in group["params"]):
            return loss
        self.check_loss_was_scaled()
        self.scaler.step(self.inner_optimizer)
        self.scaler.update()
        return loss

    def finalize_variable_values(self) -> None:
        """The inner optimizer's (Keras delegates it too)."""
        finalize = getattr(self.inner_optimizer, "finalize_variable_values", None)
        if finalize is not None:
            finalize()

    def get_config(self) -> dict[str, Any]:
        """Keras's ``get_config()``: name, the inner optimizer's ``serialize`` dict, the scale settings."""
        from ptref.optim import serialize

        return {"name": self.name, "inner_optimizer": serialize(self.inner_optimizer),
                "initial_scale": self.initial_scale, "dynamic_growth_steps": self.dynamic_growth_steps}

    def state_dict(self) -> dict[str, Any]:
        return {"inner": self.inner_optimizer.state_dict(), "scaler": self.scaler.state_dict()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.inner_optimizer.load_state_dict(state_dict["inner"])
        self.scaler.load_state_dict(state_dict["scaler"])

    def __repr__(self) -> str:
        return f"LossScaleOptimizer({self.inner_optimizer!r}, scale={self.dynamic_scale})"
