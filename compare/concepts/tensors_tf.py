"""TensorFlow's side of ``ptref/concepts/tensors.py``."""

from __future__ import annotations

import tensorflow as tf


def ranks() -> dict[str, object]:
    scalar = tf.constant(3.14)
    vector = tf.constant([1, 2, 3])
    matrix = tf.constant([[1, 2], [3, 4]])
    image = tf.zeros([28, 28, 3])
    return {
        "3.14": float(scalar),
        "rank of 3.14": int(tf.rank(scalar)),
        "rank of [1, 2, 3]": int(tf.rank(vector)),
        "rank of [[1, 2], [3, 4]]": int(tf.rank(matrix)),
        "shape of [[1, 2], [3, 4]]": matrix.shape.as_list(),
        "rank of an RGB image": image.shape.rank,
    }


def image_layout() -> dict[str, object]:
    height_width_channels = tf.reshape(tf.range(4 * 6 * 3), [4, 6, 3])
    channels_height_width = tf.transpose(height_width_channels, [2, 0, 1])
    batch = tf.expand_dims(height_width_channels, 0)
    return {
        "[H, W, C]": height_width_channels.shape.as_list(),
        "[C, H, W]": channels_height_width.shape.as_list(),
        "pixel h=1, w=2, channel 0": int(height_width_channels[1, 2, 0]),
        "batch for Conv2D": batch.shape.as_list(),
    }


def dtypes() -> dict[str, str]:
    pi = tf.constant(3.14)
    counts = tf.constant([1, 2, 3])
    try:
        mixed = (pi + counts).dtype.name
    except tf.errors.InvalidArgumentError as error:  # TensorFlow never promotes
        mixed = f"{type(error).__name__}: tf.cast one side first"
    return {
        "3.14": pi.dtype.name,
        "[1, 2, 3]": counts.dtype.name,
        "cast to float16": tf.cast(pi, tf.float16).dtype.name,
        "3.14 + [1, 2, 3]": mixed,
    }


def static_vs_dynamic_shape() -> dict[str, object]:
    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32)])
    def double(x: tf.Tensor) -> tf.Tensor:
        return 2 * x

    shape = double.get_concrete_function().inputs[0].shape
    out = double(tf.ones([7, 3]))
    return {
        "eager shape": tf.ones([4, 3]).shape.as_list(),
        "traced input shape": shape.as_list(),
        "output for a batch of 7": out.shape.as_list(),
    }


def device_placement() -> dict[str, object]:
    with tf.device("/CPU:0"):
        x = tf.constant([1.0, 2.0, 3.0])
        y = x * 2
    return {"x.device": x.device, "y": y.numpy().tolist(), "y.device": y.device}
