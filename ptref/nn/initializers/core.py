"""What every initializer shares: the Keras shape of a torch weight, Keras's fans, seeding, and the base class.

A Keras kernel and the torch weight of the same layer hold the same numbers in a different axis order:

=====================  ==========================  ================================
layer                  torch weight                Keras kernel (``keras_shape``)
=====================  ==========================  ================================
Dense / Linear         ``(out, in)``               ``(in, out)``
ConvND / ConvNd        ``(out, in, *kernel)``      ``(*kernel, in, out)``
ConvNDTranspose        ``(in, out, *kernel)``      ``(*kernel, out, in)``
LSTM/GRU/RNN           ``weight_ih (G·u, in)``     ``kernel (in, G·u)``
                       ``weight_hh (G·u, u)``      ``recurrent_kernel (u, G·u)``
=====================  ==========================  ================================

so one rule maps them all: torch ``(a, b, *k)`` is Keras ``(*k, b, a)`` (``layout="torch"``, the default). A
tensor already in Keras's axis order is passed with ``layout="keras"``. Fans come from the Keras shape
(:func:`compute_fans`), so ``Conv2d(3, 8, 5)`` gets ``fan_in = 5·5·3`` and ``fan_out = 5·5·8`` as Keras's Conv2D.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import torch
from torch import Tensor

Layout = Literal["torch", "keras"]
Seed = int | torch.Generator | None


def keras_shape(shape: Sequence[int], layout: Layout = "torch") -> tuple[int, ...]:
    """The Keras kernel shape of a weight of ``shape``: torch ``(a, b, *k)`` -> Keras ``(*k, b, a)``.

    Tensors of rank 0 and 1 (biases, scales) have the same shape in both frameworks.
    """
    shape = tuple(int(d) for d in shape)
    if layout not in ("torch", "keras"):
        raise ValueError(f"initializer layout must be 'torch' or 'keras', got {layout!r}")
    if layout == "keras" or len(shape) < 2:
        return shape
    return (*shape[2:], shape[1], shape[0])


def from_keras_layout(values: Tensor, layout: Layout = "torch") -> Tensor:
    """Permute a Keras-shaped ``values`` into ``layout``: the inverse of :func:`keras_shape`."""
    if layout == "keras" or values.dim() < 2:
        return values
    n = values.dim()
    return values.permute(n - 1, n - 2, *range(n - 2))


def to_keras_layout(weight: Tensor, layout: Layout = "torch") -> Tensor:
    """Permute a torch weight ``(a, b, *k)`` into its Keras kernel's axis order ``(*k, b, a)`` (a view)."""
    if layout == "keras" or weight.dim() < 2:
        return weight
    n = weight.dim()
    return weight.permute(*range(2, n), 1, 0)


def compute_fans(
    shape: Sequence[int], input_axes: Sequence[int] | None = None, output_axes: Sequence[int] | None = None
) -> tuple[int, int]:
    """Keras's ``compute_fans`` for a **Keras** shape: ``(fan_in, fan_out)``.

    Rank 0: ``(1, 1)``; rank 1 ``(n,)``: ``(n, n)``; rank 2 ``(in, out)``: ``(in, out)``; rank >= 3, a convolution
    kernel ``(*k, in, out)``: ``(in·∏k, out·∏k)``. With both ``input_axes`` and ``output_axes`` given, each fan is
    the product of the sizes along those axes instead.
    """
    shape = tuple(shape)
    if input_axes is not None and output_axes is not None:
        return math.prod(shape[a] for a in input_axes), math.prod(shape[a] for a in output_axes)
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


def keras_fans(tensor: Tensor, layout: Layout = "torch") -> tuple[int, int]:
    """``(fan_in, fan_out)`` that Keras's ``compute_fans`` gives for this weight's Keras shape."""
    return compute_fans(keras_shape(tensor.shape, layout))


class Initializer:
    """Base class: ``init(tensor, layout="torch")`` fills ``tensor`` in place and returns it.

    TF: ``keras.initializers.Initializer``, whose ``init(shape, dtype)`` returns a new tensor; here that is
    :meth:`sample`. Subclasses implement ``_fill(tensor, shape, layout)`` with ``shape`` the Keras shape.
    """

    def __call__(self, tensor: Tensor, layout: Layout = "torch") -> Tensor:
        shape = keras_shape(tensor.shape, layout)
        with torch.no_grad():
            self._fill(tensor, shape, layout)
        return tensor

    def sample(
        self, shape: Sequence[int], dtype: torch.dtype | None = None, device: torch.device | str | None = None
    ) -> Tensor:
        """A new tensor of the **Keras** ``shape``, as Keras's ``initializer(shape, dtype)`` returns."""
        return self(torch.empty(tuple(shape), dtype=dtype, device=device), layout="keras")

    def _fill(self, tensor: Tensor, shape: tuple[int, ...], layout: Layout) -> None:
        raise NotImplementedError(f"{type(self).__name__} is the abstract base class: use a concrete initializer")

    @staticmethod
    def _copy_keras_values(tensor: Tensor, values: Tensor, layout: Layout) -> None:
        """Store values computed in the Keras shape into ``tensor`` (for initializers whose values have structure)."""
        tensor.copy_(from_keras_layout(values, layout))

    def get_config(self) -> dict[str, Any]:
        """The constructor arguments, named and valued as in Keras's ``get_config``."""
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Initializer:
        return cls(**config)

    def __repr__(self) -> str:
        arguments = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({arguments})"


class RandomInitializer(Initializer):
    """An initializer that draws random numbers; ``seed`` chooses where they come from.

    - ``int``: a fresh ``torch.Generator`` seeded with it on every call, so every call gives the same values (as
      Keras's integer seed does) and the global RNG is untouched.
    - ``torch.Generator``: draws advance it (the twin of a ``keras.random.SeedGenerator``).
    - ``None``: torch's global RNG (so ``seed_everything`` governs it); unlike Keras's ``None``, which fixes a
      random seed at construction, successive calls differ.
    """

    def __init__(self, seed: Seed = None) -> None:
        if isinstance(seed, bool) or not (seed is None or isinstance(seed, (int, torch.Generator))):
            raise ValueError(f"initializer seed must be an int, a torch.Generator or None, got {seed!r}")
        self.seed = seed

    def _generator(self, device: torch.device) -> torch.Generator | None:
        if isinstance(self.seed, int):
            return torch.Generator(device=device).manual_seed(self.seed)
        return self.seed

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed}
