"""Keras layer semantics for torch modules: initializers, TF 'same' padding and pooling, normalization, recurrent
layers, layouts, Dropout, and Conv2D/Dense computed by oneDNN."""

from ptref.nn.batchnorm import BatchNormalization
from ptref.nn.dropout import Dropout
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
from ptref.nn.normalization import LayerNormalization
from ptref.nn.onednn import Conv2dReLU, Dense
from ptref.nn.padding import Conv1dSame, Conv2dSame, Conv3dSame, pad_same, same_padding
from ptref.nn.pooling import AvgPool1dSame, AvgPool2dSame, AvgPool3dSame, MaxPool1dSame, MaxPool2dSame, MaxPool3dSame
from ptref.nn.recurrent import GRU, LSTM, SimpleRNN

__all__ = [
    "AvgPool1dSame",
    "AvgPool2dSame",
    "AvgPool3dSame",
    "BatchNormalization",
    "Conv1dSame",
    "Conv2dSame",
    "Conv2dReLU",
    "Conv3dSame",
    "Dense",
    "Dropout",
    "FlattenChannelsLast",
    "GRU",
    "LSTM",
    "LayerNormalization",
    "MaxPool1dSame",
    "MaxPool2dSame",
    "MaxPool3dSame",
    "SimpleRNN",
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
