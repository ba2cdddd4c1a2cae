"""ptref.optim against NumPy written here from the Keras formulas (keras/src/optimizers/*.py).

Everything runs in float64 on both sides, so a correct formula agrees to ~1e-15 relative; the tolerance
(rtol 1e-10, atol 1e-12) only absorbs float64 rounding over 60 steps, while any slip in a formula (epsilon
placement, bias correction, lr inside/outside the velocity) moves the weights by >= 1e-6. float32 parity with
TensorFlow itself is checked in compare/test_optimizers_tf.py.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable

import numpy as np
import pytest
import torch

import ptref.optim as optim
from ptref.optim.schedules import ExponentialDecay, LearningRateSchedule

STEPS = 60
SHAPES = [(4, 3), (3,), (2, 2, 3)]


class ChangingLR(LearningRateSchedule):
    """A learning rate that changes every step (and jumps at step 20), to catch lr kept in the wrong place."""

    def __call__(self, step: int) -> float:
        return 0.05 * 0.97**step * (0.3 if step >= 20 else 1.0)


changing_lr = ChangingLR()


# --- NumPy references: one Keras update for one tensor; `s` is that tensor's state, t = iterations + 1 ---


def sgd(w, g, s, lr, t, momentum=0.0, nesterov=False):
    if momentum == 0:
        return w - lr * g
    s["v"] = momentum * s.get("v", 0.0) - lr * g
    return w + (momentum * s["v"] - lr * g if nesterov else s["v"])


def rmsprop(w, g, s, lr, t, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False):
    s["v"] = rho * s.get("v", 0.0) + (1 - rho) * g**2
    den = s["v"] + epsilon
    if centered:
        s["a"] = rho * s.get("a", 0.0) + (1 - rho) * g
        den = den - s["a"] ** 2
    inc = lr * g / np.sqrt(den)
    if momentum > 0:
        s["m"] = momentum * s.get("m", 0.0) + inc
        inc = s["m"]
    return w - inc


def adam(w, g, s, lr, t, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False):
    s["m"] = beta_1 * s.get("m", 0.0) + (1 - beta_1) * g
    s["v"] = beta_2 * s.get("v", 0.0) + (1 - beta_2) * g**2
    v = s["v"]
    if amsgrad:
        v = s["v_hat"] = np.maximum(s.get("v_hat", 0.0), v)
    alpha = lr * math.sqrt(1 - beta_2**t) / (1 - beta_1**t)
    return w - alpha * s["m"] / (np.sqrt(v) + epsilon)


def adagrad(w, g, s, lr, t, initial_accumulator_value=0.1, epsilon=1e-7):
    s["acc"] = s.get("acc", initial_accumulator_value) + g**2
    return w - lr * g / np.sqrt(s["acc"] + epsilon)


def adadelta(w, g, s, lr, t, rho=0.95, epsilon=1e-7):
    s["acc_g"] = rho * s.get("acc_g", 0.0) + (1 - rho) * g**2
    delta = -np.sqrt(s.get("acc_d", 0.0) + epsilon) / np.sqrt(s["acc_g"] + epsilon) * g
    s["acc_d"] = rho * s.get("acc_d", 0.0) + (1 - rho) * delta**2
    return w + lr * delta


def adamax(w, g, s, lr, t, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    s["m"] = beta_1 * s.get("m", 0.0) + (1 - beta_1) * g
    s["u"] = np.maximum(beta_2 * s.get("u", 0.0), np.abs(g))
    return w - lr / (1 - beta_1**t) * s["m"] / (s["u"] + epsilon)


def nadam(w, g, s, lr, t, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    def u(i):
        return beta_1 * (1 - 0.5 * 0.96**i)

    product = math.prod(u(i) for i in range(1, t + 1))
    s["m"] = beta_1 * s.get("m", 0.0) + (1 - beta_1) * g
    s["v"] = beta_2 * s.get("v", 0.0) + (1 - beta_2) * g**2
    m_hat = u(t + 1) * s["m"] / (1 - product * u(t + 1)) + (1 - u(t)) * g / (1 - product)
    v_hat = s["v"] / (1 - beta_2**t)
    return w - lr * m_hat / (np.sqrt(v_hat) + epsilon)


CASES = [
    (optim.SGD, sgd, {}),
    (optim.SGD, sgd, {"momentum": 0.9}),
    (optim.SGD, sgd, {"momentum": 0.9, "nesterov": True}),
    (optim.RMSprop, rmsprop, {}),
    (optim.RMSprop, rmsprop, {"momentum": 0.9}),
    (optim.RMSprop, rmsprop, {"centered": True}),
    (optim.Adam, adam, {}),
    (optim.Adam, adam, {"amsgrad": True}),
    (optim.Adagrad, adagrad, {}),
    (optim.Adadelta, adadelta, {}),
    (optim.Adamax, adamax, {}),
    (optim.Nadam, nadam, {}),
]


def gradient_stream(seed: int = 0, scale: float = 1.0) -> list[list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    return [[scale * rng.standard_normal(shape) for shape in SHAPES] for _ in range(STEPS)]


def run_numpy(
    update: Callable, grads, lr: Callable[[int], float], weight_decay: float | None = None,
    clip: Callable | None = None, **kwargs
) -> list[np.ndarray]:
    """Keras's apply loop: clip, decoupled weight decay with lr(step), update each tensor, step += 1."""
    ws = [np.linspace(-1.0, 1.0, math.prod(shape)).reshape(shape) for shape in SHAPES]
    states: list[dict] = [{} for _ in SHAPES]
    for step, gs in enumerate(grads):
        gs = clip(gs) if clip else gs
        if weight_decay:
            ws = [w - w * weight_decay * lr(step) for w in ws]
        ws = [update(w, g, s, lr(step), step + 1, **kwargs) for w, g, s in zip(ws, gs, states)]
    return ws


def make_params() -> list[torch.nn.Parameter]:
    """The same starting weights as run_numpy, in float64."""
    return [
        torch.nn.Parameter(torch.linspace(-1.0, 1.0, math.prod(shape), dtype=torch.float64).reshape(shape))
        for shape in SHAPES
    ]


def feed(opt: torch.optim.Optimizer, params: list[torch.nn.Parameter], grads) -> None:
    for gs in grads:
        for p, g in zip(params, gs):
            p.grad = torch.from_numpy(g)
        opt.step()


def run_torch(cls: type, grads, **kwargs) -> list[np.ndarray]:
    params = make_params()
    feed(cls(params, **kwargs), params, grads)
    return [p.detach().numpy() for p in params]


def assert_same(actual: list[np.ndarray], expected: list[np.ndarray]) -> None:
    for a, e in zip(actual, expected):
        np.testing.assert_allclose(a, e, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(("cls", "update", "kwargs"), CASES, ids=lambda c: getattr(c, "__name__", str(c)))
@pytest.mark.parametrize("scale", [1.0, 1e-4], ids=["g~1", "g~1e-4"])
def test_optimizer_follows_keras_formula_with_changing_lr(cls, update, kwargs, scale):
    grads = gradient_stream(scale=scale)
    expected = run_numpy(update, grads, changing_lr, **kwargs)
    assert_same(run_torch(cls, grads, learning_rate=changing_lr, **kwargs), expected)


@pytest.mark.parametrize(("cls", "update", "kwargs"), CASES[::3], ids=lambda c: getattr(c, "__name__", str(c)))
def test_constant_learning_rate_and_keras_defaults(cls, update, kwargs):
    grads = gradient_stream(seed=1)
    default_lr = {optim.SGD: 0.01}.get(cls, 0.001)
    assert_same(run_torch(cls, grads, **kwargs), run_numpy(update, grads, lambda step: default_lr, **kwargs))


@pytest.mark.parametrize("cls", [optim.SGD, optim.Adam, optim.RMSprop])
def test_weight_decay_is_decoupled_and_uses_current_lr(cls):
    grads = gradient_stream(seed=2)
    update = {optim.SGD: sgd, optim.Adam: adam, optim.RMSprop: rmsprop}[cls]
    expected = run_numpy(update, grads, changing_lr, weight_decay=0.05)
    assert_same(run_torch(cls, grads, learning_rate=changing_lr, weight_decay=0.05), expected)


def test_adamw_is_adam_with_decay_0_004_by_default():
    grads = gradient_stream(seed=3)
    expected = run_numpy(adam, grads, lambda step: 0.001, weight_decay=0.004)
    assert_same(run_torch(optim.AdamW, grads), expected)


def clip_each(gs, c):
    return [g * c / max(np.linalg.norm(g), c) for g in gs]


def clip_global(gs, c):
    norm = math.sqrt(sum(float((g**2).sum()) for g in gs))
    return [g * c / max(norm, c) for g in gs]


@pytest.mark.parametrize(
    ("kwargs", "clip"),
    [
        ({"clipnorm": 1.0}, lambda gs: clip_each(gs, 1.0)),
        ({"global_clipnorm": 2.0}, lambda gs: clip_global(gs, 2.0)),
        ({"clipvalue": 0.5}, lambda gs: [np.clip(g, -0.5, 0.5) for g in gs]),
    ],
    ids=["clipnorm-per-tensor", "global_clipnorm", "clipvalue"],
)
def test_gradient_clipping_happens_before_the_update(kwargs, clip):
    # scale 0.6: some tensors have norm below the clip and some above, so per-tensor != global clipping
    grads = gradient_stream(seed=4, scale=0.6)
    expected = run_numpy(sgd, grads, changing_lr, clip=clip, momentum=0.9)
    assert_same(run_torch(optim.SGD, grads, learning_rate=changing_lr, momentum=0.9, **kwargs), expected)


def test_only_one_clipping_option_is_accepted():
    with pytest.raises(ValueError, match="only one"):
        optim.Adam([torch.nn.Parameter(torch.zeros(1))], clipnorm=1.0, clipvalue=1.0)


def test_global_clipnorm_of_a_non_finite_norm_gives_nan_like_keras():
    p = torch.nn.Parameter(torch.zeros(2))
    p.grad = torch.tensor([float("inf"), 1.0])
    optim.SGD([p], global_clipnorm=1.0).step()
    assert torch.isnan(p).all()


def test_schedule_is_evaluated_at_the_zero_based_iteration_and_shown_in_param_groups():
    p = torch.nn.Parameter(torch.zeros(1))
    schedule = ExponentialDecay(0.1, decay_steps=3, decay_rate=0.5, staircase=True)
    opt = optim.SGD([p], learning_rate=schedule)
    seen = []
    for _ in range(7):
        p.grad = torch.ones(1)
        before, announced = p.item(), opt.param_groups[0]["lr"]
        opt.step()
        seen.append(before - p.item())
        assert announced == pytest.approx(seen[-1])
    np.testing.assert_allclose(seen, [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025], rtol=1e-6)
    assert opt.iterations == 7


@pytest.mark.parametrize("cls", [optim.SGD, optim.RMSprop, optim.Adam, optim.Adagrad, optim.Adadelta, optim.Nadam])
def test_state_dict_round_trip_resumes_bit_exactly(cls):
    grads = gradient_stream(seed=5)
    kwargs = {"learning_rate": ExponentialDecay(0.05, 10, 0.5)}
    if cls in (optim.SGD, optim.RMSprop):
        kwargs["momentum"] = 0.9
    straight = run_torch(cls, grads, **kwargs)

    params = make_params()
    first = cls(params, **kwargs)
    feed(first, params, grads[: STEPS // 2])
    buffer = io.BytesIO()
    torch.save(first.state_dict(), buffer)
    buffer.seek(0)
    resumed = cls(params, **kwargs)
    resumed.load_state_dict(torch.load(buffer, weights_only=True))
    assert resumed.iterations == STEPS // 2
    feed(resumed, params, grads[STEPS // 2 :])
    for a, b in zip(params, straight):
        np.testing.assert_array_equal(a.detach().numpy(), b)


def test_parameters_without_gradient_are_left_alone_but_the_step_still_counts():
    used, unused = torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(2))
    opt = optim.Adam([used, unused], weight_decay=0.1)
    used.grad = torch.ones(2)
    opt.step()
    assert torch.equal(unused, torch.ones(2)) and not torch.equal(used, torch.ones(2))
    assert opt.iterations == 1 and unused not in opt.state


def test_adam_in_float32_follows_the_spelled_out_keras_expressions():
    """Adam's default (multi-tensor) step against Keras's adam.py, line by line.

    Its final ``addcdiv`` rounds the update in another order: ~1 ulp per step apart, so over 40 steps the
    weights agree to ~1e-6 relative; a wrong formula (bias correction, epsilon placement, a work tensor
    overwritten too early) moves them by >= 1e-4.
    """
    shapes = [(70, 30), (30,), (3, 5, 2, 2), (200,)]  # larger and smaller than each other
    generator = torch.Generator().manual_seed(0)
    weights = [torch.randn(shape, generator=generator) for shape in shapes]
    params = [torch.nn.Parameter(w.clone()) for w in weights]
    opt = optim.Adam(params, learning_rate=0.01)
    m = [torch.zeros_like(w) for w in weights]
    v = [torch.zeros_like(w) for w in weights]
    for t in range(1, 41):
        grads = [torch.randn(shape, generator=generator) * 10.0 ** -(t % 5) for shape in shapes]
        for p, g in zip(params, grads):
            p.grad = g.clone()
        opt.step()
        one = torch.tensor(1.0)
        for i, g in enumerate(grads):  # Keras's adam.py, line by line, in float32 tensors
            m[i] = m[i] + (g - m[i]) * (1 - 0.9)
            v[i] = v[i] + (g.square() - v[i]) * (1 - 0.999)
            alpha = 0.01 * torch.sqrt(one - torch.pow(torch.tensor(0.999), torch.tensor(float(t)))) / (
                one - torch.pow(torch.tensor(0.9), torch.tensor(float(t))))
            weights[i] = weights[i] - m[i] * alpha / (v[i].sqrt() + 1e-7)
    for p, w in zip(params, weights):
        torch.testing.assert_close(p.detach(), w, rtol=2e-6, atol=1e-7)
