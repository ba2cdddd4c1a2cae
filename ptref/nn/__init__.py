"""Keras layer semantics for torch modules: initializers, TF 'same' padding and pooling, normalization, recurrent
layers, layouts, Dropout, Conv2D/Dense computed by oneDNN, and the Keras layers ``ptref.port`` translates to
(merges, shapes, preprocessing)."""

from ptref.nn.activation import ReLU
from ptref.nn.batchnorm import BatchNormalization
from ptref.nn.bidirectional import Bidirectional
from ptref.nn.convolution import ConvTranspose2d, SeparableConv2d
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
from ptref.nn.merge import Add, Average, Concatenate, Maximum, Minimum, Multiply, Subtract
from ptref.nn.normalization import LayerNormalization
from ptref.nn.onednn import Conv2dReLU, Dense
from ptref.nn.padding import Conv1dSame, Conv2dSame, Conv3dSame, pad_same, same_padding
from ptref.nn.pooling import AvgPool1dSame, AvgPool2dSame, AvgPool3dSame, MaxPool1dSame, MaxPool2dSame, MaxPool3dSame
from ptref.nn.preprocessing import Normalization, Rescaling
from ptref.nn.recurrent import GRU, LSTM, SimpleRNN
from ptref.nn.reshaping import Crop, GlobalAveragePooling, GlobalMaxPooling, Permute, Reshape

__all__ = [
    "GRU",
    "LSTM",
    "Add",
    "Average",
    "AvgPool1dSame",
    "AvgPool2dSame",
    "AvgPool3dSame",
    "BatchNormalization",
    "Bidirectional",
    "Concatenate",
    "Conv1dSame",
    "Conv2dSame",
    "Conv2dReLU",
    "Conv3dSame",
    "ConvTranspose2d",
    "Crop",
    "Dense",
    "Dropout",
    "FlattenChannelsLast",
    "GlobalAveragePooling",
    "GlobalMaxPooling",
    "LayerNormalization",
    "MaxPool1dSame",
    "MaxPool2dSame",
    "MaxPool3dSame",
    "Maximum",
    "Minimum",
    "Multiply",
    "Normalization",
    "Permute",
    "ReLU",
    "Rescaling",
    "Reshape",
    "SeparableConv2d",
    "SimpleRNN",
    "Subtract",
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
