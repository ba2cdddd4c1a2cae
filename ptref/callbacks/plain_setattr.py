"""Let a plain value (a string, number, flag or ``None``) be set on a LightningModule without ``nn.Module``'s checks.

Lightning names the hook it is in by setting ``pl_module._current_fx_name`` before and after every hook it calls:
about fifty assignments per step of a full-batch fit. Each goes through ``nn.Module.__setattr__``, which asks
whether the value is a ``Parameter``, a ``Module`` or a ``Buffer`` (``Parameter`` and ``Buffer`` answer through
Python-level metaclass checks) before it lands where any Python object's attribute would: together more than a
tiny model's forward pass.

For a value of an exact plain type (``str``, ``int``, ``float``, ``bool``, ``None``) under a name that is not a
registered parameter, submodule or buffer, ``nn.Module.__setattr__`` ends in ``object.__setattr__`` (past
``nn.Module`` in the class's method order), having done nothing else. :func:`set_attribute` goes there directly in
exactly that case; every other assignment (a tensor, a module, a registered name, a subclass of a plain type) is
``nn.Module``'s own. While the Trainer runs, :class:`SetPlainAttributesDirectly` makes it ``LightningModule``'s
``__setattr__`` (unless a Lightning version defines one of its own); ``teardown`` (or a failure) takes it away.

TF: ``tf.Module`` tracks variables and submodules when they are assigned too (``__setattr__`` of Keras layers); Keras
calls its training-step function without assigning anything to the model.
"""

from __future__ import annotations

from typing import Any

import lightning.pytorch as pl
from torch import nn

from ptref.callbacks.patching import CountedPatch, PatchWhileRunning

_PLAIN = frozenset({str, int, float, bool, type(None)})  # exact types: a subclass could be a tensor-like
_MODULE_SETATTR = nn.Module.__setattr__


def set_attribute(module: nn.Module, name: str, value: Any) -> None:
    """``nn.Module.__setattr__(module, name, value)``, without its type checks where they cannot change anything."""
    if type(value) in _PLAIN:
        state = module.__dict__
        if (name not in (state.get("_parameters") or ()) and name not in (state.get("_modules") or ())
                and name not in (state.get("_buffers") or ())):
            super(nn.Module, module).__setattr__(name, value)  # where nn.Module's own call ends for such a value
            return
    _MODULE_SETATTR(module, name, value)


def _apply() -> None:
    if "__setattr__" not in vars(pl.LightningModule):  # the shortcut is exact for nn.Module's own method only
        pl.LightningModule.__setattr__ = set_attribute


def _restore() -> None:
    if vars(pl.LightningModule).get("__setattr__") is set_attribute:
        del pl.LightningModule.__setattr__


PATCH = CountedPatch(_apply, _restore)


class SetPlainAttributesDirectly(PatchWhileRunning):
    """While the Trainer runs (``setup`` to ``teardown``, or to a failure), plain values set on any LightningModule
    (Lightning's ``_current_fx_name`` around every hook) skip ``nn.Module``'s registration checks
    (:func:`set_attribute`). Every assignment has the effect it had.

    Args:
        enabled: ``false`` leaves ``nn.Module.__setattr__`` in place.
    """

    patch = PATCH
