"""TensorFlow's side of ``ptref/concepts/fusion.py``: ``tf.function`` graphs and XLA's optimized HLO."""

from __future__ import annotations

import re
from collections.abc import Callable

import tensorflow as tf


def traced_ops(function: Callable[..., tf.Tensor], *specs: tf.TensorSpec) -> list[str]:
    graph = tf.function(function).get_concrete_function(*specs).graph
    return [op.type for op in graph.get_operations() if op.type not in ("Placeholder", "Const", "Identity")]


def compiled_program(function: Callable[..., tf.Tensor], *inputs: tf.Tensor) -> tuple[tf.Tensor, str]:
    compiled = tf.function(function, jit_compile=True)
    hlo = compiled.experimental_get_compiler_ir(*inputs)(stage="optimized_hlo")
    return compiled(*inputs), hlo


def launches(hlo: str) -> list[str]:
    entry = hlo[hlo.index("\nENTRY") :]
    opcodes = re.findall(r"^\s*(?:ROOT )?%\S+ = \S+ ([\w-]+)\(", entry, re.MULTILINE)
    return [op for op in opcodes if op != "parameter"]


def graph_before_compiling() -> dict[str, object]:
    def relu_add(x: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
        return tf.nn.relu(x + b)

    return {"ops": traced_ops(relu_add, tf.TensorSpec([2, 3]), tf.TensorSpec([3]))}


def one_fused_kernel() -> dict[str, object]:
    def relu_add(x: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
        return tf.nn.relu(x + b)

    x = tf.constant([[-1.0, 2.0, -3.0], [4.0, -5.0, 6.0]])
    b = tf.constant([0.5, -0.5, 1.0])
    output, hlo = compiled_program(relu_add, x, b)
    fused = hlo[hlo.index("%fused_computation") : hlo.index("\nENTRY")]
    return {
        "kernels": launches(hlo),
        "fusion kind": re.findall(r"kind=(\w+)", hlo),
        "ops inside the kernel": re.findall(r"= \S+ ([\w-]+)\((?!\d)", fused),
        "output": output.numpy().tolist(),
        "equals eager": bool(tf.reduce_all(output == relu_add(x, b))),
    }


def constant_folding() -> dict[str, object]:
    def relu_add_six(x: tf.Tensor) -> tf.Tensor:
        return tf.nn.relu(x + tf.fill([3], 2.0) * 3.0)

    x = tf.constant([[-1.0, 2.0, -3.0], [4.0, -5.0, -7.0]])
    output, hlo = compiled_program(relu_add_six, x)
    return {
        "ops before": traced_ops(relu_add_six, tf.TensorSpec([2, 3])),
        "kernels": launches(hlo),
        "constants in the kernel": [float(c) for c in re.findall(r"constant\(([-+.\deE]+)\)", hlo)],
        "output": output.numpy().tolist(),
    }


def matmul_stays_a_library_call() -> dict[str, object]:
    def dense_relu(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
        return tf.nn.relu(x @ w + b)

    x = tf.constant([[1.0, -1.0, 2.0], [0.5, 3.0, -2.0]])
    w = tf.constant([[1.0, -2.0], [0.5, 1.0], [-1.0, 0.25]])
    b = tf.constant([0.5, -1.0])
    output, hlo = compiled_program(dense_relu, x, w, b)
    return {"kernels": launches(hlo), "output": output.numpy().tolist()}
