"""The multi-tensor fast path (ptref/optim/multi_tensor.py) against each optimizer's readable ``update_step``.

Both paths share everything around the rule (unscaling, accumulation, clipping, decay, EMA, schedule), so the
runs below switch on those options too: a fast path that mishandles param groups, devices, dtypes or the state
shows up as a difference. Every rule but Adam's is written with the readable form's roundings in its order and
must agree bit for bit. Adam folds ``w - m * alpha / d`` into one ``addcdiv`` (``w + (-alpha) * (m / d)``):
per step the two results differ by at most 1 ulp of ``w`` (the final sum) plus 2 ulp of the update ``u``
(``m * alpha / d`` and ``alpha * (m / d)`` round twice each); where the fused kernel applies, its m and v may
differ by a few ulp (``SLOT_ULPS``).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import torch

import ptref.optim as optim
from ptref.optim import multi_tensor
from ptref.optim.base import KerasOptimizer
from ptref.optim.schedules import ExponentialDecay

STEPS = 60
SHAPES = [(70, 30), (30,), (3, 5, 2, 2), (200,)]

EXACT = [
    (optim.SGD, {}),
    (optim.SGD, {"momentum": 0.9}),
    (optim.SGD, {"momentum": 0.9, "nesterov": True}),
    (optim.RMSprop, {}),
    (optim.RMSprop, {"momentum": 0.9, "centered": True}),
    (optim.Adagrad, {}),
    (optim.Adadelta, {}),
    (optim.Adamax, {}),
    (optim.Nadam, {}),
    (optim.Lion, {"learning_rate": 1e-4}),
]
ADAM = [(optim.Adam, {}), (optim.Adam, {"amsgrad": True}), (optim.AdamW, {})]

# Keras's base options, one combination per run; every rule is run with each of them.
BASE_OPTIONS: dict[str, dict[str, Any]] = {
    "plain": {},
    "clipnorm": {"clipnorm": 0.5},
    "clipvalue": {"clipvalue": 0.01},
    "global_clipnorm": {"global_clipnorm": 1.0},
    "weight_decay": {"weight_decay": 0.05},
    "ema": {"use_ema": True, "ema_momentum": 0.9, "ema_overwrite_frequency": 7},
    "accumulation": {"gradient_accumulation_steps": 3},
    "schedule": {"learning_rate": ExponentialDecay(0.01, 10, 0.5)},
}


def make_params(seed: int = 0) -> list[torch.Tensor]:
    """Tensors of several shapes, one in float64 (the fast path batches by dtype)."""
    generator = torch.Generator().manual_seed(seed)
    params = [torch.nn.Parameter(torch.randn(shape, generator=generator)) for shape in SHAPES]
    params.append(torch.nn.Parameter(torch.randn(9, 4, generator=generator, dtype=torch.float64)))
    return params


def gradient_stream(params: list[torch.Tensor], steps: int, seed: int = 1) -> list[list[torch.Tensor]]:
    """Gradients whose scale runs from 1 down to 1e-4 (where epsilon terms matter), one list per step."""
    generator = torch.Generator().manual_seed(seed)
    return [
        [torch.randn(p.shape, generator=generator, dtype=p.dtype) * 10.0 ** -(t % 5) for p in params]
        for t in range(steps)
    ]


def build(cls: type[KerasOptimizer], kwargs: dict[str, Any], params: list[torch.Tensor], foreach: bool) -> Any:
    """Two param groups (the second with its own learning rate) over ``params``."""
    groups = [{"params": params[:3]}, {"params": params[3:], "lr": 0.003}]
    kwargs = {"learning_rate": 0.01, **kwargs}
    if isinstance(kwargs["learning_rate"], ExponentialDecay):
        groups[1].pop("lr")
    return cls(groups, foreach=foreach, **kwargs)


def train(cls: type[KerasOptimizer], kwargs: dict[str, Any], foreach: bool, steps: int = STEPS):
    """``steps`` updates from fixed weights and gradients: (parameters, optimizer)."""
    params = make_params()
    opt = build(cls, kwargs, params, foreach)
    for grads in gradient_stream(params, steps):
        for param, grad in zip(params, grads):
            param.grad = grad.clone()
        opt.step()
    return params, opt


def state_tensors(opt: KerasOptimizer, params: list[torch.Tensor]) -> list[tuple[str, torch.Tensor]]:
    return [(f"{i}.{key}", value) for i, p in enumerate(params) for key, value in sorted(opt.state[p].items())]


def assert_bit_identical(cls: type[KerasOptimizer], kwargs: dict[str, Any], fast_cls: type | None = None) -> None:
    """Train with ``foreach=False`` and with the fast path (of ``fast_cls``, default ``cls``): same bits."""
    readable_params, readable = train(cls, kwargs, foreach=False)
    fast_params, fast = train(fast_cls or cls, kwargs, foreach=True)
    for i, (a, b) in enumerate(zip(readable_params, fast_params)):
        assert torch.equal(a, b), f"parameter {i}: max |difference| {(a - b).abs().max().item():.3g}"
    for (key, a), (_, b) in zip(state_tensors(readable, readable_params), state_tensors(fast, fast_params)):
        assert torch.equal(a, b), f"state {key}"


def ulp(x: torch.Tensor) -> torch.Tensor:
    """The spacing of floats at ``|x|`` (the smallest normal's spacing at and below it)."""
    tiny = torch.finfo(x.dtype).tiny
    return torch.finfo(x.dtype).eps * torch.exp2(torch.floor(torch.log2(x.abs().clamp(min=tiny))))


# The fused kernel (multi_tensor.fused_adam) writes m and v as ``beta * m + (1 - beta) * g``, Keras as
# ``m + (g - m) * (1 - beta)``: three roundings each, in another order, plus ``fl(beta) + fl(1 - beta) != 1``;
# at most 4 ulp of the larger of the slot's old and new value.
SLOT_ULPS = 4
# The update u = alpha * m / (sqrt(v) + epsilon) then carries sqrt(v)'s 2 ulp, its own 2 roundings and m's slots.
UPDATE_ULPS = 8


def assert_adam_within_bound(cls: type[KerasOptimizer], kwargs: dict[str, Any], fast_cls: type | None = None) -> None:
    """Every step taken by both paths from the readable path's state: ``|Δw| <= ulp(w) + 2 ulp(u)``."""
    params = make_params()
    readable = build(cls, kwargs, params, foreach=False)
    for grads in gradient_stream(params, STEPS):
        twins = [torch.nn.Parameter(p.detach().clone()) for p in params]
        fast = build(fast_cls or cls, kwargs, twins, foreach=True)
        fast.load_state_dict(copy.deepcopy(readable.state_dict()))
        before = [p.detach().clone() for p in params]
        slots_before = [{k: x.clone() for k, x in readable.state[p].items() if torch.is_tensor(x)} for p in params]
        for param, twin, grad in zip(params, twins, grads):
            param.grad, twin.grad = grad.clone(), grad.clone()
        readable.step()
        fast.step()
        for i, (a, b, w0) in enumerate(zip(params, twins, before)):
            update = (w0 - a).detach()  # the step, decay included: an upper bound on u's size
            bound = ulp(a.detach()) + UPDATE_ULPS * ulp(update)
            m_new = readable.state[a].get("m")  # m's own difference moves u by (alpha / d) * dm = (u / m) * dm
            if m_new is not None:
                m_ulp = ulp(torch.maximum(m_new.abs(), slots_before[i].get("m", m_new).abs()))
                bound = bound + update.abs() * SLOT_ULPS * m_ulp / m_new.abs().clamp(min=torch.finfo(m_new.dtype).tiny)
            excess = ((a - b).abs() - bound).max().item()
            assert excess <= 0, f"step {readable.iterations}, parameter {i}: {excess:.3g} past the bound"
            for key in readable.state[a].keys() - {"average", "gradient_accumulator"}:  # the rule's own slots
                x, y = readable.state[a][key], fast.state[b][key]
                slot_bound = SLOT_ULPS * ulp(torch.maximum(x.abs(), slots_before[i].get(key, x).abs()))
                assert ((x - y).abs() <= slot_bound).all(), f"parameter {i}: {key} past its bound"


@pytest.mark.parametrize("options", list(BASE_OPTIONS), ids=list(BASE_OPTIONS))
@pytest.mark.parametrize("cls, kwargs", EXACT, ids=[f"{c.__name__}{k or ''}" for c, k in EXACT])
def test_multi_tensor_step_is_bit_identical_to_the_readable_rule(cls, kwargs, options):
    assert_bit_identical(cls, {**kwargs, **BASE_OPTIONS[options]})


@pytest.mark.parametrize("options", list(BASE_OPTIONS), ids=list(BASE_OPTIONS))
@pytest.mark.parametrize("cls, kwargs", ADAM, ids=[f"{c.__name__}{k or ''}" for c, k in ADAM])
def test_adam_multi_tensor_step_stays_within_its_rounding_bound_of_the_readable_rule(cls, kwargs, options):
    assert_adam_within_bound(cls, {**kwargs, **BASE_OPTIONS[options]})


@pytest.mark.parametrize("cls, kwargs", ADAM, ids=[f"{c.__name__}{k or ''}" for c, k in ADAM])
def test_adam_multi_tensor_training_ends_where_the_readable_one_does(cls, kwargs):
    """60 independent steps each: per-step differences of ~1 ulp (bound above) add up to at most ~60 ulp,
    3.6e-6 relative; rtol 1e-5 and atol 1e-7 (below the smallest moves here) leave room for no wrong term."""
    readable_params, _ = train(cls, kwargs, foreach=False)
    fast_params, _ = train(cls, kwargs, foreach=True)
    for a, b in zip(readable_params, fast_params):
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-7)


def test_the_fast_path_is_the_default_where_there_is_one_and_foreach_false_turns_it_off():
    params = make_params()
    for cls in (optim.Adam, optim.AdamW, optim.SGD, optim.RMSprop, optim.Adagrad, optim.Adadelta, optim.Adamax,
                optim.Nadam, optim.Lion):
        assert cls(params).foreach and not cls(params, foreach=False).foreach, cls.__name__
    for cls in (optim.Ftrl, optim.Lamb, optim.Adafactor, optim.ScheduleFreeAdamW):
        assert not cls(params).foreach, cls.__name__


def test_foreach_is_not_part_of_the_keras_config():
    assert "foreach" not in optim.Adam(make_params(), foreach=False).get_config()


def test_foreach_must_be_a_bool_or_none():
    with pytest.raises(ValueError, match="foreach must be True, False or None"):
        optim.Adam(make_params(), foreach="yes")


@pytest.mark.parametrize("cls, kwargs", [(optim.SGD, {"momentum": 0.9}), (optim.Nadam, {}), (optim.Adam, {})])
def test_a_checkpoint_of_the_fast_path_resumes_the_readable_one(cls, kwargs):
    """The state has the same slots on both paths: save from one, load into the other, finish the same run."""
    straight, _ = train(cls, kwargs, foreach=True)
    params = make_params()
    first = build(cls, kwargs, params, foreach=True)
    stream = gradient_stream(params, STEPS)
    for grads in stream[: STEPS // 2]:
        for param, grad in zip(params, grads):
            param.grad = grad.clone()
        first.step()
    resumed = build(cls, kwargs, params, foreach=False)
    resumed.load_state_dict(copy.deepcopy(first.state_dict()))
    for grads in stream[STEPS // 2:]:
        for param, grad in zip(params, grads):
            param.grad = grad.clone()
        resumed.step()
    for a, b in zip(params, straight):
        if cls is optim.Adam:  # the second half runs the readable rule: Adam's rounding bound, as above
            torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-7)
        else:
            assert torch.equal(a, b)


# --- teeth: a fast path with one term wrong must fail the checks above ---


def _mutant(base_step, change):
    """A fast path that is ``base_step`` with ``change(group) -> group`` applied: one term wrong."""

    def step(opt, params, grads, lr, t, group):
        return base_step(opt, params, grads, lr, t, change(group))

    return step


MUTANTS = {
    "Adam without epsilon": (optim.Adam, {}, _mutant(multi_tensor.adam, lambda g: {**g, "epsilon": 0.0})),
    "Adam beta_2 for beta_1": (optim.Adam, {}, _mutant(multi_tensor.adam, lambda g: {**g, "beta_1": g["beta_2"]})),
    "AMSGrad without the maximum": (
        optim.Adam, {"amsgrad": True}, _mutant(multi_tensor.adam, lambda g: {**g, "amsgrad": False})),
    "SGD nesterov as plain momentum": (
        optim.SGD, {"momentum": 0.9, "nesterov": True}, _mutant(multi_tensor.sgd, lambda g: {**g, "nesterov": False})),
    "RMSprop not centered": (
        optim.RMSprop, {"centered": True}, _mutant(multi_tensor.rmsprop, lambda g: {**g, "centered": False})),
    "Adadelta epsilon 1e-6": (optim.Adadelta, {}, _mutant(multi_tensor.adadelta, lambda g: {**g, "epsilon": 1e-6})),
    "Adamax beta_2 0.99": (optim.Adamax, {}, _mutant(multi_tensor.adamax, lambda g: {**g, "beta_2": 0.99})),
    "Lion beta_1 = beta_2": (
        optim.Lion, {"learning_rate": 1e-4}, _mutant(multi_tensor.lion, lambda g: {**g, "beta_1": g["beta_2"]})),
}


def adagrad_epsilon_outside_the_root(opt, params, grads, lr, t, group):
    """Adagrad with ``sqrt(acc) + epsilon`` (torch's placement) instead of ``sqrt(acc + epsilon)``."""
    (accumulator,) = [[opt.state[p]["accumulator"] for p in params]]
    torch._foreach_add_(accumulator, torch._foreach_mul(grads, grads))
    denominator = torch._foreach_sqrt(accumulator)
    torch._foreach_add_(denominator, group["epsilon"])
    step = torch._foreach_mul(grads, lr)
    torch._foreach_div_(step, denominator)
    torch._foreach_sub_(params, step)


def nadam_with_u_t_for_u_next(opt, params, grads, lr, t, group):
    """Nadam whose momentum term uses this step's ``u(t)`` where the rule has ``u(t+1)``."""
    original = opt._u
    opt._u = lambda step, like: original(t, like)
    try:
        multi_tensor.nadam(opt, params, grads, lr, t, group)
    finally:
        del opt._u


MUTANTS["Adagrad epsilon outside the root"] = (optim.Adagrad, {}, adagrad_epsilon_outside_the_root)
MUTANTS["Nadam u(t) for u(t+1)"] = (optim.Nadam, {}, nadam_with_u_t_for_u_next)


@pytest.mark.parametrize("name", list(MUTANTS))
def test_a_fast_path_with_one_term_wrong_fails_the_comparison(name):
    cls, kwargs, wrong_step = MUTANTS[name]
    mutant = type(f"Wrong{cls.__name__}", (cls,), {"multi_tensor_step": wrong_step})
    check = assert_adam_within_bound if issubclass(cls, optim.Adam) else assert_bit_identical
    with pytest.raises(AssertionError):
        check(cls, kwargs, fast_cls=mutant)
