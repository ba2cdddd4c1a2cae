"""Keras's Adam through PyTorch's fused CPU kernel (``ptref.optim.multi_tensor.fused_adam``).

The kernel's bias corrections are neutralized (step ``2**62``) and Keras's ``alpha`` is passed as the rate, so
the step must equal the readable ``update_step`` up to the rounding order of m and v (a few ulp, see
``tests/test_optim_fused.py``'s ``SLOT_ULPS``); which tensors take the kernel is checked too.
"""

from __future__ import annotations

import torch

import ptref.optim as optim
from ptref.optim import multi_tensor


def ulp(x: torch.Tensor) -> torch.Tensor:
    tiny = torch.finfo(x.dtype).tiny
    return torch.finfo(x.dtype).eps * torch.exp2(torch.floor(torch.log2(x.abs().clamp(min=tiny))))


def one_step(foreach: bool, dtype: torch.dtype) -> tuple[torch.Tensor, dict]:
    generator = torch.Generator().manual_seed(0)
    param = torch.nn.Parameter(torch.randn(64, 33, generator=generator, dtype=dtype))
    optimizer = optim.Adam([param], learning_rate=1e-2, foreach=foreach)
    for _ in range(30):
        param.grad = torch.randn(param.shape, generator=generator, dtype=dtype)
        optimizer.step()
    return param.detach(), optimizer.state[param]


def test_fused_adam_is_used_and_stays_within_a_few_ulp_of_the_readable_rule_over_30_steps():
    for dtype in (torch.float32, torch.float64):
        fast, fast_state = one_step(True, dtype)
        slow, slow_state = one_step(False, dtype)
        # 30 steps of a few ulp each (m, v: <= 4 ulp per step), compounded by Adam's normalization: 1e-5
        # relative with an absolute floor of 1e-8 (below every step size here, lr 1e-2).
        torch.testing.assert_close(fast, slow, rtol=1e-5, atol=1e-8)
        for key in ("m", "v"):  # terms of size ~1 (unit-normal g): a few of their ulp absolute where m cancels
            torch.testing.assert_close(fast_state[key], slow_state[key], rtol=1e-5, atol=1e-6)


def test_fused_adam_step_equals_keras_formula_given_the_same_moments():
    """From one state: the kernel's w equals ``w - m' * alpha / (sqrt(v') + epsilon)`` computed from the kernel's
    own m', v' to 1 ulp of w plus 2 ulp of the update (two roundings, vector and tail loops)."""
    generator = torch.Generator().manual_seed(1)
    w, g = (torch.randn(1000, generator=generator) for _ in range(2))
    m, v = torch.randn(1000, generator=generator) * 1e-2, torch.rand(1000, generator=generator) * 1e-4
    alpha = 1e-3
    new_w, new_m, new_v = w.clone(), m.clone(), v.clone()
    group = {"beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7, "amsgrad": False}
    multi_tensor.fused_adam([new_w], [g], [new_m], [new_v], [None], alpha, group)
    update = new_m * torch.tensor(alpha) / (torch.sqrt(new_v) + 1e-7)
    assert ((new_w - (w - update)).abs() <= ulp(w) + 2 * ulp(update)).all()
    exact_m = m.double() + (g.double() - m.double()) * 0.1
    assert ((new_m.double() - exact_m).abs() <= 4 * ulp(torch.maximum(m.abs(), new_m.abs())).double()).all()


def test_the_kernel_takes_only_contiguous_cpu_float_tensors():
    x = torch.zeros(2, 3, 4, 5)
    channels_last = x.to(memory_format=torch.channels_last)
    assert multi_tensor.fused_adam_applies(x, x, x, x)
    assert not multi_tensor.fused_adam_applies(channels_last, channels_last, channels_last, channels_last)
    half = x.half()
    assert not multi_tensor.fused_adam_applies(half, half, half, half)
