"""The loggers every ``ptref fit`` writes with: Lightning's CSV and TensorBoard loggers, saved at most once a second.

TensorFlow twin: ``tf.keras.callbacks.CSVLogger`` + ``tf.keras.callbacks.TensorBoard`` (whose event writer
flushes every 120 s by default).

Lightning calls ``logger.save()`` after every ``log_metrics`` call, so the CSV file is appended to and the
TensorBoard event file flushed once per epoch at least. For the course's full-batch house-price fit (500
epochs of one 0.2 ms step) that was ~0.9 ms per epoch, more than everything else Lightning does
(``ptref bench``). Here ``save()`` writes at most every ``save_interval`` seconds; ``finalize`` (called by
Lightning at the end of fit/validate/test, also after an exception or a SIGTERM) always writes everything.
A ``kill -9`` can cost the last ``save_interval`` seconds of metric rows, never a checkpoint.

With ``log_graph=True`` the TensorBoard logger also writes the model's data-flow graph (TensorBoard's Graphs tab,
the course's view of the TF1 house-price graph), traced from ``model.example_input_array`` on a CPU copy of the
model: see :meth:`TensorBoardLogger.log_graph`.
"""

from __future__ import annotations

import copy
import time
import warnings

import lightning.pytorch as pl
import torch
from lightning.pytorch.loggers import CSVLogger as LightningCSVLogger
from lightning.pytorch.loggers import TensorBoardLogger as LightningTensorBoardLogger
from lightning.pytorch.strategies import DeepSpeedStrategy, FSDPStrategy, ModelParallelStrategy
from lightning.pytorch.utilities import rank_zero_only, rank_zero_warn
from torch import nn

# Strategies that keep only a shard of the module on each rank: its forward needs every rank, so rank 0
# cannot trace it alone.
SHARDING_STRATEGIES = (FSDPStrategy, DeepSpeedStrategy, ModelParallelStrategy)


class _SavesAtMostEvery:
    """Mixin: ``save()`` at most every ``save_interval`` seconds; ``finalize()`` always saves."""

    save_interval: float = 1.0
    _last_save: float = float("-inf")

    def save(self) -> None:
        now = time.monotonic()
        if now - self._last_save >= self.save_interval:
            self._last_save = now
            super().save()  # type: ignore[misc]

    def finalize(self, status: str) -> None:
        self._last_save = float("-inf")  # the final save is never skipped
        super().finalize(status)  # type: ignore[misc]


class CSVLogger(_SavesAtMostEvery, LightningCSVLogger):
    """``lightning.pytorch.loggers.CSVLogger`` (same arguments) that writes ``metrics.csv`` at most once a second."""


class TensorBoardLogger(_SavesAtMostEvery, LightningTensorBoardLogger):
    """``lightning.pytorch.loggers.TensorBoardLogger`` (same arguments) that flushes at most once a second.

    TensorFlow twin of ``log_graph=True``: ``tf.compat.v1.summary.FileWriter(logdir, session.graph)`` (TF1) or
    ``tf.keras.callbacks.TensorBoard(write_graph=True)``.
    """

    @rank_zero_only
    def log_graph(self, model: pl.LightningModule, input_array: torch.Tensor | tuple | None = None) -> None:
        """Write the graph ``torch.jit.trace`` records for ``model(input_array)`` (default: its example input).

        Lightning's own ``log_graph`` traces the training module in place, on its device. Here a copy on
        the CPU is traced instead, so the run is left exactly as it was: no train/eval switch, no trace run
        on an XLA or MPS device, no random number drawn (resumed runs stay bit-exact), and a ``torch.compile``'d
        module (which ``torch.jit.trace`` refuses) is traced through its plain copy. A model without an
        example input, a sharded one (FSDP, DeepSpeed: rank 0 holds only part of it), or a forward that
        cannot be traced is skipped with a warning at most: a missing picture never stops a training run.
        """
        input_array = model.example_input_array if input_array is None else input_array
        if not self._log_graph or input_array is None:
            return
        trainer = model._trainer
        if trainer is not None and isinstance(trainer.strategy, SHARDING_STRATEGIES):
            rank_zero_warn(f"TensorBoard graph not logged: {type(trainer.strategy).__name__} shards the model")
            return
        cpu = torch.device("cpu")
        input_array = model._apply_batch_transfer_handler(model._on_before_batch_transfer(input_array), device=cpu)
        if trainer is not None:
            input_array = trainer.precision_plugin.convert_input(input_array)  # e.g. to bfloat16 for "bf16-true"
        try:
            with torch.random.fork_rng(devices=[]), pl.core.module._jit_is_scripting(), warnings.catch_warnings():
                # The trace is a picture of one input's run: values such as TF "same" padding, computed from the
                # input's shape in Python, are frozen into it by design, which is all a TracerWarning reports.
                warnings.simplefilter("ignore", torch.jit.TracerWarning)
                self.experiment.add_graph(cpu_copy(model), input_array)
        except Exception as error:  # noqa: BLE001 - see the docstring: the graph is optional, the run is not
            rank_zero_warn(f"TensorBoard graph not logged: tracing {type(model).__name__} failed: {error}")


def cpu_copy(module: nn.Module) -> nn.Module:
    """A deep copy of ``module`` with its parameters and buffers on the CPU, copied there directly.

    The weights are placed in ``deepcopy``'s memo, so those of a module on an accelerator are not duplicated there;
    ``deepcopy`` drops a ``torch.compile`` wrapper (``nn.Module.__getstate__``) and Lightning's trainer link.
    """
    cpu = torch.device("cpu")
    memo: dict[int, object] = {
        id(p): nn.Parameter(p.detach().to(cpu, copy=True), requires_grad=p.requires_grad) for p in module.parameters()
    }
    memo.update({id(b): b.detach().to(cpu, copy=True) for b in module.buffers()})
    return copy.deepcopy(module, memo)
