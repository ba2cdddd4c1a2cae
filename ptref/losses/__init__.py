"""Keras's losses for PyTorch, with Keras's names, defaults and semantics: ``from_logits``, clipping
probabilities at 1e-7, ``label_smoothing``, reductions (``sum_over_batch_size`` by default), ``sample_weight``
divided by the batch size, masks, ``dtype``.

As in Keras, the functions (``mean_squared_error``, ``binary_crossentropy``, ...) return one loss per sample and
the ``nn.Module`` classes (``MeanSquaredError``, ...) reduce. Both take ``(y_true, y_pred)``, Keras's order.
``get("mse")``, ``get("Huber")`` and ``get({"class_name": ..., "config": ...})`` resolve as ``keras.losses.get``.
"""

from __future__ import annotations

from ptref.losses.base import Loss, LossFunctionWrapper
from ptref.losses.functional import *  # noqa: F403  (every Keras loss function)
from ptref.losses.functional import __all__ as _functions
from ptref.losses.functional import (
    binary_crossentropy,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
)
from ptref.losses.modules import (
    CTC,
    BinaryCrossentropy,
    BinaryFocalCrossentropy,
    CategoricalCrossentropy,
    CategoricalFocalCrossentropy,
    CategoricalGeneralizedCrossEntropy,
    CategoricalHinge,
    Circle,
    CosineSimilarity,
    Dice,
    Hinge,
    Huber,
    KLDivergence,
    LogCosh,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    Poisson,
    SparseCategoricalCrossentropy,
    SquaredHinge,
    Tversky,
)
from ptref.losses.reduction import reduce_weighted
from ptref.losses.registry import ALIASES, deserialize, get, serialize

# The short names Keras's get() knows (ALIASES; tf.keras 2 exported them too), and Keras 2's long names for two.
bce = BCE = binary_crossentropy
kld = KLD = kullback_leibler_divergence = kl_divergence
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
mse = MSE = mean_squared_error
msle = MSLE = mean_squared_logarithmic_error
logcosh = log_cosh

__all__ = [
    "CTC", "BinaryCrossentropy", "BinaryFocalCrossentropy", "CategoricalCrossentropy", "CategoricalFocalCrossentropy",
    "CategoricalGeneralizedCrossEntropy", "CategoricalHinge", "Circle", "CosineSimilarity", "Dice", "Hinge", "Huber",
    "KLDivergence", "LogCosh", "Loss", "LossFunctionWrapper", "MeanAbsoluteError", "MeanAbsolutePercentageError",
    "MeanSquaredError", "MeanSquaredLogarithmicError", "Poisson", "SparseCategoricalCrossentropy", "SquaredHinge",
    "Tversky", *_functions, *ALIASES, "kullback_leibler_divergence", "logcosh", "deserialize", "get",
    "reduce_weighted", "serialize",
]
