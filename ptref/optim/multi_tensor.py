"""The fast path: each optimizer's update rule on all of a param group's tensors at once (``torch._foreach_*``).

The readable rule is the optimizer's ``update_step`` (one tensor, the docstring's formula); these functions
compute the same thing with one ``torch._foreach_*`` call per operation over the whole list, in place where
the readable form allocates, so a step dispatches a dozen kernels instead of a dozen per tensor and allocates
little (``keras/src/backend/torch/optimizers/torch_adam.py`` is Keras's own twin of this file). They are
chosen by :class:`~ptref.optim.base.KerasOptimizer` unless the option ``foreach=False`` is given.

Each function performs the readable form's roundings in the readable form's order, so the result is
bit-identical (``tests/test_optim_fused.py`` checks it), except the last line of :func:`adam`: it folds
``w - m * alpha / d`` into one ``addcdiv``, ``w + (-alpha) * (m / d)``, three passes over memory fewer; the
update is rounded in another order, so each step's ``w`` may differ by 1 ulp of ``w`` plus 2 ulp of the update.
On CPU, Adam's contiguous float tensors go through PyTorch's fused kernel instead (:func:`fused_adam`), whose m
and v are rounded in another order too (a few ulp a step; the bounds are tested there).

Every function is called as a method: ``(optimizer, params, grads, lr, t, group)`` with ``t = iterations + 1``;
all ``params`` share one device and dtype; their state is already built.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from ptref.optim.base import power


Group = dict[str, Any]


def _slots(optimizer: Any, params: list[Tensor], *names: str) -> list[list[Tensor]]:
    """For each slot name, the list of that slot over ``params``."""
    return [[optimizer.state[p][name] for p in params] for name in names]


def adam(optimizer: Any, params: list[Tensor], grads: list[Tensor], lr: float, t: int, group: Group) -> None:
    """:class:`~ptref.optim.Adam`: ``m = m + (g - m) * (1 - beta_1)``, ``v = v + (g**2 - v) * (1 - beta_2)``,
    ``w = w + (-alpha) * (m / (sqrt(v) + epsilon))`` with ``alpha = lr * sqrt(1 - beta_2**t) / (1 - beta_1**t)``.

    The tensors :func:`fused_adam_applies` to go through :func:`fused_adam` (one pass over memory); the rest
    through the ``_foreach`` form: one work list serves every intermediate, the last line is one ``addcdiv``.
    """
    m, v = _slots(optimizer, params, "m", "v")
    v_hat = _slots(optimizer, params, "v_hat")[0] if group["amsgrad"] else [None] * len(params)
    alpha = lr * torch.sqrt(1 - power(group["beta_2"], t, params[0])) / (1 - power(group["beta_1"], t, params[0]))
    fused = [fused_adam_applies(*tensors) for tensors in zip(params, grads, m, v)]
    if any(fused):
        pick = [[x for x, f in zip(items, fused) if f] for items in (params, grads, m, v, v_hat)]
        fused_adam(*pick, alpha.item(), group)
    if all(fused):
        return
    params, grads, m, v, v_hat = [[x for x, f in zip(items, fused) if not f] for items in (params, grads, m, v, v_hat)]
    beta_1, beta_2 = group["beta_1"], group["beta_2"]
    work = torch._foreach_sub(grads, m)
    torch._foreach_mul_(work, 1 - beta_1)
    torch._foreach_add_(m, work)
    torch._foreach_copy_(work, grads)
    torch._foreach_mul_(work, grads)
    torch._foreach_sub_(work, v)
    torch._foreach_mul_(work, 1 - beta_2)
    torch._foreach_add_(v, work)
    if group["amsgrad"]:
        torch._foreach_maximum_(v_hat, v)
        v = v_hat
    torch._foreach_copy_(work, v)
    torch._foreach_sqrt_(work)
    torch._foreach_add_(work, group["epsilon"])
    torch._foreach_addcdiv_(params, m, work, value=-alpha.item())


# A step count at which the fused kernel's double-precision bias corrections ``1 - beta**step`` are exactly 1
# for every beta in [0, 1): ``beta**(2**62)`` is below 2**-53 (it underflows to 0 or rounds away in ``1 - x``).
_UNCORRECTED_STEP = torch.tensor(2.0**62)


def fused_adam_applies(param: Tensor, grad: Tensor, m: Tensor, v: Tensor) -> bool:
    """Whether :func:`fused_adam` may update ``param``: CPU, float32/float64, every tensor contiguous (the kernel
    walks the four buffers by flat index, so their memory orders must agree)."""
    return (
        param.device.type == "cpu"
        and param.dtype in (torch.float32, torch.float64)
        and all(x.is_contiguous() and x.dtype == param.dtype for x in (param, grad, m, v))
    )


def fused_adam(params: list[Tensor], grads: list[Tensor], m: list[Tensor], v: list[Tensor],
               v_hat: list[Tensor | None], alpha: float, group: Group) -> None:
    """Keras's Adam step through PyTorch's fused CPU kernel (``torch._fused_adam_``), in one pass per tensor.

    The kernel computes ``m = beta_1 * m + (1 - beta_1) * g``, ``v = beta_2 * v + (1 - beta_2) * g**2``,
    ``w = w - (lr / c_1) * m / (sqrt(v) / sqrt(c_2) + eps)`` with ``c_i = 1 - beta_i**step``. With
    ``step = 2**62`` both corrections are exactly 1, so ``lr = alpha`` (Keras's bias-corrected rate, computed in
    the parameters' dtype as Keras does) and ``eps = epsilon`` give Keras's ``w - m * alpha / (sqrt(v) + epsilon)``
    in the same roundings, given the same m and v. Keras's m and v are written ``m + (g - m) * (1 - beta_1)``:
    the same value rounded in another order, so each step's m and v may differ by about 1 ulp
    (``tests/test_optim_fused_kernel.py`` states and checks the bound).
    """
    amsgrad = bool(group["amsgrad"])
    torch._fused_adam_(
        params, grads, m, v, [x for x in v_hat if x is not None] if amsgrad else [],
        [_UNCORRECTED_STEP] * len(params), lr=alpha, beta1=group["beta_1"], beta2=group["beta_2"],
        weight_decay=0.0, eps=group["epsilon"], amsgrad=amsgrad, maximize=False,
    )


def sgd(optimizer: Any, params: list[Tensor], grads: list[Tensor], lr: float, t: int, group: Group) -> None:
    """:class:`~ptref.optim.SGD`: ``v = momentum * v - lr * g``; ``w = w + v`` (Nesterov:
    ``w = w + momentum * v - lr * g``); without momentum ``w = w - lr * g``."""
    momentum = group["momentum"]
    if not momentum:  # one temporary at a time, each reusing the last one's memory: the list form is slower
        for param, grad in zip(params, grads):
            param.sub_(grad * lr)
        return
    step = torch._foreach_mul(grads, lr)
    (v,) = _slots(optimizer, params, "velocity")
    torch._foreach_mul_(v, momentum)
    torch._foreach_sub_(v, step)
    if group["nesterov"]:
        ahead = torch._foreach_mul(v, momentum)
        torch._foreach_sub_(ahead, step)
        torch._foreach_add_(params, ahead)
    else:
        torch._foreach_add_(params, v)


def rmsprop(optimizer: Any, params: list[Tensor], grads: list[Tensor], lr: float, t: int, group: Group) -> None:
    """:class:`~ptref.optim.RMSprop`: ``v = rho * v + (1 - rho) * g**2``, ``inc = lr * g / sqrt(v + epsilon)``
    (centered: ``sqrt(v - a**2 + epsilon)``), ``w = w - inc`` or through the momentum ``m = momentum * m + inc``."""
    rho = group["rho"]
    (v,) = _slots(optimizer, params, "velocity")
    torch._foreach_mul_(v, rho)
    torch._foreach_add_(v, _scaled_square(grads, 1 - rho))
    if group["centered"]:
        (a,) = _slots(optimizer, params, "average_gradient")
        torch._foreach_mul_(a, rho)
        torch._foreach_add_(a, torch._foreach_mul(grads, 1 - rho))
        denominator = torch._foreach_sub(v, torch._foreach_mul(a, a))
        torch._foreach_add_(denominator, group["epsilon"])
    else:
        denominator = torch._foreach_add(v, group["epsilon"])
    torch._foreach_sqrt_(denominator)
    increment = torch._foreach_mul(grads, lr)
    torch._foreach_div_(increment, denominator)
    if group["momentum"] > 0:
        (m,) = _slots(optimizer, params, "momentum")
        torch._foreach_mul_(m, group["momentum"])
        torch._foreach_add_(m, increment)
        increment = m
    torch._foreach_sub_(params, increment)


def adagrad(optimizer: Any, params: list[Tensor], grads: list[Tensor], lr: float, t: int, group: Group) -> None:
    """:class:`~ptref.optim.Adagrad`: ``acc = acc + g**2``, ``w = w - lr * g / sqrt(acc + epsilon)``."""
    (accumulator,) = _slots(optimizer, params, "accumulator")
    torch._foreach_add_(accumulator, torch._foreach_mul(grads, grads))
    denominator = torch._foreach_add(accumulator, group["epsilon"])
    torch._foreach_sqrt_(denominator)
    step = torch._foreach_mul(grads, lr)
    torch._foreach_div_(step, denominator)
    torch._foreach_sub_(params, step)


def adadelta(optimizer: Any, params: list[Tensor], grads: list[Tensor], lr: float, t: int, group: Group) -> None:
    """:class:`~ptref.optim.Adadelta`: ``acc_g = rho * acc_g + (1 - rho) * g**2``,
    ``delta = -sqrt(acc_delta + epsilon) * g / sqrt(acc_g + epsilon)``,
    ``acc_delta = rho * acc_delta + (1 - rho) * delta**2``, ``w = w + lr * delta``."""
    rho, epsilon = group["rho"], group["epsilon"]
    acc_g, acc_delta = _slots(optimizer, params, "accumulated_grad", "accumulated_delta")
    torch._foreach_mul_(acc_g, rho)
    torch._foreach_add_(acc_g, _scaled_square(grads, 1 - rho))
    delta = torch._foreach_add(acc_delta, epsilon)
    torch._foreach_sqrt_(delta)
    torch._foreach_mul_(delta, grads)
    torch._foreach_neg_(delta)
    denominator = torch._foreach_add(acc_g, epsilon)
    torch._foreach_sqrt_(denominator)
    torch._foreach_div_(delta, denominator)
    torch._foreach_mul_(acc_delta, rho)
    torch._foreach_add_(acc_delta, _scaled_square(delta, 1 - rho))
    torch._foreach_mul_(delta, lr)
    torch._foreach_add_(params, delta)


def adamax(optimizer: Any, params: list[Tensor], grads: list[Tensor], lr: float, t: int, group: Group) -> None:
    """:class:`~ptref.optim.Adamax`: ``m = m + (g - m) * (1 - beta_1)``, ``u = max(beta_2 * u, |g|)``,
    ``w = w - lr * m / ((1 - beta_1**t) * (u + epsilon))``."""
    m, u = _slots(optimizer, params, "m", "u")
    _ease(m, grads, 1 - group["beta_1"])
    torch._foreach_mul_(u, group["beta_2"])
    torch._foreach_maximum_(u, torch._foreach_abs(grads))
    denominator = torch._foreach_add(u, group["epsilon"])
    torch._foreach_mul_(denominator, (1 - power(group["beta_1"], t, params[0])).item())
    step = torch._foreach_mul(m, lr)
    torch._foreach_div_(step, denominator)
    torch._foreach_sub_(params, step)


def nadam(optimizer: Any, params: list[Tensor], grads: list[Tensor], lr: float, t: int, group: Group) -> None:
    """:class:`~ptref.optim.Nadam`: Adam's moments, then
    ``m_hat = u(t+1) * m / (1 - U(t+1)) + (1 - u(t)) * g / (1 - U(t))``, ``v_hat = v / (1 - beta_2**t)``,
    ``w = w - m_hat * lr / (sqrt(v_hat) + epsilon)``."""
    like = params[0]
    beta_1 = torch.tensor(group["beta_1"], dtype=like.dtype)
    beta_2 = torch.tensor(group["beta_2"], dtype=like.dtype)
    u_t, u_next = optimizer._u(t, like), optimizer._u(t + 1, like)
    u_product = optimizer.state["u_product"].to(like.dtype)
    m, v = _slots(optimizer, params, "m", "v")
    _ease(m, grads, (1 - beta_1).item())
    _ease(v, torch._foreach_mul(grads, grads), (1 - beta_2).item())
    m_hat = torch._foreach_mul(m, u_next.item())
    torch._foreach_div_(m_hat, (1 - u_product * u_next).item())
    from_grad = torch._foreach_mul(grads, (1 - u_t).item())
    torch._foreach_div_(from_grad, (1 - u_product).item())
    torch._foreach_add_(m_hat, from_grad)
    denominator = torch._foreach_div(v, (1 - power(group["beta_2"], t, like)).item())
    torch._foreach_sqrt_(denominator)
    torch._foreach_add_(denominator, group["epsilon"])
    torch._foreach_mul_(m_hat, lr)
    torch._foreach_div_(m_hat, denominator)
    torch._foreach_sub_(params, m_hat)


def lion(optimizer: Any, params: list[Tensor], grads: list[Tensor], lr: float, t: int, group: Group) -> None:
    """:class:`~ptref.optim.Lion`: ``w = w - lr * sign(beta_1 * m + (1 - beta_1) * g)``,
    ``m = beta_2 * m + (1 - beta_2) * g``."""
    beta_1, beta_2 = group["beta_1"], group["beta_2"]
    (m,) = _slots(optimizer, params, "momentum")
    direction = torch._foreach_mul(m, beta_1)
    torch._foreach_add_(direction, torch._foreach_mul(grads, 1.0 - beta_1))
    torch._foreach_sign_(direction)
    torch._foreach_mul_(direction, lr)
    torch._foreach_sub_(params, direction)
    torch._foreach_mul_(m, beta_2)
    torch._foreach_copy_(direction, grads)
    torch._foreach_mul_(direction, 1.0 - beta_2)
    torch._foreach_add_(m, direction)


def _ease(state: list[Tensor], target: list[Tensor], rate: float) -> None:
    """``s = s + (target - s) * rate``, rounded as the readable form rounds it."""
    step = torch._foreach_sub(target, state)
    torch._foreach_mul_(step, rate)
    torch._foreach_add_(state, step)


def _scaled_square(tensors: list[Tensor], scale: float) -> list[Tensor]:
    """``scale * x**2`` for every ``x``, as ``(1 - rho) * x.square()`` rounds it."""
    squares = torch._foreach_mul(tensors, tensors)
    torch._foreach_mul_(squares, scale)
    return squares
