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
import functools
import time
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.loggers import CSVLogger as LightningCSVLogger
from lightning.pytorch.loggers import TensorBoardLogger as LightningTensorBoardLogger
from lightning.fabric.utilities.logger import _add_prefix
from lightning.pytorch.strategies import DeepSpeedStrategy, FSDPStrategy, ModelParallelStrategy
from lightning.pytorch.utilities import rank_zero_only, rank_zero_warn
from torch import Tensor, nn

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
            self._write_pending()
            super().save()  # type: ignore[misc]

    def finalize(self, status: str) -> None:
        self._last_save = float("-inf")  # the final save is never skipped
        self._write_pending()
        super().finalize(status)  # type: ignore[misc]

    def _write_pending(self) -> None:
        """Hand what :meth:`log_metrics` kept back to the writer (a logger that keeps nothing back: nothing)."""


@functools.cache
def _tensorboard_parts() -> tuple[Any, Any, Callable[..., Any]]:
    """TensorBoard's ``Event`` and ``Summary`` protos and torch's ``scalar`` summary, imported on first use (so
    ``import ptref.cli`` stays light)."""
    from tensorboard.compat.proto.event_pb2 import Event
    from tensorboard.compat.proto.summary_pb2 import Summary
    from torch.utils.tensorboard.summary import scalar

    return Event, Summary, scalar


class CSVLogger(_SavesAtMostEvery, LightningCSVLogger):
    """``lightning.pytorch.loggers.CSVLogger`` (same arguments) that writes ``metrics.csv`` at most once a second."""


class TensorBoardLogger(_SavesAtMostEvery, LightningTensorBoardLogger):
    """``lightning.pytorch.loggers.TensorBoardLogger`` (same arguments) that writes at most once a second, each
    step's scalars as one event.

    TensorFlow twin of ``log_graph=True``: ``tf.compat.v1.summary.FileWriter(logdir, session.graph)`` (TF1) or
    ``tf.keras.callbacks.TensorBoard(write_graph=True)``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pending: list[Any] = []  # tensorboard Events not yet handed to the writer

    @rank_zero_only
    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        """Each call's scalars in one ``Summary`` of one event, as TF1's ``tf.summary.merge_all()`` wrote them,
        handed to the event writer at the next due :meth:`save` (at most once a second) or at ``finalize``.

        Lightning's logger hands one event per scalar to the SummaryWriter at once: each goes through a queue of
        ten to the writer thread, which frames it with two CRC-32C checksums computed in pure Python (TensorBoard
        without TensorFlow), and a tiny model's training loop waits on that thread every epoch. The values are
        the ones ``add_scalar`` writes (``Summary.Value(tag, simple_value)``), with the step and the wall time
        of this call; TensorBoard reads one value or several per event alike. A dict value is written at once
        by ``add_scalars`` (its own run folder per key), as Lightning does.
        """
        Event, Summary, scalar = _tensorboard_parts()
        summary = Summary()
        for name, value in _add_prefix(metrics, self._prefix, self.LOGGER_JOIN_CHAR).items():
            if isinstance(value, Tensor):
                value = value.item()
            if isinstance(value, dict):
                self.experiment.add_scalars(name, value, step)
                continue
            try:
                summary.value.extend(scalar(name, value).value)
            except Exception as error:  # Lightning's message for a value TensorBoard cannot take
                raise ValueError(
                    f"\n you tried to log {value} which is currently not supported. Try a dict or a scalar/tensor."
                ) from error
        if summary.value:
            event = Event(summary=summary, wall_time=time.time())
            if step is not None:
                event.step = int(step)
            self._pending.append(event)

    def _write_pending(self) -> None:
        if self._pending:
            writer = self.experiment._get_file_writer()
            for event in self._pending:
                writer.add_event(event, event.step, event.wall_time)
            self._pending = []

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
