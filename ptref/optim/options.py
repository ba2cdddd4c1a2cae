"""The options every Keras optimizer takes besides its own rule, and the ranges its hyper-parameters may take."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, TypedDict


@dataclass(frozen=True)
class Interval:
    """``[low, high)`` (or ``[low, high]`` with ``closed``): the values a hyper-parameter can train with."""

    low: float = 0.0
    high: float = math.inf
    closed: bool = False

    def __contains__(self, value: float) -> bool:
        return self.low <= value and (value <= self.high if self.closed else value < self.high)

    def __str__(self) -> str:
        return f"[{self.low:g}, {self.high:g}{']' if self.closed else ')'}"


# The ranges torch.optim checks for the same hyper-parameters (Keras itself checks only SGD's momentum, [0, 1]);
# decay rates and momenta end at 1 as torch's Adadelta rho and Keras's SGD momentum do. Outside them no step is
# sane: beta = 1 divides by 1 - beta**t = 0, a decay rate > 1 makes v negative and sqrt(v) NaN.
UNIT = Interval(0.0, 1.0, closed=True)
BELOW_ONE = Interval(0.0, 1.0)
NON_NEGATIVE = Interval()


class KerasOptions(TypedDict, total=False):
    """The options every Keras optimizer takes besides clipping and weight decay (Keras's names and defaults).

    - ``name`` (None: Keras's default, the class name in snake case): kept for
      :meth:`~ptref.optim.base.KerasOptimizer.get_config`.
    - ``use_ema`` (False), ``ema_momentum`` (0.99), ``ema_overwrite_frequency`` (None): keep ``average`` per
      parameter, after every step ``average = mu * average + (1 - mu) * w`` with ``mu = 0`` while the
      (accumulated) iteration count is 0 and ``ema_momentum`` after; every ``ema_overwrite_frequency`` steps,
      and on :meth:`~ptref.optim.base.KerasOptimizer.finalize_variable_values`, ``w = average``.
    - ``loss_scale_factor`` (None): gradients are divided by it before anything else, so the loss must be
      multiplied by it before ``backward()``: Keras's ``fit`` does this itself, ptref's fit with the default
      callback :class:`~ptref.callbacks.keras.ScaleLoss`, a custom loop with
      :meth:`~ptref.optim.loss_scaling.LossScaling.scale_loss`. A step after a ``backward()`` that did neither
      raises (the updates would be ``loss_scale_factor`` times too small).
    - ``gradient_accumulation_steps`` (None, else >= 2): ``k``. Every call adds the gradient to an accumulator;
      every ``k``-th call updates with ``(accumulator + g) / k`` (clipped, decayed, then the rule) and resets it.
      The schedule sees every call; bias corrections and EMA see ``calls // k``.
    - ``foreach`` (None; ptref's own, not in Keras's config): ``None`` or ``True`` apply the rule to all of a
      param group's tensors at once (:mod:`ptref.optim.multi_tensor`) when the optimizer has that path,
      ``False`` one tensor at a time with ``update_step``, the formula as written.
    """

    name: str | None
    use_ema: bool
    ema_momentum: float
    ema_overwrite_frequency: int | None
    loss_scale_factor: float | None
    gradient_accumulation_steps: int | None
    foreach: bool | None


def check_options(options: dict[str, Any], name: str) -> None:
    """Keras's checks of the base options, naming the optimizer; unknown keys raise ``TypeError``."""
    unknown = sorted(set(options) - set(KerasOptions.__annotations__))
    if unknown:
        raise TypeError(f"{name} got unexpected keyword argument(s) {unknown}")
    steps = options.get("gradient_accumulation_steps")
    if steps is not None and not (isinstance(steps, int) and steps >= 2):
        raise ValueError(f"{name}: gradient_accumulation_steps must be an integer >= 2, got {steps}")
    momentum = options.get("ema_momentum", 0.99)
    if options.get("use_ema") and momentum not in UNIT:
        raise ValueError(f"{name}: ema_momentum must be in {UNIT}, got {momentum}")
    frequency = options.get("ema_overwrite_frequency")
    if frequency is not None and not (isinstance(frequency, int) and frequency >= 1):
        raise ValueError(f"{name}: ema_overwrite_frequency must be an integer >= 1 or None, got {frequency}")
    scale = options.get("loss_scale_factor")
    if scale is not None and not (0.0 < scale < math.inf):
        raise ValueError(f"{name}: loss_scale_factor must be > 0 and finite, got {scale}")
    foreach = options.get("foreach")
    if foreach is not None and not isinstance(foreach, bool):
        raise ValueError(f"{name}: foreach must be True, False or None, got {foreach!r}")


def snake_case(name: str) -> str:
    """Keras's default object name for a class name (``keras.src.utils.naming.to_snake_case``)."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", re.sub(r"\W+", "", name))
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()
