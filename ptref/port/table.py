"""THE translation table: Keras layer class name -> translator (``ptref.port.weighted``/``unweighted``)."""

from __future__ import annotations

from collections.abc import Callable

from ptref.port import unweighted as u
from ptref.port import weighted as w
from ptref.port.layers import Site, Translation

TRANSLATORS: dict[str, Callable[[Site], Translation]] = {
    "Dense": w.dense,
    "Conv1D": w.conv,
    "Conv2D": w.conv,
    "Conv2DTranspose": w.conv_transpose,
    "DepthwiseConv2D": w.depthwise_conv,
    "SeparableConv2D": w.separable_conv,
    "MaxPooling1D": w.pooling,
    "MaxPooling2D": w.pooling,
    "AveragePooling1D": w.pooling,
    "AveragePooling2D": w.pooling,
    "GlobalAveragePooling1D": w.global_pooling,
    "GlobalAveragePooling2D": w.global_pooling,
    "GlobalMaxPooling1D": w.global_pooling,
    "GlobalMaxPooling2D": w.global_pooling,
    "BatchNormalization": w.batch_normalization,
    "LayerNormalization": w.layer_normalization,
    "Embedding": w.embedding,
    "SimpleRNN": w.recurrent,
    "LSTM": w.recurrent,
    "GRU": w.recurrent,
    "Bidirectional": w.bidirectional,
    "Activation": u.activation,
    "ReLU": u.relu,
    "LeakyReLU": u.leaky_relu,
    "ELU": u.elu,
    "Softmax": u.softmax,
    "Dropout": u.dropout,
    "Flatten": u.flatten,
    "Reshape": u.reshape,
    "Permute": u.permute,
    "ZeroPadding1D": u.zero_padding,
    "ZeroPadding2D": u.zero_padding,
    "Cropping1D": u.cropping,
    "Cropping2D": u.cropping,
    "UpSampling1D": u.upsampling,
    "UpSampling2D": u.upsampling,
    "Rescaling": u.rescaling,
    "Normalization": u.normalization,
    "Add": u.merge,
    "Subtract": u.merge,
    "Multiply": u.merge,
    "Average": u.merge,
    "Maximum": u.merge,
    "Minimum": u.merge,
    "Concatenate": u.concatenate,
}
