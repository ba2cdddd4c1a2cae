"""Start a torch model the way Keras starts the same layers (:func:`keras_init_`), and the shortcuts it uses.

Keras draws Dense/Conv kernels from glorot_uniform and sets biases to zero, while torch uses
``kaiming_uniform(a=sqrt(5))`` (limits about half as wide) and non-zero biases. Random streams cannot match
across frameworks, so "the Keras way" means the same *distribution*.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from ptref.nn.initializers.constant_initializers import Zeros
from ptref.nn.initializers.random_initializers import GlorotNormal, GlorotUniform, HeNormal, HeUniform, LecunNormal


def glorot_uniform(tensor: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """U(-l, l) with ``l = sqrt(6 / (fan_in + fan_out))``, fans of the torch weight's Keras shape, in place."""
    return GlorotUniform(seed=generator)(tensor)


def glorot_normal(tensor: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Truncated normal, std ``sqrt(2 / (fan_in + fan_out))`` (``nn.init.xavier_normal_`` is not truncated)."""
    return GlorotNormal(seed=generator)(tensor)


def he_normal(tensor: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Truncated normal with std ``sqrt(2 / fan_in)``, in place."""
    return HeNormal(seed=generator)(tensor)


def he_uniform(tensor: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """U(-l, l) with ``l = sqrt(6 / fan_in)``, in place."""
    return HeUniform(seed=generator)(tensor)


def lecun_normal(tensor: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Truncated normal with std ``sqrt(1 / fan_in)``, in place."""
    return LecunNormal(seed=generator)(tensor)


def zeros(tensor: Tensor) -> Tensor:
    """All zeros, in place (Keras's default for every bias)."""
    return Zeros()(tensor)


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
