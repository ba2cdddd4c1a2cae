"""Every Keras loss function in one namespace, as ``keras.losses.<name>(y_true, y_pred)``: one value per sample.

As in Keras, the functions do not reduce over the batch and take no ``sample_weight``: for the number Keras
trains on (weights, masks, ``sum_over_batch_size``) use the class of the same name in :mod:`ptref.losses.modules`.
The implementations live by family: regression, crossentropy, probabilistic, hinge, segmentation, similarity,
sequence.
"""

from __future__ import annotations

from ptref.losses.crossentropy import (
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_generalized_cross_entropy,
    sparse_categorical_crossentropy,
)
from ptref.losses.hinge import categorical_hinge, hinge, squared_hinge
from ptref.losses.probabilistic import kl_divergence, log_loss, poisson
from ptref.losses.regression import (
    cosine_similarity,
    huber,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
)
from ptref.losses.segmentation import dice, tversky
from ptref.losses.sequence import ctc
from ptref.losses.similarity import circle

__all__ = [
    "binary_crossentropy",
    "binary_focal_crossentropy",
    "categorical_crossentropy",
    "categorical_focal_crossentropy",
    "categorical_generalized_cross_entropy",
    "categorical_hinge",
    "circle",
    "cosine_similarity",
    "ctc",
    "dice",
    "hinge",
    "huber",
    "kl_divergence",
    "log_cosh",
    "log_loss",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_error",
    "mean_squared_logarithmic_error",
    "poisson",
    "sparse_categorical_crossentropy",
    "squared_hinge",
    "tversky",
]
