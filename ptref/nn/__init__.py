"""Keras layer semantics for torch modules: initializers, TF 'same' padding, BatchNormalization, layouts."""

from ptref.nn.initializers import (
    glorot_normal,
    glorot_uniform,
    he_normal,
    he_uniform,
    keras_init_,
    lecun_normal,
    zeros,
)

__all__ = [
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "keras_init_",
    "lecun_normal",
    "zeros",
]
