"""Keras's random initializers: same distributions, arguments and defaults; torch's random streams.

``VarianceScaling`` is the family behind glorot/he/lecun: with ``n`` = fan_in, fan_out or (fan_in + fan_out)/2
of the Keras shape (:func:`~ptref.nn.initializers.core.compute_fans`, at least 1) the target variance is
``scale / n``:

- ``"uniform"``: U(-l, l) with ``l = sqrt(3·scale/n)`` (a uniform's variance is l²/3);
- ``"untruncated_normal"``: N(0, scale/n);
- ``"truncated_normal"`` (alias ``"normal"``): N(0, σ²) cut at ±2σ with
  ``σ = sqrt(scale/n) / 0.87962566103423978``; 0.8796... is the standard deviation of a unit normal truncated to
  [-2, 2], so the *truncated* draws have variance ``scale/n``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor, nn

from ptref.nn.initializers.core import Layout, RandomInitializer, Seed, compute_fans

TRUNCATED_STD = 0.87962566103423978  # std of N(0, 1) truncated to [-2, 2]: Keras's constant


class RandomNormal(RandomInitializer):
    """N(mean, stddev²). TF: ``keras.initializers.RandomNormal(mean=0.0, stddev=0.05, seed=None)``."""

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: Seed = None) -> None:
        super().__init__(seed)
        self.mean, self.stddev = mean, stddev

    def _fill(self, tensor: Tensor, shape: tuple[int, ...], layout: Layout) -> None:
        nn.init.normal_(tensor, self.mean, self.stddev, generator=self._generator(tensor.device))

    def get_config(self) -> dict[str, Any]:
        return {"mean": self.mean, "stddev": self.stddev, **super().get_config()}


class TruncatedNormal(RandomNormal):
    """N(mean, stddev²) cut at mean ± 2·stddev (redrawn outside). TF: ``keras.initializers.TruncatedNormal``.

    Here ``stddev`` is that of the normal *before* the cut; the draws' own std is 0.8796·stddev.
    """

    def _fill(self, tensor: Tensor, shape: tuple[int, ...], layout: Layout) -> None:
        low, high = self.mean - 2 * self.stddev, self.mean + 2 * self.stddev
        nn.init.trunc_normal_(tensor, self.mean, self.stddev, low, high, generator=self._generator(tensor.device))


class RandomUniform(RandomInitializer):
    """U(minval, maxval). TF: ``keras.initializers.RandomUniform(minval=-0.05, maxval=0.05, seed=None)``."""

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: Seed = None) -> None:
        super().__init__(seed)
        self.minval, self.maxval = minval, maxval

    def _fill(self, tensor: Tensor, shape: tuple[int, ...], layout: Layout) -> None:
        nn.init.uniform_(tensor, self.minval, self.maxval, generator=self._generator(tensor.device))

    def get_config(self) -> dict[str, Any]:
        return {"minval": self.minval, "maxval": self.maxval, **super().get_config()}


class VarianceScaling(RandomInitializer):
    """Variance ``scale / n``, ``n`` chosen by ``mode`` (see the module docstring for the three distributions).

    TF: ``keras.initializers.VarianceScaling(scale=1.0, mode="fan_in", distribution="truncated_normal",
    seed=None, input_axes=None, output_axes=None)``; the axes index the Keras shape.
    """

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "truncated_normal",
        seed: Seed = None,
        input_axes: Sequence[int] | None = None,
        output_axes: Sequence[int] | None = None,
    ) -> None:
        super().__init__(seed)
        if not scale > 0.0:
            raise ValueError(f"VarianceScaling scale must be a positive float, got scale={scale!r}")
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"VarianceScaling mode must be 'fan_in', 'fan_out' or 'fan_avg', got mode={mode!r}")
        distribution = {"normal": "truncated_normal"}.get(distribution.lower(), distribution.lower())
        if distribution not in ("uniform", "truncated_normal", "untruncated_normal"):
            raise ValueError(
                "VarianceScaling distribution must be 'uniform', 'truncated_normal' or 'untruncated_normal', "
                f"got distribution={distribution!r}"
            )
        self.scale, self.mode, self.distribution = scale, mode, distribution
        self.input_axes, self.output_axes = input_axes, output_axes

    def fan(self, shape: Sequence[int]) -> float:
        """``n = max(1, fan)`` of the Keras ``shape`` for this ``mode``: every draw has variance ``scale / n``."""
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        return max(1.0, {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode])

    def _fill(self, tensor: Tensor, shape: tuple[int, ...], layout: Layout) -> None:
        # Element-wise i.i.d. draws: filling the tensor in its own layout is the same distribution as filling the
        # Keras-shaped kernel, and draws the same numbers in the same order as keras_init_ always has.
        n, generator = self.fan(shape), self._generator(tensor.device)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * self.scale / n)
            nn.init.uniform_(tensor, -limit, limit, generator=generator)
        elif self.distribution == "untruncated_normal":
            nn.init.normal_(tensor, 0.0, math.sqrt(self.scale / n), generator=generator)
        else:
            std = math.sqrt(self.scale / n) / TRUNCATED_STD
            nn.init.trunc_normal_(tensor, 0.0, std, -2 * std, 2 * std, generator=generator)

    def get_config(self) -> dict[str, Any]:
        return {
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "input_axes": self.input_axes,
            "output_axes": self.output_axes,
            **super().get_config(),
        }


def _preset(name: str, scale: float, mode: str, distribution: str, formula: str) -> type[VarianceScaling]:
    """A ``VarianceScaling`` with fixed scale/mode/distribution, as Keras's ``GlorotUniform`` & co. are."""

    def __init__(
        self: VarianceScaling,
        seed: Seed = None,
        input_axes: Sequence[int] | None = None,
        output_axes: Sequence[int] | None = None,
    ) -> None:
        VarianceScaling.__init__(self, scale, mode, distribution, seed, input_axes, output_axes)

    def get_config(self: VarianceScaling) -> dict[str, Any]:
        return {"seed": self.seed, "input_axes": self.input_axes, "output_axes": self.output_axes}

    doc = f"{formula}. TF: ``keras.initializers.{name}(seed=None, input_axes=None, output_axes=None)``."
    namespace = {"__init__": __init__, "get_config": get_config, "__doc__": doc, "__module__": __name__}
    return type(name, (VarianceScaling,), namespace)


GlorotUniform = _preset("GlorotUniform", 1.0, "fan_avg", "uniform", "U(-l, l), l = sqrt(6 / (fan_in + fan_out))")
GlorotNormal = _preset(
    "GlorotNormal", 1.0, "fan_avg", "truncated_normal", "truncated normal, std sqrt(2 / (fan_in + fan_out))"
)
HeUniform = _preset("HeUniform", 2.0, "fan_in", "uniform", "U(-l, l), l = sqrt(6 / fan_in)")
HeNormal = _preset("HeNormal", 2.0, "fan_in", "truncated_normal", "truncated normal, std sqrt(2 / fan_in)")
LecunUniform = _preset("LecunUniform", 1.0, "fan_in", "uniform", "U(-l, l), l = sqrt(3 / fan_in)")
LecunNormal = _preset("LecunNormal", 1.0, "fan_in", "truncated_normal", "truncated normal, std sqrt(1 / fan_in)")


class Orthogonal(RandomInitializer):
    """``gain`` × a random orthogonal matrix. TF: ``keras.initializers.Orthogonal(gain=1.0, seed=None)``.

    The Keras shape ``(*lead, cols)`` is flattened to ``rows = ∏lead`` × ``cols``; A ~ N(0, 1) of shape
    ``(max, min)`` is factored A = QR, Q's columns are multiplied by sign(diag R) (which makes Q Haar-distributed),
    and Q is transposed when rows < cols: the result has orthonormal columns, or orthonormal rows if it is wide.
    An LSTM's ``recurrent_kernel (u, 4u)`` thus gets orthonormal rows, i.e. torch's ``weight_hh (4u, u)``
    orthonormal columns.
    """

    def __init__(self, gain: float = 1.0, seed: Seed = None) -> None:
        super().__init__(seed)
        self.gain = gain

    def _fill(self, tensor: Tensor, shape: tuple[int, ...], layout: Layout) -> None:
        if len(shape) < 2:
            raise ValueError(f"Orthogonal needs a tensor of rank >= 2, got shape {tuple(tensor.shape)}")
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = torch.empty(max(rows, cols), min(rows, cols), dtype=tensor.dtype, device=tensor.device)
        a.normal_(generator=self._generator(tensor.device))
        q, r = torch.linalg.qr(a)
        q = q * torch.sign(torch.diagonal(r))
        if rows < cols:
            q = q.T
        self._copy_keras_values(tensor, self.gain * q.reshape(shape), layout)

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain, **super().get_config()}
