"""``Conv2D(filters, kernel_size, activation="relu")`` as one module: the ReLU fused into the convolution on CPU.

TF: ``keras.layers.Conv2D(32, 3, activation="relu")`` is one layer; oneDNN (which both TensorFlow and PyTorch call
for CPU convolutions) applies the ReLU as a post-op while each output tile is still in cache. PyTorch's
``nn.Conv2d`` followed by ``nn.ReLU`` writes the whole pre-activation and reads it back. :class:`Conv2dReLU`
calls oneDNN's fused primitive (``torch.ops.mkldnn._convolution_pointwise``) for float32 CPU tensors and
``relu(conv2d(x))`` everywhere else; the forward values are the same either way (the same convolution kernel,
the ReLU applied to its result). The gradient is the one of ``relu(conv2d(x))``::

    dL/dz = dL/dy · [y > 0]                 (y = relu(z), z = conv2d(x, W) + b)
    dL/dx, dL/dW, dL/db = conv2d's backward of dL/dz

It is an ``nn.Conv2d`` (same parameters and state-dict keys), so weight interop and initializers treat it as one.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F


def _fusable(x: Tensor, conv: nn.Conv2d) -> bool:
    """oneDNN's fused primitive applies: float32 on CPU, zero padding given as numbers, eager autograd, no autocast."""
    return (
        x.device.type == "cpu"
        and x.dtype == conv.weight.dtype == torch.float32
        and conv.padding_mode == "zeros"
        and not isinstance(conv.padding, str)
        and torch.backends.mkldnn.is_available()
        and not torch.is_autocast_enabled("cpu")
        and not torch.jit.is_tracing()  # TensorBoard's graph: the tracer cannot record the fused op's arguments
        and not torch.compiler.is_compiling()  # Inductor does its own fusion
    )


class _ConvReLU(torch.autograd.Function):
    """``relu(conv2d(x, weight, bias))`` in one oneDNN call; backward through ``aten.convolution_backward``."""

    @staticmethod
    def forward(ctx, x: Tensor, weight: Tensor, bias: Tensor | None, stride: list[int], padding: list[int],
                dilation: list[int], groups: int) -> Tensor:  # noqa: ANN001 - ctx
        y = torch.ops.mkldnn._convolution_pointwise(x, weight, bias, padding, stride, dilation, groups, "relu", [],
                                                    "")
        ctx.save_for_backward(x, weight, y)
        ctx.conv = (stride, padding, dilation, groups, bias is not None)
        return y

    @staticmethod
    def backward(ctx, grad: Tensor) -> tuple[Tensor | None, ...]:  # noqa: ANN001 - ctx
        x, weight, y = ctx.saved_tensors
        stride, padding, dilation, groups, has_bias = ctx.conv
        grad = torch.ops.aten.threshold_backward(grad, y, 0)  # [y > 0]: the ReLU's own backward
        mask = [ctx.needs_input_grad[0], ctx.needs_input_grad[1], has_bias and ctx.needs_input_grad[2]]
        grad_x, grad_w, grad_b = torch.ops.aten.convolution_backward(
            grad, x, weight, [weight.shape[0]] if has_bias else None, stride, padding, dilation, False, [0, 0],
            groups, mask)
        return grad_x, grad_w, grad_b if has_bias else None, None, None, None, None


class Conv2dReLU(nn.Conv2d):
    """``nn.Conv2d`` followed by ReLU, fused on CPU. Arguments are ``nn.Conv2d``'s."""

    def forward(self, x: Tensor) -> Tensor:
        if not _fusable(x, self):
            return F.relu(super().forward(x))
        return _ConvReLU.apply(x, self.weight, self.bias, list(self.stride), list(self.padding),
                               list(self.dilation), self.groups)
