"""ptref.nn.Dense's backward hands oneDNN transposed views: no operand is copied, the gradients stay exact."""

from __future__ import annotations

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

from ptref.nn import Dense



class OpLog(TorchDispatchMode):
    """Records the name of every aten op dispatched inside the context."""

    def __init__(self) -> None:
        super().__init__()
        self.ops: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204
        self.ops.append(str(func))
        return func(*args, **(kwargs or {}))


def test_dense_backward_copies_no_operand_and_matches_linear():
    torch.manual_seed(0)
    dense = Dense(30, 20)
    linear = nn.Linear(30, 20)
    linear.load_state_dict(dense.state_dict())
    x = torch.randn(16, 30, requires_grad=True)
    x_ref = x.detach().clone().requires_grad_(True)
    y = dense(x)
    grad = torch.randn_like(y)
    with OpLog() as log:
        y.backward(grad)
    copies = [op for op in log.ops if op.split(".")[1] in ("clone", "copy_", "contiguous", "_to_copy")]
    assert not copies, f"backward copied operands: {copies}"
    linear(x_ref).backward(grad)
    # float32 products of 16..30 terms in another summation order (oneDNN vs MKL): 1e-5 relative, 1e-6 absolute.
    for ours, reference in ((x.grad, x_ref.grad), (dense.weight.grad, linear.weight.grad),
                            (dense.bias.grad, linear.bias.grad)):
        torch.testing.assert_close(ours, reference, rtol=1e-5, atol=1e-6)
