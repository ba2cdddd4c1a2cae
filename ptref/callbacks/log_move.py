"""Skip the device move Lightning makes on every ``self.log`` call when the logged metric is already there.

Lightning's ``_ResultCollection.log`` calls ``_ResultMetric.to(value.device)`` on every call. That ``to`` rebuilds
the metric's whole ``__dict__`` through ``apply_to_collection`` (deep-copying its metadata dataclass on the way),
which costs more than the rest of the ``log`` call and than a small model's whole forward pass. When every tensor
the metric holds already sits on that device the move changes nothing, so :class:`SkipResidentLogMove` answers
those calls at once and leaves every other call (another device, a dtype, keyword arguments, a metric holding
anything it cannot see through) to Lightning's own ``to``.
"""

from __future__ import annotations

from typing import Any

import torch
from lightning.pytorch.trainer.connectors.logger_connector.result import _ResultMetric
from torch import nn

from ptref.callbacks.patching import CountedPatch, PatchWhileRunning

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
    return _LIGHTNINGS_TO(self, *args, **kwargs)


_LIGHTNINGS_TO = _ResultMetric.to


def _apply() -> None:
    _ResultMetric.to = _to


def _restore() -> None:
    _ResultMetric.to = _LIGHTNINGS_TO


PATCH = CountedPatch(_apply, _restore)
install, uninstall = PATCH.install, PATCH.uninstall  # ``_ResultMetric.to`` through the resident check, and back


class SkipResidentLogMove(PatchWhileRunning):
    """While the Trainer runs (``setup`` to ``teardown``, or to a failure), ``self.log`` skips moving a metric
    that is already on the logged value's device (:func:`resident`). Logged values are unchanged.

    Args:
        enabled: ``false`` leaves Lightning's ``to`` in place.
    """

    patch = PATCH
