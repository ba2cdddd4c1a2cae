"""Keras's deterministic initializers: Zeros, Ones, Constant, Identity and the STFT kernels."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import Tensor
from torch.signal import windows

from ptref.nn.initializers.core import Initializer, Layout


class Zeros(Initializer):
    """All zeros. TF: ``keras.initializers.Zeros()`` (Keras's default for every bias)."""

    def _fill(self, tensor: Tensor, shape: tuple[int, ...], layout: Layout) -> None:
        tensor.zero_()


class Ones(Initializer):
    """All ones. TF: ``keras.initializers.Ones()``."""

    def _fill(self, tensor: Tensor, shape: tuple[int, ...], layout: Layout) -> None:
        tensor.fill_(1.0)


class Constant(Initializer):
    """``value`` everywhere (a scalar, or an array broadcast to the Keras shape). TF: ``Constant(value=0.0)``."""

    def __init__(self, value: float | Sequence[float] = 0.0) -> None:
        self.value = value

    def _fill(self, tensor: Tensor, shape: tuple[int, ...], layout: Layout) -> None:
        values = torch.as_tensor(self.value, dtype=tensor.dtype, device=tensor.device).expand(shape)
        self._copy_keras_values(tensor, values, layout)

    def get_config(self) -> dict[str, Any]:
        return {"value": self.value}


class Identity(Initializer):
    """``gain`` × the identity matrix ``eye(in, out)`` of the Keras shape. TF: ``Identity(gain=1.0)``.

    Only for rank-2 weights (Dense/Linear); a torch ``Linear(n_in, n_out)`` gets ``gain · eye(n_out, n_in)``.
    """

    def __init__(self, gain: float = 1.0) -> None:
        self.gain = gain

    def _fill(self, tensor: Tensor, shape: tuple[int, ...], layout: Layout) -> None:
        if len(shape) != 2:
            shape_seen = tuple(tensor.shape)
            raise ValueError(f"Identity initializes rank-2 (Dense/Linear) weights only, got shape {shape_seen}")
        eye = torch.eye(*shape, dtype=tensor.dtype, device=tensor.device)
        self._copy_keras_values(tensor, self.gain * eye, layout)

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain}


# The windows torch implements with scipy.signal.get_window's meaning (Keras looks windows up there).
_WINDOWS = {
    "hann": windows.hann, "hamming": windows.hamming, "blackman": windows.blackman, "bartlett": windows.bartlett
}


class STFT(Initializer):
    """Conv1D kernels computing one side of a short-time Fourier transform (``keras.layers.STFTSpectrogram``).

    TF: ``keras.initializers.STFT(side="real", window="hann", scaling="density", periodic=False)``. For the
    Keras shape ``(T, channels, F)`` (frame length, input channels, frequency bins), with ``N = 2(F - 1)``:

        kernel[t, :, f] = cos(-2π t f / N) ("real") or sin(-2π t f / N) ("imag"),

    times the window w[t] and divided by ``sqrt(Σ w²)`` (``"density"``) or ``Σ |w|`` (``"spectrum"``). ``window``
    is one of ``"hann"``, ``"hamming"``, ``"blackman"``, ``"bartlett"`` (``periodic=True``: the DFT-even
    variant), an array of T values, or None (no window and no scaling). Values are computed in float64 and then
    cast, so they are the exact kernel rounded once. A torch ``Conv1d(channels, F, T)`` weight ``(F, channels, T)``
    is filled with the same kernel (``layout="torch"``).
    """

    def __init__(
        self,
        side: str = "real",
        window: str | Sequence[float] | None = "hann",
        scaling: str | None = "density",
        periodic: bool = False,
    ) -> None:
        if side not in ("real", "imag"):
            raise ValueError(f"STFT side must be 'real' or 'imag', got side={side!r}")
        if isinstance(window, str) and window not in _WINDOWS:
            raise ValueError(
                f"STFT window {window!r} is not one of {sorted(_WINDOWS)}; pass its T values as an array instead"
            )
        if scaling not in (None, "density", "spectrum"):
            raise ValueError(f"STFT scaling must be None, 'density' or 'spectrum', got scaling={scaling!r}")
        self.side, self.window, self.scaling, self.periodic = side, window, scaling, periodic

    def _window(self, frame_length: int) -> Tensor | None:
        if self.window is None:
            return None
        if isinstance(self.window, str):
            return _WINDOWS[self.window](frame_length, sym=not self.periodic, dtype=torch.float64)
        window = torch.as_tensor(self.window, dtype=torch.float64)
        if window.shape != (frame_length,):
            raise ValueError(f"STFT window has shape {tuple(window.shape)}, the frame length needs ({frame_length},)")
        return window

    def _fill(self, tensor: Tensor, shape: tuple[int, ...], layout: Layout) -> None:
        if len(shape) != 3:
            raise ValueError(f"STFT initializes Conv1D kernels (rank 3), got shape {tuple(tensor.shape)}")
        frame_length, _, fft_bins = shape
        time = torch.arange(frame_length, dtype=torch.float64).reshape(-1, 1, 1)
        freq = torch.arange(fft_bins, dtype=torch.float64).reshape(1, 1, -1) / (2 * (fft_bins - 1))
        angle = -2 * math.pi * time * freq
        kernel = torch.cos(angle) if self.side == "real" else torch.sin(angle)
        window = self._window(frame_length)
        if window is not None:
            norm = {"density": window.square().sum().sqrt(), "spectrum": window.abs().sum(), None: 1.0}[self.scaling]
            kernel = kernel * window.reshape(-1, 1, 1) / norm
        values = kernel.expand(shape).to(dtype=tensor.dtype, device=tensor.device)
        self._copy_keras_values(tensor, values, layout)

    def get_config(self) -> dict[str, Any]:
        return {"side": self.side, "window": self.window, "periodic": self.periodic, "scaling": self.scaling}


class FixedValues(Initializer):
    """Exactly ``values``, given in the Keras shape: what ``get(array)`` returns (Keras's ``get(tensor)``)."""

    def __init__(self, values: Tensor) -> None:
        self.values = torch.as_tensor(values)

    def _fill(self, tensor: Tensor, shape: tuple[int, ...], layout: Layout) -> None:
        if shape != tuple(self.values.shape):
            raise ValueError(
                f"initializer values have shape {tuple(self.values.shape)}, the weight's Keras shape is {shape}"
            )
        self._copy_keras_values(tensor, self.values.to(dtype=tensor.dtype, device=tensor.device), layout)

    def get_config(self) -> dict[str, Any]:
        return {"values": self.values.tolist()}
