"""Keras's losses for PyTorch, with Keras's semantics: ``from_logits``, clipping probabilities at 1e-7,
``label_smoothing``, reductions (``sum_over_batch_size`` by default) and ``sample_weight`` divided by the batch
size. Functions and ``nn.Module`` classes both take ``(y_true, y_pred)``, Keras's order.

``"mse"``, ``"binary_crossentropy"``... resolve with :func:`get`, as ``keras.losses.get`` does.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor

from ptref.losses.functional import (
    binary_crossentropy,
    categorical_crossentropy,
    huber,
    log_loss,
    mean_squared_error,
    poisson,
    sparse_categorical_crossentropy,
)
from ptref.losses.modules import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    Huber,
    MeanSquaredError,
    Poisson,
    SparseCategoricalCrossentropy,
)
from ptref.losses.reduction import reduce_weighted

__all__ = [
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "Huber",
    "MeanSquaredError",
    "Poisson",
    "SparseCategoricalCrossentropy",
    "binary_crossentropy",
    "categorical_crossentropy",
    "get",
    "huber",
    "log_loss",
    "mean_squared_error",
    "poisson",
    "reduce_weighted",
    "sparse_categorical_crossentropy",
]

_BY_NAME: dict[str, Callable[..., Tensor]] = {
    "mean_squared_error": mean_squared_error,
    "mse": mean_squared_error,
    "poisson": poisson,
    "huber": huber,
    "binary_crossentropy": binary_crossentropy,
    "categorical_crossentropy": categorical_crossentropy,
    "sparse_categorical_crossentropy": sparse_categorical_crossentropy,
    "log_loss": log_loss,
}


def get(name: str) -> Callable[..., Tensor]:
    """The loss function for a Keras loss name (``model.compile(loss="mse")``). TF: ``keras.losses.get``."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown loss {name!r}; known: {sorted(_BY_NAME)}") from None
