"""The Keras model zoo ``ptref.port`` is checked on, built offline with random weights (random BatchNormalization
statistics and biases too, so inference uses every weight): models in the style of the keras.io examples and
blocks of the well-known image classifiers, small enough for a CPU test.

Each builder returns ``(model, example_inputs)``: a Keras model and a list of NumPy inputs (channels last, as
Keras takes them). ``ZOO`` lists them by name; the port's tests and the training-setup tests both use it.
"""

from __future__ import annotations

from collections.abc import Callable

import keras
import numpy as np
from keras import layers

Built = tuple[keras.Model, list[np.ndarray]]
BATCH = 4


def randomize(model: keras.Model, seed: int) -> keras.Model:
    """Every float weight moved off its initial value (biases and betas nonzero, gammas around 1), variances in
    [0.5, 1.5]: a port that drops or swaps any of them shows in the outputs."""
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        value = np.asarray(variable)
        if not np.issubdtype(value.dtype, np.floating):
            continue
        if variable.name in ("moving_variance", "variance"):
            value = rng.uniform(0.5, 1.5, value.shape)
        else:
            value = value + rng.normal(0.0, 0.1, value.shape)
        variable.assign(value.astype(value.dtype))
    for layer in model.layers:
        if isinstance(layer, layers.Normalization):  # its call uses mean/variance copied from the variables
            layer.finalize_state()
    return model


def images(shape: tuple[int, ...], seed: int) -> list[np.ndarray]:
    return [np.random.default_rng(seed).normal(size=(BATCH, *shape)).astype("float32")]


def tokens(length: int, vocabulary: int, seed: int) -> list[np.ndarray]:
    return [np.random.default_rng(seed).integers(0, vocabulary, size=(BATCH, length)).astype("int32")]


def mnist_convnet() -> Built:
    """keras.io "Simple MNIST convnet" (a Sequential), fewer filters."""
    model = keras.Sequential(
        [
            keras.Input((28, 28, 1)),
            layers.Conv2D(8, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Conv2D(16, 3, activation="relu"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ],
        name="mnist_convnet",
    )
    return randomize(model, 1), images((28, 28, 1), 1)


def timeseries_classifier() -> Built:
    """keras.io "Timeseries classification from scratch": Conv1D-BN-ReLU x3, global average pooling."""
    inputs = keras.Input((64, 1))
    x = inputs
    for _ in range(3):
        x = layers.Conv1D(16, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
    x = layers.GlobalAveragePooling1D()(x)
    outputs = layers.Dense(2, activation="softmax")(x)
    return randomize(keras.Model(inputs, outputs, name="timeseries_classifier"), 2), images((64, 1), 2)


def text_cnn() -> Built:
    """keras.io "Text classification from scratch": Embedding, strided Conv1D x2, GlobalMaxPooling1D."""
    inputs = keras.Input((40,), dtype="int32")
    x = layers.Embedding(100, 16)(inputs)
    x = layers.Dropout(0.5)(x)
    x = layers.Conv1D(16, 7, padding="valid", activation="relu", strides=3)(x)
    x = layers.Conv1D(16, 3, padding="valid", activation="relu", strides=1)(x)
    x = layers.GlobalMaxPooling1D()(x)
    x = layers.Dense(16, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(1, activation="sigmoid", name="predictions")(x)
    return randomize(keras.Model(inputs, outputs, name="text_cnn"), 3), tokens(40, 100, 3)


def bidirectional_lstm() -> Built:
    """keras.io "Bidirectional LSTM on IMDB": Embedding, two Bidirectional LSTMs."""
    inputs = keras.Input((20,), dtype="int32")
    x = layers.Embedding(100, 16)(inputs)
    x = layers.Bidirectional(layers.LSTM(8, return_sequences=True))(x)
    x = layers.Bidirectional(layers.LSTM(8))(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    return randomize(keras.Model(inputs, outputs, name="bidirectional_lstm"), 4), tokens(20, 100, 4)


def toy_resnet() -> Built:
    """keras.io functional API guide's "toy ResNet": skip connections (Add) plus a Concatenate of two branches."""
    inputs = keras.Input((32, 32, 3), name="img")
    x = layers.Rescaling(1.0 / 4.0)(inputs)
    x = layers.Conv2D(8, 3, activation="relu")(x)
    x = layers.Conv2D(16, 3, activation="relu")(x)
    block_1_output = layers.MaxPooling2D(3)(x)
    x = layers.Conv2D(16, 3, activation="relu", padding="same")(block_1_output)
    x = layers.Conv2D(16, 3, activation="relu", padding="same")(x)
    block_2_output = layers.add([x, block_1_output])
    wide = layers.Conv2D(8, 1, activation="relu")(block_2_output)
    narrow = layers.Conv2D(8, 3, padding="same", activation="relu")(block_2_output)
    x = layers.Concatenate()([wide, narrow])
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(16, activation="relu")(x)
    outputs = layers.Dense(10)(x)
    return randomize(keras.Model(inputs, outputs, name="toy_resnet"), 5), images((32, 32, 3), 5)


def resnet_block() -> Built:
    """ResNet's stem (ZeroPadding, 7x7/2 conv, BN, ReLU, padded 3x3/2 max pool) and a strided residual block
    with a projection shortcut (keras.applications.resnet's ``block1``)."""
    inputs = keras.Input((32, 32, 3))
    x = layers.ZeroPadding2D(((3, 3), (3, 3)))(inputs)
    x = layers.Conv2D(8, 7, strides=2)(x)
    x = layers.BatchNormalization(epsilon=1.001e-5)(x)
    x = layers.Activation("relu")(x)
    x = layers.ZeroPadding2D(((1, 1), (1, 1)))(x)
    x = layers.MaxPooling2D(3, strides=2)(x)
    shortcut = layers.Conv2D(16, 1, strides=2)(x)
    shortcut = layers.BatchNormalization(epsilon=1.001e-5)(shortcut)
    y = layers.Conv2D(8, 1, strides=2)(x)
    y = layers.BatchNormalization(epsilon=1.001e-5)(y)
    y = layers.Activation("relu")(y)
    y = layers.Conv2D(8, 3, padding="same")(y)
    y = layers.BatchNormalization(epsilon=1.001e-5)(y)
    y = layers.Activation("relu")(y)
    y = layers.Conv2D(16, 1)(y)
    y = layers.BatchNormalization(epsilon=1.001e-5)(y)
    x = layers.Add()([shortcut, y])
    x = layers.Activation("relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    return randomize(keras.Model(inputs, outputs, name="resnet_block"), 6), images((32, 32, 3), 6)


def mobilenetv2_block() -> Built:
    """MobileNetV2's stem and inverted residuals (keras.applications.mobilenet_v2): 1x1 expansion, ReLU(6),
    padded strided DepthwiseConv2D, linear 1x1 projection, Add on the stride-1 block."""
    inputs = keras.Input((32, 32, 3))
    x = layers.Conv2D(8, 3, strides=2, padding="same", use_bias=False)(inputs)
    x = layers.BatchNormalization(epsilon=1e-3, momentum=0.999)(x)
    x = layers.ReLU(6.0)(x)
    for stride, name in ((2, "block_1"), (1, "block_2")):
        y = layers.Conv2D(48, 1, use_bias=False, name=f"{name}_expand")(x)
        y = layers.BatchNormalization(name=f"{name}_expand_BN")(y)
        y = layers.ReLU(6.0, name=f"{name}_expand_relu")(y)
        if stride == 2:
            y = layers.ZeroPadding2D(((0, 1), (0, 1)), name=f"{name}_pad")(y)
        padding = "valid" if stride == 2 else "same"
        y = layers.DepthwiseConv2D(3, strides=stride, padding=padding, use_bias=False, name=f"{name}_depthwise")(y)
        y = layers.BatchNormalization(name=f"{name}_depthwise_BN")(y)
        y = layers.ReLU(6.0, name=f"{name}_depthwise_relu")(y)
        y = layers.Conv2D(8, 1, use_bias=False, name=f"{name}_project")(y)
        y = layers.BatchNormalization(name=f"{name}_project_BN")(y)
        x = y if stride == 2 else layers.Add(name=f"{name}_add")([x, y])
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(10)(x)
    return randomize(keras.Model(inputs, outputs, name="mobilenetv2_block"), 7), images((32, 32, 3), 7)


def squeeze_excite() -> Built:
    """Squeeze-and-excitation two ways: SENet's (GlobalAveragePooling, Reshape, Dense relu/sigmoid, Multiply)
    and EfficientNet's (keepdims pooling, 1x1 convolutions with swish and hard_sigmoid, Multiply)."""
    inputs = keras.Input((16, 16, 3))
    x = layers.Conv2D(16, 3, padding="same", activation="relu")(inputs)
    se = layers.GlobalAveragePooling2D()(x)
    se = layers.Reshape((1, 1, 16))(se)
    se = layers.Dense(4, activation="relu", use_bias=False)(se)
    se = layers.Dense(16, activation="sigmoid", use_bias=False)(se)
    x = layers.Multiply()([x, se])
    se = layers.GlobalAveragePooling2D(keepdims=True)(x)
    se = layers.Conv2D(4, 1, activation="swish")(se)
    se = layers.Conv2D(16, 1, activation="hard_sigmoid")(se)
    x = layers.multiply([x, se])
    x = layers.GlobalMaxPooling2D()(x)
    outputs = layers.Dense(5)(x)
    return randomize(keras.Model(inputs, outputs, name="squeeze_excite"), 8), images((16, 16, 3), 8)


def densenet_block() -> Built:
    """DenseNet's dense block (BN-ReLU-Conv1x1-BN-ReLU-Conv3x3, Concatenate on channels) and transition."""
    inputs = keras.Input((16, 16, 8))
    x = inputs
    for i in range(3):
        y = layers.BatchNormalization(epsilon=1.001e-5, name=f"conv{i}_0_bn")(x)
        y = layers.Activation("relu", name=f"conv{i}_0_relu")(y)
        y = layers.Conv2D(16, 1, use_bias=False, name=f"conv{i}_1_conv")(y)
        y = layers.BatchNormalization(epsilon=1.001e-5, name=f"conv{i}_1_bn")(y)
        y = layers.Activation("relu", name=f"conv{i}_1_relu")(y)
        y = layers.Conv2D(4, 3, padding="same", use_bias=False, name=f"conv{i}_2_conv")(y)
        x = layers.Concatenate(axis=3, name=f"conv{i}_concat")([x, y])
    x = layers.BatchNormalization(epsilon=1.001e-5, name="pool_bn")(x)
    x = layers.Activation("relu", name="pool_relu")(x)
    x = layers.Conv2D(10, 1, use_bias=False, name="pool_conv")(x)
    x = layers.AveragePooling2D(2, strides=2, name="pool_pool")(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(3, activation="softmax")(x)
    return randomize(keras.Model(inputs, outputs, name="densenet_block"), 9), images((16, 16, 8), 9)


def image_layers() -> Built:
    """The remaining image layers in one graph: SeparableConv2D, Conv2DTranspose (same/valid, strided),
    UpSampling2D (nearest, bilinear), Cropping2D, AveragePooling2D 'same', LayerNormalization, Permute,
    Subtract/Average/Maximum/Minimum, grouped and dilated convolutions, and activations by name and by layer."""
    inputs = keras.Input((12, 12, 4))
    a = layers.SeparableConv2D(8, 3, strides=2, padding="same", depth_multiplier=2, activation="elu")(inputs)
    a = layers.Conv2DTranspose(8, 3, strides=2, padding="same", activation="gelu")(a)
    b = layers.Conv2D(8, 3, padding="same", groups=2, dilation_rate=2, activation="selu")(inputs)
    b = layers.AveragePooling2D(3, strides=2, padding="same")(b)
    b = layers.UpSampling2D(2, interpolation="bilinear")(b)
    c = layers.MaxPooling2D(3, strides=2, padding="same")(inputs)
    c = layers.UpSampling2D(2)(c)
    c = layers.Conv2D(8, 1, activation="tanh")(c)
    d = layers.Conv2DTranspose(8, 2, strides=2, padding="valid", activation="softplus")(
        layers.Conv2D(8, 2, strides=2)(inputs)
    )
    x = layers.Subtract()([a, b])
    x = layers.Average()([x, c, d])
    x = layers.Maximum()([x, layers.LeakyReLU(0.1)(d)])
    x = layers.Minimum()([x, layers.ELU(0.5)(c)])
    x = layers.Cropping2D(((1, 2), (0, 1)))(x)
    x = layers.LayerNormalization()(x)
    x = layers.Permute((2, 1, 3))(x)
    x = layers.ReLU(max_value=2.0, negative_slope=0.1, threshold=0.2)(x)
    x = layers.DepthwiseConv2D(3, strides=2, padding="same", depth_multiplier=2, activation="swish")(x)
    x = layers.Softmax(axis=-1)(x)
    return randomize(keras.Model(inputs, x, name="image_layers"), 10), images((12, 12, 4), 10)


def sequence_layers() -> Built:
    """The remaining sequence layers: Normalization (adapted), Conv1D dilated and 'same' strided, pooling 1-D,
    ZeroPadding1D, Cropping1D, UpSampling1D, SimpleRNN, GRU (reset_after both ways), LSTM, Bidirectional merge
    modes, LayerNormalization, Reshape, Flatten."""
    inputs = keras.Input((16, 3))
    normalization = layers.Normalization()
    normalization.adapt(np.random.default_rng(11).normal(2.0, 3.0, size=(32, 16, 3)).astype("float32"))
    x = normalization(inputs)
    x = layers.Conv1D(8, 3, dilation_rate=2, padding="same", activation="relu")(x)
    x = layers.ZeroPadding1D((1, 2))(x)
    x = layers.Cropping1D((2, 1))(x)
    x = layers.Conv1D(8, 4, strides=2, padding="same")(x)
    x = layers.MaxPooling1D(2, padding="same")(x)
    x = layers.UpSampling1D(2)(x)
    x = layers.AveragePooling1D(2, strides=1)(x)
    x = layers.SimpleRNN(8, return_sequences=True, activation="relu")(x)
    x = layers.Bidirectional(layers.GRU(6, return_sequences=True, reset_after=False), merge_mode="sum")(x)
    x = layers.Bidirectional(layers.GRU(6, return_sequences=True), merge_mode="mul")(x)
    x = layers.Bidirectional(layers.LSTM(6, return_sequences=True), merge_mode="ave")(x)
    x = layers.LSTM(6, return_sequences=True, go_backwards=True)(x)
    x = layers.LayerNormalization(axis=[1, 2])(x)
    x = layers.Reshape((14, 3))(x)
    x = layers.GRU(5, return_sequences=True)(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(3)(x)
    model = keras.Model(inputs, outputs, name="sequence_layers")
    data = [np.random.default_rng(12).normal(2.0, 3.0, size=(BATCH, 16, 3)).astype("float32")]
    return randomize(model, 12), data


def seeded(builder: Callable[[], Built]) -> Callable[[], Built]:
    """``builder`` after ``keras.utils.set_random_seed(0)``: the same initial weights on every call."""

    def build() -> Built:
        keras.utils.set_random_seed(0)
        return builder()

    return build


ZOO: dict[str, Callable[[], Built]] = {
    builder.__name__: seeded(builder)
    for builder in (
        mnist_convnet,
        timeseries_classifier,
        text_cnn,
        bidirectional_lstm,
        toy_resnet,
        resnet_block,
        mobilenetv2_block,
        squeeze_excite,
        densenet_block,
        image_layers,
        sequence_layers,
    )
}
