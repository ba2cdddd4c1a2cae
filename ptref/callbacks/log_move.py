"""Skip the device move Lightning makes on every ``self.log`` call when the logged metric is already there.

Lightning's ``_ResultCollection.log`` calls ``_ResultMetric.to(value.device)`` on every call. That ``to`` rebuilds
the metric's whole ``__dict__`` through ``apply_to_collection`` (deep-copying its metadata dataclass on the way),
which costs more than the rest of the ``log`` call and than a small model's whole forward pass. When every tensor
the metric holds already sits on that device the move changes nothing, so :class:`SkipResidentLogMove` answers
those calls at once and leaves every other call (another device, a dtype, keyword arguments, a metric holding
anything it cannot see through) to Lightning's own ``to``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.trainer.connectors.logger_connector.result import _ResultMetric
from torch import nn

_original_to: Callable[..., Any] | None = None
_users = 0


_SCALARS = frozenset({type(None), bool, int, float, str})  # attribute types that hold no tensor


def resident(metric: nn.Module, device: torch.device) -> bool:
    """Whether ``to(device)`` would leave ``metric`` as it is: each tensor among its attributes (and one level
    into dicts, lists and tuples) is on ``device``, and no attribute is a module or a deeper container (which
    may hold tensors this check does not walk).

    Runs on every ``self.log`` call over the metric's ~50 attributes (most of them ``None``, flags and empty hook
    dicts), so scalars are passed over by their exact type, and empty containers at once.
    """
    for value in vars(metric).values():
        if type(value) in _SCALARS:
            continue
        if isinstance(value, (dict, list, tuple)):
            if value:
                for item in value.values() if isinstance(value, dict) else value:
                    if isinstance(item, torch.Tensor):
                        if item.device != device:
                            return False
                    elif isinstance(item, (nn.Module, dict, list, tuple)):
                        return False
        elif isinstance(value, torch.Tensor):
            if value.device != device:
                return False
        elif isinstance(value, nn.Module):
            return False
    return True


def _to(self: _ResultMetric, *args: Any, **kwargs: Any) -> _ResultMetric:
    if len(args) == 1 and not kwargs and isinstance(args[0], torch.device) and resident(self, args[0]):
        return self
    assert _original_to is not None
    return _original_to(self, *args, **kwargs)


def install() -> None:
    """Route ``_ResultMetric.to`` through the resident check (counted: nested trainers install once)."""
    global _original_to, _users
    if _users == 0:
        _original_to = _ResultMetric.to
        _ResultMetric.to = _to
    _users += 1


def uninstall() -> None:
    """Undo :func:`install` when its last user is done."""
    global _original_to, _users
    if _users == 0:
        return
    _users -= 1
    if _users == 0:
        _ResultMetric.to = _original_to
        _original_to = None


class SkipResidentLogMove(pl.Callback):
    """While the Trainer runs (``setup`` to ``teardown``, or to a failure), ``self.log`` skips moving a metric
    that is already on the logged value's device (:func:`resident`). Logged values are unchanged.

    Args:
        enabled: ``false`` leaves Lightning's ``to`` in place.
    """

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self._installed = False

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if self.enabled and not self._installed:
            install()
            self._installed = True

    def teardown(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        if self._installed:
            uninstall()
            self._installed = False

    def on_exception(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, exception: BaseException
    ) -> None:
        # A run that fails between setup and teardown reaches Lightning's `on_exception` only: restore here too,
        # or Lightning's method stays patched for every later Trainer in the process.
        self.teardown(trainer, pl_module, "exception")
