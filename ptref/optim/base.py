"""What every Keras optimizer does around its own update rule, written once.

Keras's ``optimizer.apply(grads)`` runs, in this order (``keras/src/optimizers/base_optimizer.py``):

1. divide the gradients by ``loss_scale_factor``;
2. with ``gradient_accumulation_steps = k``: add them to the accumulators and stop there, except on every
   ``k``-th call, which goes on with ``(accumulator + g) / k`` (:mod:`ptref.optim.averaging`);
3. clip the gradients: ``clipnorm`` (each tensor on its own), ``global_clipnorm`` or ``clipvalue``
   (:mod:`ptref.optim.clipping`);
4. decoupled weight decay ``w = w - w * weight_decay * lr`` with the current learning rate;
5. the optimizer's ``update_step(g, w, lr)``, with ``lr = schedule(calls)`` for a schedule;
6. with ``use_ema``: update the moving average of every weight (and overwrite the weights every
   ``ema_overwrite_frequency`` updates);
7. ``calls += 1`` (one counter per optimizer, 0-based, never reset between epochs; ``iterations`` is
   ``calls // k``, ``calls`` without accumulation).

:class:`KerasOptimizer` is a ``torch.optim.Optimizer`` doing exactly that; subclasses implement ``build``
(create one parameter's state) and ``update_step`` (the formula, one tensor), and may name a
``multi_tensor_step``: the same rule on all of a param group's tensors at once (:mod:`ptref.optim.multi_tensor`),
used unless the ``foreach=False`` option is given. The learning rate of the next step sits in every param
group's ``"lr"`` (so Lightning's ``LearningRateMonitor`` and ``torch`` LR schedulers work), and the iteration
counter in ``self.state["iterations"]``, so ``state_dict()``/``load_state_dict()`` resume exactly.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor
from torch.optim import Optimizer

from ptref.optim.averaging import accumulate, update_moving_averages
from ptref.optim.clipping import clip, clip_by_global_norm, clip_by_norm
from ptref.optim.loss_scaling import LossScaling
from ptref.optim.options import BELOW_ONE, NON_NEGATIVE, UNIT, Interval, KerasOptions, check_options, snake_case
from ptref.optim.schedules import LearningRateSchedule, check_learning_rate
from ptref.optim.schedules import serialize as serialize_schedule
from ptref.optim.sparse import Gradient, IndexedSlices, as_gradient, dense

__all__ = [
    "BELOW_ONE", "NON_NEGATIVE", "UNIT", "Interval", "KerasOptimizer", "KerasOptions", "LearningRate", "Params",
    "clip_by_global_norm", "clip_by_norm", "power", "snake_case",
]

Params = Iterable[Tensor] | Iterable[tuple[str, Tensor]] | Iterable[dict[str, Any]]
LearningRate = float | LearningRateSchedule | Callable[[], float]
MultiTensorStep = Callable[[Any, list[Tensor], list[Tensor], float, int, dict[str, Any]], None]


def power(base: float, t: int, like: Tensor) -> Tensor:
    """``base ** t`` computed in ``like``'s dtype, as Keras's ``ops.power(cast(base), cast(t))``.

    In float32 this differs from Python's float64 ``base ** t``: for ``0.999 ** 100`` by 1.2e-6, which is
    1.3e-5 relative in the bias correction ``1 - 0.999 ** 100`` (enough to break 1e-6 parity with Keras).
    """
    return torch.pow(torch.tensor(base, dtype=like.dtype), torch.tensor(t, dtype=like.dtype))


# Slots every optimizer may keep per parameter besides its own (see KerasOptions).
_BASE_SLOTS = frozenset({"average", "gradient_accumulator"})


class KerasOptimizer(LossScaling, Optimizer):
    """Base class: Keras's clipping, decoupled weight decay, learning-rate schedule, iteration counter and options.

    Args:
        params: parameters or param groups, as for any ``torch.optim.Optimizer``; pass
            ``model.named_parameters()`` to use :meth:`exclude_from_weight_decay` with names.
        learning_rate: a float, a :class:`~ptref.optim.schedules.LearningRateSchedule` (subclass it for a
            custom rule, as in Keras) evaluated at the 0-based iteration count before every step, or a callable
            without arguments called before every step (as Keras calls one).
        weight_decay: decoupled decay ``w -= w * weight_decay * lr`` before the update (Keras semantics; not
            the L2-coupled ``weight_decay`` of most ``torch.optim`` classes). ``None`` disables it.
        clipnorm: clip each gradient tensor to this L2 norm on its own.
        clipvalue: clip every gradient element to ``[-clipvalue, clipvalue]``.
        global_clipnorm: clip all gradients together to this global L2 norm.
        options: :class:`~ptref.optim.options.KerasOptions` (EMA, loss scale, gradient accumulation, foreach).
        **hyperparameters: the subclass's own settings, stored per param group.

    Every param group is checked when added: ``lr`` finite and > 0 (or the schedule's first value, see
    :meth:`~ptref.optim.schedules.LearningRateSchedule.check`), ``weight_decay`` >= 0, and each hyper-parameter
    named in the subclass's ``RANGES`` inside its interval; a ``ValueError`` names the optimizer and the value.

    A step in which no parameter has a gradient (a Lightning ``training_step`` that returns ``None``) changes
    nothing and is not counted, as in ``torch.optim`` (Keras refuses it: "No gradients provided for any
    variable").

    Sparse gradients (``nn.Embedding(sparse=True)``: one row per token occurrence) are Keras's ``IndexedSlices``
    (:mod:`ptref.optim.sparse`) and get Keras-on-TensorFlow's semantics: unscaled and clipped row by row (a
    global clipnorm densifies them), densified before gradient accumulation (Keras adds them to a dense
    accumulator), and given as they are to an ``update_step`` that says where Keras sums the occurrences
    (``SPARSE_UPDATE = True``); an optimizer whose update is linear in ``g`` gets them summed. The multi-tensor
    path takes the dense gradients only.
    """

    RANGES: ClassVar[dict[str, Interval]] = {}
    # True when update_step takes an IndexedSlices gradient and sums its occurrences where Keras's ops do
    SPARSE_UPDATE: ClassVar[bool] = False
    multi_tensor_step: ClassVar[MultiTensorStep | None] = None

    def __init__(
        self,
        params: Params,
        learning_rate: LearningRate,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        options: KerasOptions | None = None,
        **hyperparameters: Any,
    ) -> None:
        name = type(self).__name__
        if sum(c is not None for c in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError("only one of clipnorm, clipvalue and global_clipnorm can be set (as in Keras)")
        options = dict(options or {})
        check_options(options, name)
        self.name = options.get("name") or snake_case(name)
        self.use_ema = bool(options.get("use_ema", False))
        self.ema_momentum = float(options.get("ema_momentum", 0.99))
        self.ema_overwrite_frequency = options.get("ema_overwrite_frequency")
        self.loss_scale_factor = options.get("loss_scale_factor")
        self.gradient_accumulation_steps = options.get("gradient_accumulation_steps")
        self.foreach = options.get("foreach") is not False and self.multi_tensor_step is not None
        schedule = learning_rate if isinstance(learning_rate, LearningRateSchedule) else None
        if schedule is not None:
            schedule.check(f"{name}: learning_rate")
        self.learning_rate_schedule = schedule
        self.learning_rate_callable = learning_rate if schedule is None and callable(learning_rate) else None
        lr = float(schedule(0) if schedule else learning_rate() if callable(learning_rate) else learning_rate)
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self._no_decay: set[int] = set()
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, **hyperparameters))
        if self.loss_scale_factor is not None:
            self.watch_backward()

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
        """Optimizer updates so far (Keras's ``optimizer.iterations``: calls // gradient_accumulation_steps)."""
        return self.calls // (self.gradient_accumulation_steps or 1)

    @property
    def calls(self) -> int:
        """Counted ``step()`` calls (Keras's ``optimizer._iterations``); the schedule is evaluated at it."""
        return self.state.get("iterations", 0)

    def exclude_from_weight_decay(
        self, var_list: Iterable[Tensor] | None = None, var_names: Iterable[str] | None = None
    ) -> None:
        """Exempt parameters from ``weight_decay`` (Keras's method of the same name), before the first step.

        ``var_list``: parameters to exempt. ``var_names``: a parameter is exempt when any of these strings is
        found (``re.search`` of ``"|".join(var_names)``, as Keras) in its name. Keras searches the variable's
        short name (``"kernel"``, ``"bias"``); torch parameters have only the dotted names of
        ``model.named_parameters()`` (``"0.bias"``, ``"dense.weight"``), so build the optimizer from
        ``named_parameters()`` and note a pattern also matches module names (``"dense"`` exempts all of a
        ``dense`` module's parameters, where in Keras it would match nothing).
        """
        name = type(self).__name__
        if self.calls:
            raise ValueError(f"{name}.exclude_from_weight_decay() must be called before the first step (as in Keras)")
        self._no_decay = {id(p) for p in var_list or ()}
        names = list(var_names or ())
        if not names:
            return
        pattern = re.compile("|".join(set(names)))
        for group in self.param_groups:
            if "param_names" not in group:
                raise ValueError(
                    f"{name}.exclude_from_weight_decay(var_names={names}) needs parameter names: "
                    "build the optimizer from model.named_parameters()"
                )
            for param, param_name in zip(group["params"], group["param_names"]):
                if pattern.search(param_name):
                    self._no_decay.add(id(param))

    def loss_scale(self) -> float | None:
        """The factor :meth:`~ptref.optim.loss_scaling.LossScaling.scale_loss` multiplies by: ``loss_scale_factor``."""
        return self.loss_scale_factor

    def get_config(self) -> dict[str, Any]:
        """Keras's ``optimizer.get_config()``: the same keys, in Keras's order, with Keras's values.

        ``learning_rate`` is the current rate rounded to float32 (Keras reads it from a float32 variable) or the
        schedule's ``serialize`` dict.
        """
        name = type(self).__name__
        if self.learning_rate_callable is not None:
            raise ValueError(f"{name}.get_config(): a callable learning_rate has no config (as a Keras lambda)")
        schedule = self.learning_rate_schedule
        rate = serialize_schedule(schedule) if schedule else float(np.float32(self.param_groups[0]["lr"]))
        config = {
            "name": self.name,
            "learning_rate": rate,
            "weight_decay": self.defaults["weight_decay"],
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }
        own = [p for p in inspect.signature(type(self).__init__).parameters if p in self.defaults and p not in config]
        return {**config, **{key: self.defaults[key] for key in own}}

    @torch.no_grad()
    def finalize_variable_values(self) -> None:
        """With ``use_ema``: overwrite every parameter with its moving average (Keras does this after ``fit``)."""
        if self.use_ema:
            for param in self._all_params():
                if "average" in self.state[param]:
                    param.copy_(self.state[param]["average"])

    def build(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        """Create the per-parameter state (slots) on the parameter's first update."""

    def decay_rate(self, param: Tensor, group: dict[str, Any]) -> float | None:
        """The ``weight_decay`` for ``param`` (its group's; Muon decays its AdamW parameters at another rate)."""
        return group["weight_decay"]

    def update_shared(self, t: int) -> None:
        """Update optimizer-wide state once per update, before the per-parameter updates (Nadam needs it)."""

    def update_step(
        self, grad: Tensor, param: Tensor, lr: float, t: int, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        """Apply the update rule to one parameter in place; ``t = iterations + 1`` (1-based)."""
        raise NotImplementedError

    @torch.no_grad()
    def step(self, closure: Any = None) -> Any:
        """One Keras ``apply``: unscale, accumulate, clip, decay, update, average; count the call.

        A call in which no parameter has a gradient does nothing and is not counted.
        """
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()

        with_grad = [(p, group) for group in self.param_groups for p in group["params"] if p.grad is not None]
        if not with_grad:
            return loss
        self.check_loss_was_scaled()
        grads: list[Gradient] | None = [as_gradient(p.grad) for p, _ in with_grad]
        if self.loss_scale_factor is not None:
            grads = [self._unscale(g) for g in grads]
        calls = self.calls
        self._set_scheduled_lr(calls)
        if self.gradient_accumulation_steps:
            params = [p for p, _ in with_grad]
            states = [self.state[p] for p in params]
            # Keras adds a sparse gradient to its dense accumulator, densifying it, on every call
            grads = accumulate(params, [dense(g) for g in grads], states, self.gradient_accumulation_steps, calls)
        if grads is not None:
            self._update(with_grad, grads, calls // (self.gradient_accumulation_steps or 1) + 1)
        if self.use_ema:
            self._update_moving_averages()
        self.state["iterations"] = calls + 1
        self._set_scheduled_lr(calls + 1)  # the group's "lr" always shows what the next step will use
        return loss

    def _unscale(self, grad: Gradient) -> Gradient:
        """``g / loss_scale_factor``; a sparse gradient row by row (Keras on TensorFlow cannot divide one)."""
        if isinstance(grad, IndexedSlices):
            return grad.map_values(lambda rows: rows / self.loss_scale_factor)
        return grad / self.loss_scale_factor

    def _update(self, with_grad: list[tuple[Tensor, dict]], grads: list[Gradient], t: int) -> None:
        """Clip, decay and apply the update rule with ``t = iterations + 1``."""
        grads = clip(grads, self.clipnorm, self.global_clipnorm, self.clipvalue)
        for param, group in with_grad:
            state = self.state[param]
            if state.keys() <= _BASE_SLOTS:  # built before the decay, as Keras builds before applying anything
                self.build(param, state, group)
            weight_decay = self.decay_rate(param, group)
            if weight_decay and id(param) not in self._no_decay:
                param.sub_(param * weight_decay * group["lr"])
        self.update_shared(t)
        batches: dict[tuple, tuple[dict, list[Tensor], list[Tensor]]] = {}
        for (param, group), grad in zip(with_grad, grads):
            if not self.foreach or isinstance(grad, IndexedSlices):
                grad = grad if self.SPARSE_UPDATE else dense(grad)
                self.update_step(grad, param, group["lr"], t, self.state[param], group)
                continue
            # the fast path: one batch per group, device and dtype
            batch = batches.setdefault((id(group), param.device, param.dtype), (group, [], []))
            batch[1].append(param)
            batch[2].append(grad)
        for group, params, group_grads in batches.values():
            self.multi_tensor_step(params, group_grads, group["lr"], t, group)

    def _all_params(self) -> list[Tensor]:
        return [p for group in self.param_groups for p in group["params"]]

    def _update_moving_averages(self) -> None:
        """Keras's EMA of every parameter (with a gradient this call or not), then the periodic overwrite."""
        params = self._all_params()
        iterations = self.iterations
        update_moving_averages(params, [self.state[p] for p in params], self.ema_momentum, iterations)
        frequency = self.ema_overwrite_frequency
        if frequency and (iterations + 1) % frequency == 0:
            self.finalize_variable_values()

    def _set_scheduled_lr(self, calls: int) -> None:
        if self.learning_rate_schedule is not None:
            lr = self.learning_rate_schedule.rate(calls)
        elif self.learning_rate_callable is not None:
            lr = float(self.learning_rate_callable())
        else:
            return
        for group in self.param_groups:
            group["lr"] = lr
