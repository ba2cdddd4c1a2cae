"""Teeth: deliberately wrong mappings, each of which must make the parity check it stands for fail.

A port that skips the Dense transpose, the Flatten permutation, or uses torch's optimizer/BatchNorm conventions
runs without any error; these show the suite would notice. Each returns a :class:`~compare.checks.Result`
with ``expect_failure=True``: its verdict is "caught" when the parity metric exceeds the tolerance.
"""

from __future__ import annotations

from typing import Callable

from compare.checks import Result, _forward_result, step, transferred_pair

import keras  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402


def transposed_dense_kernel() -> Result:
    """The MLP's square 128×128 kernel copied as is (no transpose): shapes fit, outputs do not."""
    pair = transferred_pair("mlp")
    kernel = pair.keras_model.layers[1].kernel.numpy()
    with torch.no_grad():
        pair.ptref_model.net[3].weight.copy_(torch.from_numpy(kernel))
    return _forward_result(pair, "teeth: Dense kernel not transposed", expect_failure=True)


def wrong_flatten_order() -> Result:
    """The CNN's Dense-after-Flatten kernel only transposed, not permuted from (H, W, C) to (C, H, W)."""
    pair = transferred_pair("cnn")
    dense = next(layer for layer in pair.keras_model.layers if isinstance(layer, keras.layers.Dense))
    linear = next(module for module in pair.ptref_model.net if isinstance(module, nn.Linear))
    with torch.no_grad():
        linear.weight.copy_(torch.from_numpy(dense.kernel.numpy().T.copy()))
    return _forward_result(pair, "teeth: Flatten order (H,W,C) not permuted", expect_failure=True)


def torch_default_adam() -> Result:
    """``torch.optim.Adam`` (eps 1e-8 added to the bias-corrected sqrt(v̂)) in place of Keras Adam (ε̂ 1e-7)."""
    return step("mlp", "adam", torch_optimizer=lambda p: torch.optim.Adam(p, lr=1e-3),
                what="teeth: torch.optim.Adam defaults for Keras Adam", expect_failure=True)


def rmsprop_epsilon_outside() -> Result:
    """``torch.optim.RMSprop`` with Keras's rho and epsilon, but epsilon outside the sqrt (torch's placement)."""
    return step("mlp", "rmsprop", torch_optimizer=lambda p: torch.optim.RMSprop(p, lr=1e-3, alpha=0.9, eps=1e-7),
                what="teeth: RMSprop epsilon outside sqrt", expect_failure=True)


def batchnorm_torch_momentum() -> Result:
    """Keras ``BatchNormalization(momentum=0.99)`` ported with torch's number, momentum 0.1, into the same layer."""
    return step("cnn_bn", "sgd", bn_momentum=0.1, what="teeth: BatchNorm momentum 0.1 for Keras 0.99",
                expect_failure=True)


TEETH: dict[str, Callable[[], Result]] = {
    "transposed_dense_kernel": transposed_dense_kernel,
    "wrong_flatten_order": wrong_flatten_order,
    "torch_default_adam": torch_default_adam,
    "rmsprop_epsilon_outside": rmsprop_epsilon_outside,
    "batchnorm_torch_momentum": batchnorm_torch_momentum,
}
