"""Teeth: deliberately wrong ports, each of which must make the parity check it stands for fail.

A port that skips the Dense transpose, the Flatten permutation, or uses torch's optimizer/BatchNorm conventions
runs without any error; these show the suite would notice. Each returns a :class:`~ptref.parity.Check` with
``expect_failure=True``: its verdict is "caught" when the parity metric exceeds the tolerance. The forward ones
return the layer-by-layer check, whose ``where`` must name the broken layer (``details["broken_layer"]``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from compare.checks import batch, step, transferred_pair
from ptref import parity
from ptref.parity import Check
from ptref.parity.tf import import_keras

keras = import_keras()


def _broken_forward(course: Any, p: parity.ModelPair, layer: str, what: str) -> Check:
    checks = parity.forward(p, batch(course, 256)[0], what=what, expect_failure=True)
    checks[-1].details["broken_layer"] = layer
    return checks[-1]


def transposed_dense_kernel() -> Check:
    """The MLP's square 128×128 kernel copied as is (no transpose): shapes fit, outputs do not."""
    course, p = transferred_pair("mlp")
    kernel = course.keras_model.layers[1].kernel.numpy()
    with torch.no_grad():
        course.ptref_model.net[3].weight.copy_(torch.from_numpy(kernel))
    return _broken_forward(course, p, course.keras_model.layers[1].name, "teeth: Dense kernel not transposed")


def wrong_flatten_order() -> Check:
    """The CNN's Dense-after-Flatten kernel only transposed, not permuted from (H, W, C) to (C, H, W)."""
    course, p = transferred_pair("cnn")
    dense = next(layer for layer in course.keras_model.layers if isinstance(layer, keras.layers.Dense))
    linear = next(module for module in course.ptref_model.net if isinstance(module, nn.Linear))
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(dense.kernel.numpy().T.copy()))
    return _broken_forward(course, p, dense.name, "teeth: Flatten order (H,W,C) not permuted")


def torch_default_adam() -> Check:
    """``torch.optim.Adam`` (eps 1e-8 added to the bias-corrected sqrt(v̂)) in place of Keras Adam (ε̂ 1e-7)."""
    return step("mlp", "adam", torch_optimizer=lambda p: torch.optim.Adam(p, lr=1e-3),
                what="teeth: torch.optim.Adam defaults for Keras Adam", expect_failure=True)


def rmsprop_epsilon_outside() -> Check:
    """``torch.optim.RMSprop`` with Keras's rho and epsilon, but epsilon outside the sqrt (torch's placement)."""
    return step("mlp", "rmsprop", torch_optimizer=lambda p: torch.optim.RMSprop(p, lr=1e-3, alpha=0.9, eps=1e-7),
                what="teeth: RMSprop epsilon outside sqrt", expect_failure=True)


def batchnorm_torch_momentum() -> Check:
    """Keras ``BatchNormalization(momentum=0.99)`` ported with torch's number, momentum 0.1, into the same layer."""
    return step("cnn_bn", "sgd", bn_momentum=0.1, what="teeth: BatchNorm momentum 0.1 for Keras 0.99",
                expect_failure=True)


TEETH: dict[str, Callable[[], Check]] = {
    "transposed_dense_kernel": transposed_dense_kernel,
    "wrong_flatten_order": wrong_flatten_order,
    "torch_default_adam": torch_default_adam,
    "rmsprop_epsilon_outside": rmsprop_epsilon_outside,
    "batchnorm_torch_momentum": batchnorm_torch_momentum,
}
