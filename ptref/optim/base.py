"""What every Keras optimizer does around its own update rule, written once.

Keras's ``optimizer.apply(grads)`` runs, in this order (``keras/src/optimizers/base_optimizer.py``):

1. clip the gradients: ``clipnorm`` (each tensor on its own), ``global_clipnorm`` or ``clipvalue``;
2. decoupled weight decay ``w = w - w * weight_decay * lr`` with the current learning rate;
3. the optimizer's ``update_step(g, w, lr)``, with ``lr = schedule(iterations)`` for a schedule;
4. ``iterations += 1`` (one counter per optimizer, 0-based, never reset between epochs).

:class:`KerasOptimizer` is a ``torch.optim.Optimizer`` doing exactly that; subclasses only implement
``build`` (create one parameter's state) and ``update_step`` (the formula). The learning rate of the next step sits in
every param group's ``"lr"`` (so Lightning's ``LearningRateMonitor`` and ``torch`` LR schedulers work), and the
iteration counter in ``self.state["iterations"]``, so ``state_dict()``/``load_state_dict()`` resume exactly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer

from ptref.optim.schedules import LearningRateSchedule, check_learning_rate

Params = Iterable[Tensor] | Iterable[dict[str, Any]]


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


def clip_by_norm(grad: Tensor, clipnorm: float) -> Tensor:
    """``g * c / max(||g||, c)`` for one tensor, as ``tf.clip_by_norm`` (no epsilon, unlike ``clip_grad_norm_``)."""
    return grad * clipnorm / torch.clamp(torch.linalg.vector_norm(grad), min=clipnorm)


def clip_by_global_norm(grads: list[Tensor], clipnorm: float) -> list[Tensor]:
    """``g * c * min(1/||G||, 1/c)`` with ``||G||`` the norm of all gradients together (Keras ``global_clipnorm``).

    As in Keras, a non-finite global norm turns every gradient into NaN (``torch``'s ``clip_grad_norm_`` adds
    1e-6 to the norm and would scale by 0 instead).
    """
    norm = torch.sqrt(torch.stack([torch.sum(torch.square(g)) for g in grads]).sum())
    scale = clipnorm * torch.clamp(1.0 / norm, max=1.0 / clipnorm) + (norm - norm)
    return [g * scale for g in grads]


def power(base: float, t: int, like: Tensor) -> Tensor:
    """``base ** t`` computed in ``like``'s dtype, as Keras's ``ops.power(cast(base), cast(t))``.

    In float32 this differs from Python's float64 ``base ** t``: for ``0.999 ** 100`` by 1.2e-6, which is
    1.3e-5 relative in the bias correction ``1 - 0.999 ** 100`` (enough to break 1e-6 parity with Keras).
    """
    return torch.pow(torch.tensor(base, dtype=like.dtype), torch.tensor(t, dtype=like.dtype))


class KerasOptimizer(Optimizer):
    """Base class: Keras's clipping, decoupled weight decay, learning-rate schedule and iteration counter.

    Args:
        params: parameters or param groups, as for any ``torch.optim.Optimizer``.
        learning_rate: a float, or a :class:`~ptref.optim.schedules.LearningRateSchedule` (subclass it for a
            custom rule, as in Keras) evaluated at the 0-based iteration count before every step.
        weight_decay: decoupled decay ``w -= w * weight_decay * lr`` before the update (Keras semantics; not
            the L2-coupled ``weight_decay`` of most ``torch.optim`` classes). ``None`` disables it.
        clipnorm: clip each gradient tensor to this L2 norm on its own.
        clipvalue: clip every gradient element to ``[-clipvalue, clipvalue]``.
        global_clipnorm: clip all gradients together to this global L2 norm.
        **hyperparameters: the subclass's own settings, stored per param group.

    Every param group is checked when added: ``lr`` finite and > 0 (or the schedule's first value, see
    :meth:`~ptref.optim.schedules.LearningRateSchedule.check`), ``weight_decay`` >= 0, and each hyper-parameter
    named in the subclass's ``RANGES`` inside its interval; a ``ValueError`` names the optimizer and the value.
    """

    RANGES: dict[str, Interval] = {}

    def __init__(
        self,
        params: Params,
        learning_rate: float | LearningRateSchedule,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        **hyperparameters: Any,
    ) -> None:
        if sum(c is not None for c in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError("only one of clipnorm, clipvalue and global_clipnorm can be set (as in Keras)")
        schedule = learning_rate if isinstance(learning_rate, LearningRateSchedule) else None
        if schedule is not None:
            schedule.check(f"{type(self).__name__}: learning_rate")
        self.learning_rate_schedule = schedule
        lr = float(learning_rate if schedule is None else schedule(0))
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self._scratch: dict[tuple, Tensor] = {}
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, **hyperparameters))

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """``torch.optim.Optimizer.add_param_group``, after checking the group's hyper-parameters."""
        group = {**self.defaults, **param_group}
        name = type(self).__name__
        if self.learning_rate_schedule is None:
            check_learning_rate(group["lr"], f"{name}: learning_rate")
        if group["weight_decay"] is not None and group["weight_decay"] not in NON_NEGATIVE:
            raise ValueError(f"{name}: weight_decay must be in {NON_NEGATIVE}, got {group['weight_decay']}")
        for key, interval in self.RANGES.items():
            if group[key] not in interval:
                raise ValueError(f"{name}: {key} must be in {interval}, got {group[key]}")
        super().add_param_group(param_group)

    @property
    def iterations(self) -> int:
        """Optimizer steps taken so far (Keras's ``optimizer.iterations``)."""
        return self.state.get("iterations", 0)

    def scratch(self, param: Tensor) -> Tensor:
        """A work tensor shaped like ``param``, reused by every parameter and step (never saved in the state).

        ``a * b`` allocates its result; for an MLP-sized layer a fresh allocation per operation can cost
        more than the arithmetic. Writing into a scratch tensor with ``out=`` / in-place ops allocates nothing.
        """
        key = (param.dtype, param.device)
        buffer = self._scratch.get(key)
        if buffer is None or buffer.numel() < param.numel():
            buffer = self._scratch[key] = torch.empty(param.numel(), dtype=param.dtype, device=param.device)
        return buffer[: param.numel()].view(param.shape)

    def build(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        """Create the per-parameter state (slots) on the parameter's first update."""

    def update_shared(self, t: int) -> None:
        """Update optimizer-wide state once per step, before the per-parameter updates (Nadam needs it)."""

    def update_step(
        self, grad: Tensor, param: Tensor, lr: float, t: int, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        """Apply the update rule to one parameter in place; ``t = iterations + 1`` (1-based)."""
        raise NotImplementedError

    def _clip(self, grads: list[Tensor]) -> list[Tensor]:
        if not grads:
            return grads
        if self.clipnorm:
            return [clip_by_norm(g, self.clipnorm) for g in grads]
        if self.global_clipnorm:
            return clip_by_global_norm(grads, self.global_clipnorm)
        if self.clipvalue:
            return [torch.clamp(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    @torch.no_grad()
    def step(self, closure: Any = None) -> Any:
        """One Keras ``apply``: clip, decay, update every parameter that has a gradient, count the step."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()

        with_grad = [(p, group) for group in self.param_groups for p in group["params"] if p.grad is not None]
        grads = self._clip([p.grad for p, _ in with_grad])
        iterations = self.iterations
        self._set_scheduled_lr(iterations)
        self.update_shared(iterations + 1)
        for (param, group), grad in zip(with_grad, grads):
            if group["weight_decay"]:
                param.sub_(param * group["weight_decay"] * group["lr"])
        for (param, group), grad in zip(with_grad, grads):
            state = self.state[param]
            if not state:
                self.build(param, state, group)
            self.update_step(grad, param, group["lr"], iterations + 1, state, group)
        self.state["iterations"] = iterations + 1
        self._set_scheduled_lr(iterations + 1)  # the group's "lr" always shows what the next step will use
        return loss

    def _set_scheduled_lr(self, iterations: int) -> None:
        if self.learning_rate_schedule is not None:
            lr = self.learning_rate_schedule.rate(iterations)
            for group in self.param_groups:
                group["lr"] = lr
