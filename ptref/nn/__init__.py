"""Keras layer semantics for torch modules: initializers, TF 'same' padding, BatchNormalization, layouts."""

from ptref.nn.batchnorm import BatchNormalization
from ptref.nn.initializers import (
    glorot_normal,
    glorot_uniform,
    he_normal,
    he_uniform,
    keras_init_,
    lecun_normal,
    zeros,
)
from ptref.nn.layout import (
    FlattenChannelsLast,
    conv_kernel_to_torch,
    dense_kernel_to_linear,
    flattened_dense_kernel_to_linear,
    nchw_to_nhwc,
    nhwc_to_nchw,
)
from ptref.nn.padding import Conv2dSame, MaxPool2dSame, pad_same, same_padding

__all__ = [
    "BatchNormalization",
    "Conv2dSame",
    "FlattenChannelsLast",
    "MaxPool2dSame",
    "conv_kernel_to_torch",
    "dense_kernel_to_linear",
    "flattened_dense_kernel_to_linear",
    "glorot_normal",
    "glorot_uniform",
    "he_normal",
    "he_uniform",
    "keras_init_",
    "lecun_normal",
    "nchw_to_nhwc",
    "nhwc_to_nchw",
    "pad_same",
    "same_padding",
    "zeros",
]
