"""Keras learning-rate schedules: the learning rate as a function of the 0-based optimizer step.

Keras evaluates ``schedule(optimizer.iterations)`` before every update: the step counts optimizer
updates (batches), starts at 0 and never resets between epochs. These classes compute exactly that
(``keras.optimizers.schedules.*``; Keras evaluates them in float32, we in Python floats, which differ by
at most about one float32 ulp of the learning rate).

Two ways to use one, with identical learning rates at every step:

- Keras style: ``ptref.optim.Adam(params, learning_rate=ExponentialDecay(0.1, 100, 0.5))``; the optimizer
  evaluates the schedule at its own iteration counter (also from the CLI:
  ``--optimizer.learning_rate ptref.optim.schedules.ExponentialDecay --optimizer.learning_rate.decay_steps 100 ...``).
- Lightning style, with any optimizer (``torch.optim`` too): return ``schedule.lr_scheduler(optimizer)``,
  i.e. ``{"scheduler": KerasScheduleLR(optimizer, schedule), "interval": "step"}``, from
  ``configure_optimizers``. ``interval="step"`` matters: Lightning's default steps schedulers per epoch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler


def check_learning_rate(value: float, what: str = "learning_rate") -> None:
    """Refuse a learning rate that cannot train: it must be finite and > 0 (0 never moves a weight, < 0 climbs
    the loss; ``torch.optim`` refuses < 0)."""
    if not (0.0 < float(value) < math.inf):
        raise ValueError(f"{what} must be > 0, got {value}")


class LearningRateSchedule:
    """Base class: ``schedule(step) -> learning rate`` for the 0-based optimizer step (Keras's iterations)."""

    def __call__(self, step: int) -> float:
        raise NotImplementedError

    def check(self, what: str = "learning_rate") -> None:
        """Refuse a schedule that cannot start training: its value at step 0 must be > 0 and finite."""
        check_learning_rate(self(0), f"{what} {self!r} at step 0")

    def rate(self, step: int) -> float:
        """``self(step)``, refused if negative or non-finite (0 is allowed after step 0: the end of a decay)."""
        value = float(self(step))
        if not (0.0 <= value < math.inf):
            raise ValueError(f"learning_rate {self!r} gives {value} at step {step}; a learning rate must be >= 0")
        return value

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, named as in Keras's ``get_config()``."""
        return dict(vars(self))

    def lr_scheduler(self, optimizer: Optimizer) -> dict[str, Any]:
        """A Lightning ``lr_scheduler`` config that applies this schedule after every optimizer step."""
        return {"scheduler": KerasScheduleLR(optimizer, self), "interval": "step", "frequency": 1}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class _DecayOverSteps(LearningRateSchedule):
    """Shared by the exponential and inverse-time decays: progress ``p = s / decay_steps``, floored if staircase."""

    def __init__(
        self, initial_learning_rate: float, decay_steps: int, decay_rate: float, staircase: bool = False
    ) -> None:
        if decay_steps <= 0:
            raise ValueError(f"decay_steps must be > 0, got {decay_steps}")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase

    def _progress(self, step: int) -> float:
        p = step / self.decay_steps
        return math.floor(p) if self.staircase else p


class ExponentialDecay(_DecayOverSteps):
    """``lr(s) = initial_learning_rate * decay_rate ** p`` with ``p = s / decay_steps``, floored if ``staircase``.
    TF: ``keras.optimizers.schedules.ExponentialDecay`` (torch: ``ExponentialLR``/``StepLR`` stepped per batch)."""

    def __call__(self, step: int) -> float:
        return self.initial_learning_rate * self.decay_rate ** self._progress(step)


class InverseTimeDecay(_DecayOverSteps):
    """``lr(s) = initial_learning_rate / (1 + decay_rate * p)`` with ``p = s / decay_steps``, floored if
    ``staircase``. TF: ``keras.optimizers.schedules.InverseTimeDecay`` (no torch scheduler)."""

    def __call__(self, step: int) -> float:
        return self.initial_learning_rate / (1 + self.decay_rate * self._progress(step))


class PolynomialDecay(LearningRateSchedule):
    """``lr(s) = (initial - end) * (1 - min(s, d) / d) ** power + end`` with ``d = decay_steps``.

    ``power=1`` is linear decay. Note Keras's ``end_learning_rate`` defaults to 1e-4, not 0. With ``cycle``,
    ``d`` becomes ``decay_steps * ceil(s / decay_steps)`` (1x at s = 0) and ``s`` is not clamped.
    TF: ``keras.optimizers.schedules.PolynomialDecay``.
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        end_learning_rate: float = 0.0001,
        power: float = 1.0,
        cycle: bool = False,
    ) -> None:
        if decay_steps <= 0:
            raise ValueError(f"decay_steps must be > 0, got {decay_steps}")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle

    def __call__(self, step: int) -> float:
        decay_steps = self.decay_steps
        if self.cycle:
            decay_steps *= 1 if step == 0 else math.ceil(step / self.decay_steps)
        else:
            step = min(step, decay_steps)
        p = step / decay_steps
        return (self.initial_learning_rate - self.end_learning_rate) * (1 - p) ** self.power + self.end_learning_rate


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``s <= boundaries[0]``, ``values[i]`` while ``boundaries[i-1] < s <= boundaries[i]``,
    ``values[-1]`` after the last boundary. TF: ``keras.optimizers.schedules.PiecewiseConstantDecay``.

    The switch happens one step *after* each boundary; ``torch.optim.lr_scheduler.MultiStepLR`` switches *at* it.
    """

    def __init__(self, boundaries: Sequence[int], values: Sequence[float]) -> None:
        if len(values) != len(boundaries) + 1:
            raise ValueError(f"need len(values) == len(boundaries) + 1, got {len(values)} and {len(boundaries)}")
        self.boundaries = list(boundaries)
        self.values = list(values)

    def __call__(self, step: int) -> float:
        for boundary, value in zip(self.boundaries, self.values):
            if step <= boundary:
                return value
        return self.values[-1]


class CosineDecay(LearningRateSchedule):
    """Optional linear warmup, then cosine decay, then constant. TF: ``keras.optimizers.schedules.CosineDecay``.

    Without warmup: ``lr(s) = initial * ((1 - alpha) * 0.5 * (1 + cos(pi * min(s, d) / d)) + alpha)``, with
    ``d = decay_steps``; it stays at ``alpha * initial`` after ``d`` (``CosineAnnealingLR`` rises again).

    With ``warmup_target`` and ``warmup_steps = w``: ``initial + (warmup_target - initial) * s / w`` for
    ``s < w``, then the cosine above from ``warmup_target`` at step ``min(s, w + d) - w``.
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        alpha: float = 0.0,
        warmup_target: float | None = None,
        warmup_steps: int = 0,
    ) -> None:
        if decay_steps <= 0:
            raise ValueError(f"decay_steps must be > 0, got {decay_steps}")
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps

    def _decay(self, step: float, decay_from: float) -> float:
        cosine = 0.5 * (1.0 + math.cos(math.pi * step / self.decay_steps))
        return decay_from * ((1 - self.alpha) * cosine + self.alpha)

    def __call__(self, step: int) -> float:
        if self.warmup_target is None:
            return self._decay(min(step, self.decay_steps), self.initial_learning_rate)
        step = min(step, self.decay_steps + self.warmup_steps)
        if step < self.warmup_steps:
            delta = self.warmup_target - self.initial_learning_rate
            return delta * (step / self.warmup_steps) + self.initial_learning_rate
        return self._decay(step - self.warmup_steps, self.warmup_target)

    def check(self, what: str = "learning_rate") -> None:
        """A warmup may start from 0 (a common Keras recipe): then its target must be > 0 instead."""
        if self.warmup_target is None or not self.warmup_steps or self.initial_learning_rate != 0:
            super().check(what)
        else:
            check_learning_rate(self.warmup_target, f"{what} {self!r}: warmup_target")


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR). TF: ``keras.optimizers.schedules.CosineDecayRestarts``.

    Period ``i`` (0-based) lasts ``first_decay_steps * t_mul**i`` steps and starts from ``initial * m_mul**i``;
    with ``x`` the fraction of the current period done::

        lr(s) = initial * (m_mul**i * (1 - alpha) * 0.5 * (1 + cos(pi * x)) + alpha)

    With ``f = s / first_decay_steps``: ``i = floor(f)`` and ``x = f - i`` for ``t_mul == 1``, else
    ``i = floor(log(1 - f * (1 - t_mul)) / log(t_mul))`` and ``x = (f - (1 - t_mul**i) / (1 - t_mul)) / t_mul**i``.
    ``torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(T_0, T_mult)`` is the same curve for ``m_mul == 1``
    with ``alpha * initial`` as ``eta_min``, but takes an integer ``T_mult`` and no ``m_mul``.

    Keras evaluates ``i`` in float32: at the last step of a period, where ``log(...) / log(t_mul)`` is an integer
    in exact arithmetic, float32 rounding may put the step in either period; so does this class, which evaluates
    the restart index the same way in float32.
    """

    def __init__(
        self,
        initial_learning_rate: float,
        first_decay_steps: int,
        t_mul: float = 2.0,
        m_mul: float = 1.0,
        alpha: float = 0.0,
    ) -> None:
        if first_decay_steps <= 0:
            raise ValueError(f"first_decay_steps must be > 0, got {first_decay_steps}")
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self.t_mul = t_mul
        self.m_mul = m_mul
        self.alpha = alpha

    def _restart(self, fraction: float) -> tuple[int, float]:
        """``(i, x)``: the period the fraction ``f`` falls in, and how much of it is done."""
        if self.t_mul == 1.0:
            i = math.floor(fraction)
            return i, fraction - i
        t_mul = np.float32(self.t_mul)
        i = int(np.floor(np.log(np.float32(1.0 - fraction * (1.0 - self.t_mul))) / np.log(t_mul)))
        return i, (fraction - (1.0 - self.t_mul**i) / (1.0 - self.t_mul)) / self.t_mul**i

    def __call__(self, step: int) -> float:
        i, x = self._restart(step / self.first_decay_steps)
        cosine = 0.5 * self.m_mul**i * (1.0 + math.cos(math.pi * x))
        return self.initial_learning_rate * ((1 - self.alpha) * cosine + self.alpha)


class KerasScheduleLR(LRScheduler):
    """A ``torch`` LR scheduler that sets every group's ``lr`` to ``schedule(step)``.

    Call ``step()`` after every ``optimizer.step()`` (Lightning: ``"interval": "step"``, see
    :meth:`LearningRateSchedule.lr_scheduler`); the n-th optimizer step (0-based) then runs with
    ``schedule(n)``, as in Keras.
    """

    def __init__(self, optimizer: Optimizer, schedule: LearningRateSchedule, last_epoch: int = -1) -> None:
        schedule.check()
        self.schedule = schedule
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list[float]:
        return [self.schedule.rate(self.last_epoch)] * len(self.optimizer.param_groups)


SCHEDULES = {
    cls.__name__: cls
    for cls in (
        ExponentialDecay, InverseTimeDecay, PolynomialDecay, PiecewiseConstantDecay, CosineDecay, CosineDecayRestarts
    )
}

# Keras config keys with no effect on the values computed.
_INERT_KEYS = {"name"}
# Keras's default ``name`` of each schedule (it is part of Keras's config).
_KERAS_NAMES = {"PiecewiseConstantDecay": "PiecewiseConstant", "CosineDecayRestarts": "SGDRDecay"}


def serialize(schedule: LearningRateSchedule) -> dict[str, Any]:
    """``keras.optimizers.schedules.serialize(schedule)`` of the Keras twin: the same dict, name included."""
    name = type(schedule).__name__
    if name not in SCHEDULES:
        raise ValueError(f"{name} is not a Keras schedule; Keras schedules: {sorted(SCHEDULES)}")
    config = {**schedule.get_config(), "name": _KERAS_NAMES.get(name, name)}
    return {"module": "keras.optimizers.schedules", "class_name": name, "config": config, "registered_name": None}


def deserialize(config: dict[str, Any]) -> LearningRateSchedule:
    """A schedule from ``keras.optimizers.schedules.serialize(...)`` output (``{"class_name": ..., "config": ...}``)."""
    name = config["class_name"]
    if name not in SCHEDULES:
        raise ValueError(f"unsupported Keras schedule {name!r}; supported: {sorted(SCHEDULES)}")
    kwargs = {k: v for k, v in config["config"].items() if k not in _INERT_KEYS}
    return SCHEDULES[name](**kwargs)
