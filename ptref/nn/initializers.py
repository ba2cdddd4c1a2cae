"""Keras's weight initializers for torch tensors, and :func:`keras_init_` to start a model the Keras way.

Random streams cannot match across frameworks, so "the Keras way" means the same *distribution*: Keras
draws Dense/Conv kernels from glorot_uniform and sets biases to zero, while torch uses
``kaiming_uniform(a=sqrt(5))`` (limits about half as wide) and non-zero biases.

Every function fills ``tensor`` in place and returns it (like ``torch.nn.init``), computing the fans the way
Keras does for the equivalent Keras kernel: for torch weights laid out ``(out, in, *kernel)`` that is
``fan_in = in * prod(kernel)``, ``fan_out = out * prod(kernel)``; a 1-d tensor of size ``n`` has fans ``n, n``.
Keras's "normal" initializers draw from a normal truncated at 2 standard deviations, rescaled by
1/0.8796... so that the *truncated* distribution has the intended standard deviation.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

# Standard deviation of a unit normal truncated to [-2, 2] (Keras's VarianceScaling constant).
_TRUNCATED_STD = 0.87962566103423978


def keras_fans(tensor: Tensor) -> tuple[int, int]:
    """``(fan_in, fan_out)`` as Keras's ``compute_fans`` gives for the Keras layout of this torch weight."""
    if tensor.dim() == 0:
        return 1, 1
    if tensor.dim() == 1:
        return tensor.shape[0], tensor.shape[0]
    receptive_field = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive_field, tensor.shape[0] * receptive_field


def _variance_scaling(
    tensor: Tensor, scale: float, mode: str, distribution: str, generator: torch.Generator | None
) -> Tensor:
    """Keras ``VarianceScaling``: variance ``scale / n`` with ``n`` = fan_in, fan_out or their mean."""
    fan_in, fan_out = keras_fans(tensor)
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    if distribution == "uniform":
        limit = math.sqrt(3.0 * scale / n)
        return nn.init.uniform_(tensor, -limit, limit, generator=generator)
    std = math.sqrt(scale / n) / _TRUNCATED_STD
    return nn.init.trunc_normal_(tensor, 0.0, std, -2 * std, 2 * std, generator=generator)


def glorot_uniform(tensor: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """U(-l, l) with ``l = sqrt(6 / (fan_in + fan_out))``. TF: ``keras.initializers.GlorotUniform``."""
    return _variance_scaling(tensor, 1.0, "fan_avg", "uniform", generator)


def glorot_normal(tensor: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Truncated normal with std ``sqrt(2 / (fan_in + fan_out))``. TF: ``keras.initializers.GlorotNormal``.

    Unlike ``nn.init.xavier_normal_``, which is not truncated.
    """
    return _variance_scaling(tensor, 1.0, "fan_avg", "truncated_normal", generator)


def he_normal(tensor: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Truncated normal with std ``sqrt(2 / fan_in)``. TF: ``keras.initializers.HeNormal``."""
    return _variance_scaling(tensor, 2.0, "fan_in", "truncated_normal", generator)


def he_uniform(tensor: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """U(-l, l) with ``l = sqrt(6 / fan_in)``. TF: ``keras.initializers.HeUniform``."""
    return _variance_scaling(tensor, 2.0, "fan_in", "uniform", generator)


def lecun_normal(tensor: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Truncated normal with std ``sqrt(1 / fan_in)``. TF: ``keras.initializers.LecunNormal``."""
    return _variance_scaling(tensor, 1.0, "fan_in", "truncated_normal", generator)


def zeros(tensor: Tensor) -> Tensor:
    """All zeros. TF: ``keras.initializers.Zeros`` (Keras's default for every bias)."""
    return nn.init.zeros_(tensor)


_KERNEL_LAYERS = (nn.Linear, nn.modules.conv._ConvNd)


@torch.no_grad()
def keras_init_(module: nn.Module, generator: torch.Generator | None = None) -> nn.Module:
    """Re-initialize every layer of ``module`` (in place) the way the matching Keras layer starts.

    - ``Linear``/``Conv*d``/``ConvTranspose*d`` (Keras ``Dense``/``Conv*D``): kernel glorot_uniform, bias zeros.
    - ``Embedding``: U(-0.05, 0.05) (torch: N(0, 1)).
    - ``RNN``/``LSTM``/``GRU``: input kernels glorot_uniform, recurrent kernels orthogonal, biases zero,
      and for LSTM the forget-gate bias 1 (Keras ``unit_forget_bias=True``; only in ``bias_ih``, since
      Keras has a single bias).
    - Normalization layers already start as Keras's (scale 1, offset 0, moving mean 0, variance 1).

    Returns ``module`` so it can wrap a constructor: ``model = keras_init_(MyNet())``.
    """
    for layer in module.modules():
        if isinstance(layer, _KERNEL_LAYERS):
            glorot_uniform(layer.weight, generator)
            if layer.bias is not None:
                zeros(layer.bias)
        elif isinstance(layer, nn.Embedding):
            nn.init.uniform_(layer.weight, -0.05, 0.05, generator=generator)
        elif isinstance(layer, nn.RNNBase):
            _keras_init_recurrent(layer, generator)
    return module


def _keras_init_recurrent(layer: nn.RNNBase, generator: torch.Generator | None) -> None:
    for name, tensor in layer.named_parameters():
        if name.startswith("weight_ih"):
            glorot_uniform(tensor, generator)
        elif name.startswith("weight_hh"):
            nn.init.orthogonal_(tensor, generator=generator)
        elif name.startswith("bias"):
            zeros(tensor)
            if isinstance(layer, nn.LSTM) and name.startswith("bias_ih"):
                tensor[layer.hidden_size : 2 * layer.hidden_size] = 1.0  # torch gate order i, f, g, o
        elif name.startswith("weight_hr"):  # LSTM projection (no Keras twin): treat as a dense kernel
            glorot_uniform(tensor, generator)
