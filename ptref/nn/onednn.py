"""Keras's ``Conv2D(..., activation="relu")`` and ``Dense`` computed by oneDNN on CPU, as TensorFlow computes them.

TF: TensorFlow's CPU kernels for ``Conv2D`` and ``MatMul`` are oneDNN's. PyTorch calls oneDNN for convolutions
too, but sends ``nn.Linear``'s matrix products to MKL's sgemm, which on AMD processors takes a much slower code
path (measured in ``docs/bench/bench.md``). These modules call oneDNN's primitives directly for float32 CPU
tensors and fall back to PyTorch's own ops everywhere else (other devices and dtypes, autocast, tracing,
``torch.compile``). Values are those of the plain ops up to float32 summation order.

- :class:`Conv2dReLU`: ``relu(conv2d(x))`` with the ReLU as a oneDNN post-op, applied while each output tile is
  still in cache (``nn.Conv2d`` + ``nn.ReLU`` writes the whole pre-activation and reads it back)::

      dL/dz = dL/dy · [y > 0]                 (y = relu(z), z = conv2d(x, W) + b)
      dL/dx, dL/dW, dL/db = conv2d's backward of dL/dz

- :class:`Dense`: ``y = x Wᵀ + b`` (Keras's ``Dense`` without activation; its kernel is ``Wᵀ``)::

      dL/dx = dL/dy · W,   dL/dW = (dL/dy)ᵀ · x,   dL/db = Σ_batch dL/dy      (all three products by oneDNN)

Both are ``nn.Conv2d`` / ``nn.Linear`` subclasses with the same parameters and state-dict keys, so weight interop
and initializers treat them as those.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.autograd.function import FunctionCtx
from torch.nn import functional as F


def _onednn(x: Tensor, weight: Tensor) -> bool:
    """oneDNN's primitives apply: float32 on CPU, eager autograd, no autocast."""
    return (
        x.device.type == "cpu"
        and x.dtype == weight.dtype == torch.float32
        and torch.backends.mkldnn.is_available()
        and not torch.is_autocast_enabled("cpu")
        and not torch.jit.is_tracing()  # TensorBoard's graph: the tracer cannot record the fused op's arguments
        and not torch.compiler.is_compiling()  # Inductor does its own fusion
    )


class _ConvReLU(torch.autograd.Function):
    """``relu(conv2d(x, weight, bias))`` in one oneDNN call; backward through ``aten.convolution_backward``."""

    @staticmethod
    def forward(ctx: FunctionCtx, x: Tensor, weight: Tensor, bias: Tensor | None, stride: list[int], padding: list[int],
                dilation: list[int], groups: int) -> Tensor:
        y = torch.ops.mkldnn._convolution_pointwise(x, weight, bias, padding, stride, dilation, groups, "relu", [],
                                                    "")
        ctx.save_for_backward(x, weight, y)
        ctx.conv = (stride, padding, dilation, groups, bias is not None)
        return y

    @staticmethod
    def backward(ctx: FunctionCtx, grad: Tensor) -> tuple[Tensor | None, ...]:
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
        if not _onednn(x, self.weight) or self.padding_mode != "zeros" or isinstance(self.padding, str):
            return F.relu(super().forward(x))
        return _ConvReLU.apply(x, self.weight, self.bias, list(self.stride), list(self.padding),
                               list(self.dilation), self.groups)


def _linear(x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
    """``x @ weight.T + bias`` by oneDNN (``weight`` is ``[out, in]``, as ``nn.Linear``'s)."""
    return torch.ops.mkldnn._linear_pointwise(x, weight, bias, "none", [], "")


class _Dense(torch.autograd.Function):
    """``x @ weight.T + bias`` for a 2-D ``x``, forward and backward by oneDNN."""

    @staticmethod
    def forward(ctx: FunctionCtx, x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        return _linear(x, weight, bias)

    @staticmethod
    def backward(ctx: FunctionCtx, grad: Tensor) -> tuple[Tensor | None, ...]:
        x, weight = ctx.saved_tensors
        # Transposed views, not copies: oneDNN reads the strides (a transposed operand is a layout flag of its
        # matmul primitive), so the products are the same and no [in, out] / [out, batch] copy is written.
        grad_x = _linear(grad, weight.t(), None) if ctx.needs_input_grad[0] else None
        grad_w = _linear(grad.t(), x.t(), None) if ctx.needs_input_grad[1] else None
        grad_b = grad.sum(0) if ctx.has_bias and ctx.needs_input_grad[2] else None
        return grad_x, grad_w, grad_b


class Dense(nn.Linear):
    """``nn.Linear`` whose float32 CPU products run on oneDNN. Arguments are ``nn.Linear``'s."""

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() != 2 or not _onednn(x, self.weight):
            return super().forward(x)
        return _Dense.apply(x, self.weight, self.bias)
