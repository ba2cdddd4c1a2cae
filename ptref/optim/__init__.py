"""Keras-exact optimizers for PyTorch: Keras's update rules, argument names and defaults.

Every class is a ``torch.optim.Optimizer`` (so Lightning, ``--optimizer ptref.optim.Adam`` on the CLI and
``state_dict`` checkpoints work as usual) whose step is the Keras formula in its docstring, with Keras's
``clipnorm``/``clipvalue``/``global_clipnorm``, decoupled ``weight_decay`` and ``learning_rate`` schedules
(:mod:`ptref.optim.schedules`). :func:`get` builds one from a Keras name or a Keras optimizer config.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from torch import Tensor
from torch.optim import Optimizer

from ptref.optim import schedules
from ptref.optim.adadelta import Adadelta
from ptref.optim.adafactor import Adafactor
from ptref.optim.adagrad import Adagrad
from ptref.optim.adam import Adam
from ptref.optim.adamax import Adamax
from ptref.optim.adamw import AdamW
from ptref.optim.base import KerasOptimizer, KerasOptions
from ptref.optim.ftrl import Ftrl
from ptref.optim.lamb import Lamb
from ptref.optim.lion import Lion
from ptref.optim.nadam import Nadam
from ptref.optim.rmsprop import RMSprop
from ptref.optim.schedule_free_adamw import ScheduleFreeAdamW
from ptref.optim.sgd import SGD

__all__ = [
    "SGD", "Adadelta", "Adafactor", "Adagrad", "Adam", "AdamW", "Adamax", "Ftrl", "KerasOptimizer", "KerasOptions",
    "Lamb", "Lion", "Nadam", "RMSprop", "ScheduleFreeAdamW", "get", "schedules",
]

# Keras's names (``keras.optimizers.get("adam")``) -> ptref class
OPTIMIZERS: dict[str, type[KerasOptimizer]] = {
    cls.__name__.lower(): cls
    for cls in (SGD, RMSprop, Adam, AdamW, Adagrad, Adadelta, Adamax, Nadam, Ftrl, Lion, Lamb, Adafactor,
                ScheduleFreeAdamW)
}


def _from_keras_config(config: dict[str, Any]) -> dict[str, Any]:
    """Constructor arguments from ``keras.optimizers.serialize(opt)["config"]``."""
    kwargs = dict(config)
    kwargs.pop("name", None)
    if isinstance(kwargs.get("learning_rate"), dict):
        kwargs["learning_rate"] = schedules.deserialize(kwargs["learning_rate"])
    return kwargs


def get(
    identifier: str | dict[str, Any] | type[Optimizer], **overrides: Any
) -> Callable[[Iterable[Tensor]], Optimizer]:
    """A factory ``params -> optimizer`` from a Keras name, a Keras optimizer config, or an optimizer class.

    TF: ``keras.optimizers.get(identifier)``. Examples::

        get("adam")                                   # Keras Adam with Keras defaults
        get("sgd", learning_rate=0.1, momentum=0.9)   # keyword overrides win over everything else
        get(keras.optimizers.serialize(keras_opt))    # {"class_name": "Adam", "config": {...}}
        get(torch.optim.AdamW, lr=1e-3)               # any optimizer class, e.g. a native one

    Keras names are case-insensitive. A config's ``learning_rate`` may itself be a serialized Keras schedule.
    """
    if isinstance(identifier, str):
        cls, kwargs = _keras_class(identifier), {}
    elif isinstance(identifier, dict):
        cls, kwargs = _keras_class(identifier["class_name"]), _from_keras_config(identifier.get("config", {}))
    elif isinstance(identifier, type) and issubclass(identifier, Optimizer):
        cls, kwargs = identifier, {}
    else:
        raise TypeError(f"cannot build an optimizer from {identifier!r}")
    return functools.partial(cls, **{**kwargs, **overrides})


def _keras_class(name: str) -> type[KerasOptimizer]:
    try:
        return OPTIMIZERS[name.lower()]
    except KeyError:
        raise ValueError(f"unknown optimizer {name!r}; Keras names known here: {sorted(OPTIMIZERS)}") from None
