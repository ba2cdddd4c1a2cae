"""Let Lightning read a hook's signature once per function, not on every ``self.log`` call and every step.

Lightning asks whether a parameter is in a hook's signature (``is_param_in_hook_signature``) on hot paths:
``LightningModule.log`` asks whether ``training_step`` takes ``dataloader_iter`` on every call during training,
and the training loop asks whether it takes ``batch_idx`` on every step. Each answer runs
``inspect.getfullargspec``, which builds a full ``inspect.Signature``: it costs more than a tiny model's forward
pass, and a full-batch fit that logs four values an epoch asks five times a step.

A function's parameters are fixed by its code object, so :class:`CacheHookSignatures` keeps each answer per
function (weakly: a function that goes away takes its answers with it), keyed by the question, the function's
code object and what it wraps (a reassigned ``__code__`` or ``__wrapped__`` asks Lightning again). Anything that
is not a plain function or method (a ``functools.partial``, a callable object) goes to Lightning every time.
While the Trainer runs, the two hot call sites (``lightning.pytorch.core.module`` and
``lightning.pytorch.loops.training_epoch_loop``, which import the function by name) see the cached version;
``teardown`` puts Lightning's back.

TF: Keras inspects ``call``'s signature once, when a layer is built (``Layer._call_spec``), not per call.
"""

from __future__ import annotations

import types
import weakref
from collections.abc import Callable
from typing import Any

from lightning.pytorch.core import module as core_module
from lightning.pytorch.loops import training_epoch_loop
from lightning.pytorch.utilities import signature_utils

from ptref.callbacks.patching import CountedPatch, PatchWhileRunning

HOT_MODULES = (core_module, training_epoch_loop)  # modules whose per-call use of the function is replaced
_answers: weakref.WeakKeyDictionary[Callable[..., Any], dict[tuple, bool]] = weakref.WeakKeyDictionary()


def is_param_in_hook_signature(
    hook_fx: Callable[..., Any], param: str, explicit: bool = False, min_args: int | None = None
) -> bool:
    """Lightning's ``is_param_in_hook_signature(hook_fx, param, explicit, min_args)``, answered once per function."""
    function = hook_fx.__func__ if isinstance(hook_fx, types.MethodType) else hook_fx
    if not isinstance(function, types.FunctionType):
        return signature_utils.is_param_in_hook_signature(hook_fx, param, explicit, min_args)
    key = (param, explicit, min_args, id(function.__code__), id(getattr(function, "__wrapped__", None)))
    answers = _answers.setdefault(function, {})
    if key not in answers:
        answers[key] = signature_utils.is_param_in_hook_signature(hook_fx, param, explicit, min_args)
    return answers[key]


def _point_hot_modules_at(function: Callable[..., bool]) -> None:
    for module in HOT_MODULES:
        module.is_param_in_hook_signature = function


PATCH = CountedPatch(lambda: _point_hot_modules_at(is_param_in_hook_signature),
                     lambda: _point_hot_modules_at(signature_utils.is_param_in_hook_signature))


class CacheHookSignatures(PatchWhileRunning):
    """While the Trainer runs (``setup`` to ``teardown``, or to a failure), Lightning's per-call signature checks
    are answered once per function (:func:`is_param_in_hook_signature`). Every answer is Lightning's own.

    Args:
        enabled: ``false`` leaves Lightning's function in place.
    """

    patch = PATCH
