"""Keras-exact optimizers for PyTorch: Keras's update rules, argument names and defaults.

Every class is a ``torch.optim.Optimizer`` (so Lightning, ``--optimizer ptref.optim.Adam`` on the CLI and
``state_dict`` checkpoints work as usual) whose step is the Keras formula in its docstring, with Keras's
``clipnorm``/``clipvalue``/``global_clipnorm``, decoupled ``weight_decay`` and ``learning_rate`` schedules
(:mod:`ptref.optim.schedules`). :func:`get` builds one from a Keras name or a Keras optimizer config;
:func:`serialize` / :func:`deserialize` are Keras's (the same dicts as ``keras.optimizers.serialize``).

``keras.optimizers.MultiOptimizer`` / ``OptimizerMap`` (each variable to the optimizer its path maps to) have no
class here: with one optimizer class, ``torch`` param groups give each group its own hyper-parameters; with
several, return them all from ``configure_optimizers`` and step each in a ``training_step`` with
``automatic_optimization = False`` (Lightning's multiple optimizers), after ``optimizer.scale_loss`` if a loss
scale is set.
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
from ptref.optim.base import KerasOptimizer, KerasOptions, Params
from ptref.optim.ftrl import Ftrl
from ptref.optim.lamb import Lamb
from ptref.optim.lion import Lion
from ptref.optim.loss_scale import LossScaleOptimizer
from ptref.optim.muon import Muon
from ptref.optim.nadam import Nadam
from ptref.optim.rmsprop import RMSprop
from ptref.optim.schedule_free_adamw import ScheduleFreeAdamW
from ptref.optim.sgd import SGD

__all__ = [
    "SGD", "Adadelta", "Adafactor", "Adagrad", "Adam", "AdamW", "Adamax", "Ftrl", "KerasOptimizer", "KerasOptions",
    "Lamb", "Lion", "LossScaleOptimizer", "Muon", "Nadam", "RMSprop", "ScheduleFreeAdamW", "deserialize", "get",
    "schedules", "serialize",
]

# Keras's names (``keras.optimizers.get("adam")``) -> ptref class
OPTIMIZERS: dict[str, type[KerasOptimizer]] = {
    cls.__name__.lower(): cls
    for cls in (SGD, RMSprop, Adam, AdamW, Adagrad, Adadelta, Adamax, Nadam, Ftrl, Lion, Lamb, Adafactor,
                ScheduleFreeAdamW, Muon)
}


def _from_keras_config(config: dict[str, Any]) -> dict[str, Any]:
    """Constructor arguments from ``keras.optimizers.serialize(opt)["config"]``."""
    kwargs = dict(config)
    if isinstance(kwargs.get("learning_rate"), dict):
        kwargs["learning_rate"] = schedules.deserialize(kwargs["learning_rate"])
    return kwargs


def serialize(optimizer: KerasOptimizer | LossScaleOptimizer) -> dict[str, Any]:
    """``keras.optimizers.serialize`` of the Keras twin: ``{"module", "class_name", "config", "registered_name"}``.

    ``config`` is :meth:`~ptref.optim.base.KerasOptimizer.get_config` (Keras's keys and values); a learning-rate
    schedule is serialized inside it as ``keras.optimizers.schedules.serialize`` does.
    """
    if not hasattr(optimizer, "get_config"):
        raise TypeError(f"{type(optimizer).__name__} is not a ptref Keras optimizer: it has no Keras config")
    return {"module": "keras.optimizers", "class_name": type(optimizer).__name__, "config": optimizer.get_config(),
            "registered_name": None}


def deserialize(config: dict[str, Any], params: Params) -> Optimizer:
    """``keras.optimizers.deserialize(config)`` on ``params`` (a torch optimizer is built on its parameters).

    ``config`` is ``keras.optimizers.serialize(...)`` of a Keras optimizer or :func:`serialize` of a ptref one;
    class names are case-insensitive, as in Keras. A ``LossScaleOptimizer`` config builds its inner optimizer on
    ``params`` too.
    """
    if config["class_name"].lower() == "lossscaleoptimizer":
        inner = dict(config["config"])
        return LossScaleOptimizer(deserialize(inner.pop("inner_optimizer"), params), **inner)
    return get(config)(params)


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
    if isinstance(identifier, dict) and identifier["class_name"].lower() == "lossscaleoptimizer":
        if overrides:
            raise TypeError(f"get(LossScaleOptimizer config) takes no overrides, got {sorted(overrides)}")
        return functools.partial(deserialize, identifier)
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
