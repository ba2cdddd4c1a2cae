"""Losses by name or config, as ``keras.losses.get`` / ``serialize`` / ``deserialize``.

``get("mse")`` gives the per-sample *function*, ``get("MeanSquaredError")`` an *instance* of the class with its
defaults, ``get({"class_name": "Huber", "config": {"delta": 2.0}})`` an instance configured so (the dicts
``keras.losses.serialize`` writes are accepted as they are). The names are exactly Keras 3's: class names,
function names, and ``bce``/``kld``/``mae``/``mape``/``mse``/``msle`` in lower and upper case.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from ptref.losses import functional, modules
from ptref.losses.base import Loss

_FUNCTIONS = {name: getattr(functional, name) for name in functional.__all__ if name != "log_loss"}
_CLASSES = {cls.__name__: cls for cls in vars(modules).values()
            if inspect.isclass(cls) and issubclass(cls, Loss) and cls.__module__ == modules.__name__}
ALIASES = {
    "bce": functional.binary_crossentropy, "BCE": functional.binary_crossentropy,
    "kld": functional.kl_divergence, "KLD": functional.kl_divergence,
    "mae": functional.mean_absolute_error, "MAE": functional.mean_absolute_error,
    "mse": functional.mean_squared_error, "MSE": functional.mean_squared_error,
    "mape": functional.mean_absolute_percentage_error, "MAPE": functional.mean_absolute_percentage_error,
    "msle": functional.mean_squared_logarithmic_error, "MSLE": functional.mean_squared_logarithmic_error,
}
ALL_OBJECTS: dict[str, Callable[..., Any]] = {"Loss": Loss, **_CLASSES, **_FUNCTIONS, **ALIASES}
_KERAS2_NAMES = {"kullback_leibler_divergence": "kl_divergence", "logcosh": "log_cosh"}


def _unknown(identifier: object) -> ValueError:
    hint = f" (Keras 3 calls it {_KERAS2_NAMES[identifier]!r})" if identifier in _KERAS2_NAMES else ""
    return ValueError(f"could not interpret loss identifier {identifier!r}{hint}; known names: {sorted(ALL_OBJECTS)}")


def serialize(loss: Loss | Callable[..., Any]) -> dict[str, Any]:
    """The config dict of a loss instance or function, in ``keras.losses.serialize``'s layout."""
    if isinstance(loss, Loss):
        return {"module": "keras.losses", "class_name": type(loss).__name__, "config": loss.get_config(),
                "registered_name": None}
    name = getattr(loss, "__name__", None)
    if _FUNCTIONS.get(name) is not loss:
        raise ValueError(f"cannot serialize {loss!r}: not a ptref.losses loss instance or function")
    return {"module": "builtins", "class_name": "function", "config": name, "registered_name": "function"}


def deserialize(config: dict[str, Any] | str) -> Loss | Callable[..., Any]:
    """A loss from :func:`serialize`'s (or Keras's) dict, or from a name."""
    if isinstance(config, str):
        if config not in ALL_OBJECTS:
            raise _unknown(config)
        return ALL_OBJECTS[config]
    if not isinstance(config, dict) or "class_name" not in config:
        raise _unknown(config)
    if config["class_name"] == "function":
        return deserialize(config["config"])
    cls = ALL_OBJECTS.get(config["class_name"])
    if not (inspect.isclass(cls) and issubclass(cls, Loss)):
        raise _unknown(config["class_name"])
    return cls.from_config(config.get("config") or {})


def get(identifier: str | dict[str, Any] | Loss | Callable[..., Any] | None) -> Loss | Callable[..., Any] | None:
    """The loss for ``model.compile(loss=...)``'s argument, as ``keras.losses.get``: ``None`` stays ``None``; a
    name or config dict is looked up (a class name gives an instance); a callable is returned as it is (a class
    is instantiated)."""
    if identifier is None:
        return None
    obj = deserialize(identifier) if isinstance(identifier, (str, dict)) else identifier
    if not callable(obj):
        raise _unknown(identifier)
    return obj() if inspect.isclass(obj) else obj
