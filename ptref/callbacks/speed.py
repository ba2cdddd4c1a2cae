"""Speed switches of the Trainer: memory layout, the allocator, compilation. None of them changes the math.

``ptref fit|validate|test|predict`` adds :class:`ChannelsLast` and :class:`KeepFreedMemory` unless
``trainer.callbacks`` lists one of the same class (give it ``enabled: false`` to switch that lever off);
:class:`Compile` is opt-in (``--trainer.callbacks+=ptref.callbacks.speed.Compile``). What each one buys on the
course's models, measured: ``docs/bench/bench.md``.

TF: TensorFlow's CPU kernels take NHWC tensors, and its allocator (a BFC arena) keeps freed buffers for reuse;
these two callbacks give PyTorch the same two conditions. ``tf.function(jit_compile=True)`` is ``Compile``'s twin.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform
from collections.abc import Callable
from typing import Any

import lightning.pytorch as pl
import torch
from torch import nn

_CHANNELS_LAST_DEVICES = ("cpu", "cuda")  # XLA and MPS tensors have no strides to reorder


def to_channels_last(model: nn.Module) -> torch.utils.hooks.RemovableHandle:
    """Put ``model``'s 4-D weights in NHWC memory and make its 4-D inputs NHWC; the hook's handle.

    Shapes stay ``[B, C, H, W]``: only the strides change, so every convolution and pooling runs oneDNN's NHWC
    kernels and no layer converts back and forth. A network that flattens with
    :class:`~ptref.nn.FlattenChannelsLast` (Keras's ``(h, w, c)`` order) then flattens without a copy.
    """
    model.to(memory_format=torch.channels_last)

    def channels_last_input(module: nn.Module, args: tuple[Any, ...]) -> tuple[Any, ...]:
        return tuple(
            arg.contiguous(memory_format=torch.channels_last) if isinstance(arg, torch.Tensor) and arg.dim() == 4
            else arg
            for arg in args
        )

    return model.register_forward_pre_hook(channels_last_input)


class ChannelsLast(pl.Callback):
    """Train and evaluate a model with 2-D convolutions in channels-last (NHWC) memory, on CPU and CUDA.

    Args:
        enabled: ``false`` keeps PyTorch's default NCHW memory.
    """

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._handle: torch.utils.hooks.RemovableHandle | None = None

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        has_conv = any(isinstance(module, nn.Conv2d) for module in pl_module.modules())
        device = trainer.strategy.root_device.type
        if self.enabled and has_conv and device in _CHANNELS_LAST_DEVICES and self._handle is None:
            self._handle = to_channels_last(pl_module)

    def teardown(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None


# glibc's mallopt parameters (malloc.h)
M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3
ALLOCATOR_SETTINGS = {
    # Buffers up to 32 MiB (glibc's largest allowed threshold) come from the heap, not from a fresh mmap that
    # munmap returns to the OS when the buffer is freed: a training step allocates and frees the same activation
    # sizes every step, and each fresh mapping is paid for again in page faults.
    M_MMAP_THRESHOLD: 32 * 2**20,
    # Freed memory at the top of the heap is kept (up to 1 GiB) instead of trimmed back to the OS after each step.
    M_TRIM_THRESHOLD: 2**30,
    # Each time the heap grows, it grows by 64 MiB more than asked, so one step's growth serves the next steps.
    M_TOP_PAD: 64 * 2**20,
}


def keep_freed_memory() -> bool:
    """Tell glibc's malloc to keep freed buffers for reuse (:data:`ALLOCATOR_SETTINGS`); False where not glibc.

    The same settings as starting the process with ``MALLOC_MMAP_THRESHOLD_=33554432
    MALLOC_TRIM_THRESHOLD_=1073741824 MALLOC_TOP_PAD_=67108864`` (glibc reads those once, at start; ``mallopt``
    sets the same parameters at any time). Process-wide, and kept until the process ends.
    """
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    return all(libc.mallopt(parameter, value) == 1 for parameter, value in ALLOCATOR_SETTINGS.items())


class KeepFreedMemory(pl.Callback):
    """On CPU with glibc, keep the buffers a step frees for the next step (:func:`keep_freed_memory`).

    Args:
        enabled: ``false`` leaves glibc's defaults.
    """

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if self.enabled and trainer.strategy.root_device.type == "cpu":
            keep_freed_memory()


class Compile(pl.Callback):
    """``torch.compile`` the model in place (``LightningModule.compile``: checkpoints keep the same keys).

    The first steps pay for compilation (seconds to a minute on CPU; it needs a C++ compiler). Opt-in: on the
    course's models on CPU it does not pay back (``docs/bench/bench.md``).

    Args:
        mode, backend, fullgraph, dynamic: ``torch.compile``'s arguments of the same names.
    """

    def __init__(self, mode: str | None = None, backend: str | Callable = "inductor", fullgraph: bool = False,
                 dynamic: bool | None = None) -> None:
        self.options = {"mode": mode, "backend": backend, "fullgraph": fullgraph, "dynamic": dynamic}

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        pl_module.compile(**self.options)
