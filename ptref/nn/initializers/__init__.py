"""Keras's weight initializers (``keras.initializers``) for torch tensors, looked up with :func:`get`.

Each initializer fills a tensor in place: ``HeNormal(seed=0)(linear.weight)``, with the fans Keras computes for
the equivalent Keras kernel (``layout="torch"``, the default, reads a torch ``(out, in, *kernel)`` weight as
Keras's ``(*kernel, in, out)``; ``layout="keras"`` takes the tensor's shape as it is; see
:mod:`ptref.nn.initializers.core`). ``init.sample(keras_shape)`` returns a new tensor, as Keras's
``init(shape)`` does. Random initializers take ``seed``: an int (same values every call, global RNG untouched),
a ``torch.Generator``, or None (torch's global RNG). The distributions are Keras's; the random streams are
torch's, so values differ from TensorFlow's draw by draw.
"""

from __future__ import annotations

import inspect
import re
from typing import Any

import numpy as np
import torch

from ptref.nn.initializers.constant_initializers import STFT, Constant, FixedValues, Identity, Ones, Zeros
from ptref.nn.initializers.core import (
    Initializer,
    Layout,
    RandomInitializer,
    compute_fans,
    from_keras_layout,
    keras_fans,
    keras_shape,
    to_keras_layout,
)
from ptref.nn.initializers.keras_init import (
    glorot_normal,
    glorot_uniform,
    he_normal,
    he_uniform,
    keras_init_,
    lecun_normal,
    zeros,
)
from ptref.nn.initializers.random_initializers import (
    TRUNCATED_STD,
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    LecunNormal,
    LecunUniform,
    Orthogonal,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    VarianceScaling,
)

_CLASSES: tuple[type[Initializer], ...] = (
    Initializer, Constant, Identity, Ones, STFT, Zeros, GlorotNormal, GlorotUniform, HeNormal, HeUniform,
    LecunNormal, LecunUniform, Orthogonal, RandomNormal, RandomUniform, TruncatedNormal, VarianceScaling,
)  # fmt: skip


def _snake_case(name: str) -> str:
    """Keras's ``to_snake_case``: ``GlorotUniform`` -> ``glorot_uniform``, ``STFT`` -> ``stft``."""
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


# Every name keras.initializers.get accepts: class names, their snake_case and Keras's aliases.
NAMES: dict[str, type[Initializer]] = {
    **{cls.__name__: cls for cls in _CLASSES},
    **{_snake_case(cls.__name__): cls for cls in _CLASSES},
    "IdentityInitializer": Identity,
    "OrthogonalInitializer": Orthogonal,
    "STFTInitializer": STFT,
    "normal": RandomNormal,
    "uniform": RandomUniform,
    "one": Ones,
    "zero": Zeros,
}


def get(identifier: Any) -> Initializer | Any:
    """An initializer from what ``keras.initializers.get`` accepts.

    - a name (case-sensitive, e.g. ``"he_normal"``, ``"HeNormal"``, ``"zero"``): that class with Keras's defaults;
    - a Keras config ``{"class_name": "VarianceScaling", "config": {"scale": 2.0, ...}}`` (``keras.initializers.
      serialize``'s output), or a Keras initializer object: the same class with the same arguments;
    - an ``Initializer`` class: an instance with defaults; an instance or any callable: returned as is;
    - an array or tensor in the Keras shape: an initializer that copies exactly those values;
    - None: None.
    """
    if identifier is None:
        return None
    if isinstance(identifier, str):
        return _from_name(identifier, {})
    if isinstance(identifier, dict):
        if "class_name" not in identifier:
            raise ValueError(f"initializer config needs a 'class_name' key, got keys {sorted(identifier)}")
        return _from_name(identifier["class_name"], identifier.get("config") or {})
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if isinstance(identifier, (torch.Tensor, np.ndarray, np.generic)):
        return FixedValues(torch.as_tensor(identifier))
    if type(identifier).__module__.startswith("keras") and hasattr(identifier, "get_config"):
        return _from_keras_object(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"could not interpret initializer identifier {identifier!r}")


def _from_keras_object(initializer: Any) -> Initializer:
    """The ptref twin of a Keras initializer object: its config, completed by attributes it leaves out (Keras's
    ``Identity.get_config`` omits ``gain``)."""
    cls = NAMES.get(type(initializer).__name__)
    if cls is None:
        raise ValueError(f"no ptref twin for the Keras initializer {type(initializer).__name__}")
    parameters = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    config = {p: getattr(initializer, p) for p in parameters if hasattr(initializer, p) and p != "seed"}
    return cls.from_config({**config, **initializer.get_config()})


def _from_name(name: str, config: dict[str, Any]) -> Initializer:
    if name not in NAMES:
        raise ValueError(f"unknown initializer {name!r}; known names: {', '.join(sorted(NAMES))}")
    return NAMES[name].from_config(config)


__all__ = [
    "NAMES",
    "STFT",
    "TRUNCATED_STD",
    "Constant",
    "FixedValues",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Identity",
    "Initializer",
    "Layout",
    "LecunNormal",
    "LecunUniform",
    "Ones",
    "Orthogonal",
    "RandomInitializer",
    "RandomNormal",
    "RandomUniform",
    "TruncatedNormal",
    "VarianceScaling",
    "Zeros",
    "compute_fans",
    "from_keras_layout",
    "get",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "keras_fans",
    "keras_init_",
    "keras_shape",
    "lecun_normal",
    "to_keras_layout",
    "zeros",
]
