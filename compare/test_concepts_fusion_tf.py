"""The fusion lesson with XLA running live: the same fusion decisions, read from XLA's optimized HLO and from
Inductor's generated program, and the same outputs (exact binary fractions on both sides: compared exactly).
"""

from __future__ import annotations

import numpy as np
from compare.lesson_pairs import ran

TF_TO_ATEN = {"AddV2": "add", "Relu": "relu", "Fill": "full", "Mul": "mul"}


def test_both_graphs_start_as_the_same_ops() -> None:
    for step in ("graph_before_compiling", "constant_folding"):
        tf_values, torch_values = ran("fusion")[step]
        key = "ops" if "ops" in tf_values else "ops before"
        assert [TF_TO_ATEN[op] for op in tf_values[key]] == torch_values[key], step


def test_xla_and_inductor_both_fuse_add_and_relu_into_one_kernel() -> None:
    tf_values, torch_values = ran("fusion")["one_fused_kernel"]
    assert tf_values["kernels"] == ["fusion"] and tf_values["fusion kind"] == ["kLoop"]
    assert {"add", "maximum"} <= set(tf_values["ops inside the kernel"])  # relu is max(·, 0) in HLO
    assert len(torch_values["kernels"]) == 1
    assert tf_values["output"] == torch_values["output"]
    assert tf_values["equals eager"] is torch_values["equals eager"] is True


def test_both_fold_fill_times_three_into_six() -> None:
    tf_values, torch_values = ran("fusion")["constant_folding"]
    assert 6.0 in tf_values["constants in the kernel"] and 6.0 in torch_values["constants in the kernel"]
    assert 2.0 not in tf_values["constants in the kernel"] + torch_values["constants in the kernel"]
    assert tf_values["kernels"] == ["fusion"] and len(torch_values["kernels"]) == 1
    assert tf_values["output"] == torch_values["output"]


def test_both_leave_the_matmul_to_a_library_and_fuse_what_follows() -> None:
    tf_values, torch_values = ran("fusion")["matmul_stays_a_library_call"]
    assert tf_values["kernels"] == ["dot", "fusion"]
    assert torch_values["kernels"][0].startswith("extern_kernels.") and len(torch_values["kernels"]) == 2
    # float32 sums of 3 products of exact binary fractions; XLA/Eigen and oneDNN may order them differently
    np.testing.assert_allclose(tf_values["output"], torch_values["output"], rtol=1e-6, atol=1e-6)
