"""Operator fusion and constant folding: what XLA and ``torch.compile`` (Inductor) do to a graph.

TensorFlow's compiler runs under ``tf.function(jit_compile=True)``, PyTorch's under ``torch.compile``.

Run eagerly, ``relu(x + b)`` is two kernels: the first writes ``x + b`` to memory, the second reads it back.
A graph compiler sees both ops at once and emits one loop that adds and clamps each element in registers, so
the intermediate tensor is never written: for elementwise ops the time goes into moving memory, and fusion
removes a write and a read per element. Parts that need no input (``2 · 3``) are computed once, at compile
time (constant folding). A matmul stays a call into a tuned library (oneDNN, Eigen, MKL); the elementwise ops
after it are fused. Every claim is read from the compiler's own output (Inductor's generated code, XLA's
optimized HLO), not timed. ``torch.compile`` on CPU compiles C++: it needs a C++ compiler and takes seconds.
TensorFlow twin: ``compare/concepts/fusion_tf.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import torch
from torch._inductor.utils import run_and_get_code
from torch.fx.experimental.proxy_tensor import make_fx


def traced_ops(function: Callable[..., torch.Tensor], *inputs: torch.Tensor) -> list[str]:
    """The ops of ``function``'s ATen graph, as the compiler receives it (``make_fx`` traces it at ``inputs``).

    ``torch.fx.symbolic_trace`` would not do here: it runs input-free code such as ``full(2) * 3`` while
    tracing, so the graph would arrive already folded.
    """
    graph = make_fx(function)(*inputs).graph
    return [node.name for node in graph.nodes if node.op == "call_function"]


def compiled_program(function: Callable[..., torch.Tensor], *inputs: torch.Tensor) -> tuple[torch.Tensor, str]:
    """``function``'s output through ``torch.compile`` and the program Inductor generated for these inputs.

    The program is Python that allocates buffers and launches kernels (the C++ of each fused kernel inline).
    """
    torch.compiler.reset()  # compile afresh: a program reused from dynamo's cache is not generated, so not shown
    output, (code, *_) = run_and_get_code(torch.compile(function, fullgraph=True), *inputs)
    return output, code


def launches(code: str) -> list[str]:
    """The kernels the generated program runs, in order: Inductor's fused ones and library (extern) calls."""
    body = code[code.index("def call(") :]
    return re.findall(r"^\s+(cpp_fused_\w+|extern_kernels\.\w+)\(", body, re.MULTILINE)


def graph_before_compiling() -> dict[str, object]:
    """``relu(x + b)`` as the compiler receives it: two ops, two kernels when run eagerly.

    TF: ``tf.function``'s concrete graph (ops ``AddV2``, ``Relu``); PyTorch: the ATen graph of ``torch.fx``
    nodes (``add``, ``relu``).
    """

    def relu_add(x: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.relu(x + b)

    return {"ops": traced_ops(relu_add, torch.zeros(2, 3), torch.zeros(3))}


def one_fused_kernel() -> dict[str, object]:
    """Compiled, ``relu(x + b)`` is one kernel: Inductor's ``cpp_fused_add_relu_0`` ↔ XLA's ``kLoop`` fusion.

    The program allocates one buffer, the output: ``x + b`` lives only in a register. The values equal eager
    ones exactly (one rounding, the add's, in both).
    """

    def relu_add(x: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.relu(x + b)

    x = torch.tensor([[-1.0, 2.0, -3.0], [4.0, -5.0, 6.0]])
    b = torch.tensor([0.5, -0.5, 1.0])
    output, code = compiled_program(relu_add, x, b)
    return {
        "kernels": launches(code),
        "buffers allocated": code.count("empty_strided_cpu("),
        "output": output.tolist(),
        "equals eager": torch.equal(output, relu_add(x, b)),
    }


def constant_folding() -> dict[str, object]:
    """``relu(x + fill(2) · 3)``: the fill and the multiply need no input, so the compiler computes 6 once.

    The traced graph has four ops; the compiled program one kernel with the constant 6.0 in it (Inductor's
    ``constant_fold_uniform_value`` pass; XLA's ``HloConstantFolding``, here already done by TF's bridge).
    """

    def relu_add_six(x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x + torch.full((3,), 2.0) * 3.0)

    x = torch.tensor([[-1.0, 2.0, -3.0], [4.0, -5.0, -7.0]])
    output, code = compiled_program(relu_add_six, x)
    return {
        "ops before": traced_ops(relu_add_six, x),
        "kernels": launches(code),
        "constants in the kernel": [float(c) for c in re.findall(r"static_cast<float>\(([-+.\deE]+)\)", code)],
        "output": output.tolist(),
    }


def matmul_stays_a_library_call() -> dict[str, object]:
    """``relu(x @ w + b)``: the matmul goes to a library, the bias and relu are fused around it.

    Inductor calls ``addmm`` (the bias folded into the library's ``β·b`` term) then one fused kernel that applies
    relu in place; XLA emits a ``dot`` and one fusion of add + relu.
    """

    def dense_relu(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.relu(x @ w + b)

    x = torch.tensor([[1.0, -1.0, 2.0], [0.5, 3.0, -2.0]])
    w = torch.tensor([[1.0, -2.0], [0.5, 1.0], [-1.0, 0.25]])
    b = torch.tensor([0.5, -1.0])
    output, code = compiled_program(dense_relu, x, w, b)
    return {"kernels": launches(code), "output": output.tolist()}


HELPERS = (traced_ops, compiled_program, launches)
STEPS = (graph_before_compiling, one_fused_kernel, constant_folding, matmul_stays_a_library_call)
