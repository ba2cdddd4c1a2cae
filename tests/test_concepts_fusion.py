"""The fusion lesson: Inductor's generated program has the kernels the lesson says, and computes relu(x + b).

Each step compiles C++ (seconds on CPU), so each runs once per session (``shown``).
"""

from __future__ import annotations

import functools

import numpy as np

from ptref.concepts import fusion


@functools.cache
def shown(step: str) -> dict:
    return getattr(fusion, step)()


def test_traced_graph_has_an_add_and_a_relu() -> None:
    assert shown("graph_before_compiling") == {"ops": ["add", "relu"]}


def test_relu_of_a_sum_compiles_to_one_fused_kernel_writing_one_buffer() -> None:
    compiled = shown("one_fused_kernel")
    (kernel,) = compiled["kernels"]
    assert kernel.startswith("cpp_fused_") and "add" in kernel and "relu" in kernel
    assert compiled["buffers allocated"] == 1  # the output: x + b is never stored
    x, b = np.array([[-1.0, 2.0, -3.0], [4.0, -5.0, 6.0]]), np.array([0.5, -0.5, 1.0])
    assert compiled["output"] == np.maximum(x + b, 0).tolist()  # halves: exact in float32
    assert compiled["equals eager"] is True


def test_input_free_subgraph_is_folded_into_the_kernel_as_six() -> None:
    folded = shown("constant_folding")
    assert {"full", "mul"} <= set(folded["ops before"])
    assert len(folded["kernels"]) == 1
    assert folded["constants in the kernel"] == [2.0 * 3.0]  # neither 2 nor 3 survives
    x = np.array([[-1.0, 2.0, -3.0], [4.0, -5.0, -7.0]])
    assert folded["output"] == np.maximum(x + 6.0, 0).tolist()  # small integers: exact


def test_matmul_is_a_library_call_followed_by_a_fused_relu() -> None:
    dense = shown("matmul_stays_a_library_call")
    library, kernel = dense["kernels"]
    assert library in ("extern_kernels.addmm", "extern_kernels.mm") and kernel.startswith("cpp_fused_")
    assert "relu" in kernel
    x = np.array([[1.0, -1.0, 2.0], [0.5, 3.0, -2.0]])
    w = np.array([[1.0, -2.0], [0.5, 1.0], [-1.0, 0.25]])
    b = np.array([0.5, -1.0])
    # float64 reference; float32 sums of 3 exact binary-fraction products: the tolerance only allows summation order
    np.testing.assert_allclose(dense["output"], np.maximum(x @ w + b, 0), rtol=1e-6, atol=1e-6)

