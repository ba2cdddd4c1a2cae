"""The course CNN as ptref trains it by default (channels-last memory, Keras-order Flatten, fused Conv2D+ReLU,
vectorized Dropout) computes what the course's Keras CNN computes, with Keras's weights copied in exactly."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
import torch
from torch.nn import functional as F

from compare import workflows as W
from compare.course_models import course_model
from compare.tolerances import FORWARD, GRADIENT
from ptref import interop
from ptref.callbacks.speed import to_channels_last
from ptref.models import CNN


@pytest.fixture(scope="module")
def pair() -> tuple:
    """The course's Keras CNN and ptref's, Keras's weights copied in, ptref's held channels-last."""
    keras_model = course_model("cnn")
    model = CNN(layers="course")
    interop.load_keras_weights(model, keras_model)
    to_channels_last(model)
    return keras_model, model


@pytest.mark.interop
def test_round_trip_of_the_course_cnn_is_bit_exact(pair) -> None:
    keras_model, model = pair
    for ours, theirs in zip(interop.ptref_arrays(model), keras_model.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)  # transposes only: float32 bits unchanged


@pytest.mark.forward
def test_outputs_agree_with_kerass_course_cnn(pair) -> None:
    keras_model, model = pair
    x, _ = W.mnist_batch(image=True, size=128)
    with torch.no_grad():
        ours = F.softmax(model.eval()(x), dim=1).numpy()
    theirs = keras_model(x.permute(0, 2, 3, 1).numpy(), training=False).numpy()
    assert np.max(FORWARD.gap(ours, theirs)) <= FORWARD.value, FORWARD.reason


@pytest.mark.gradient
def test_gradients_agree_with_gradient_tape(pair) -> None:
    """Inference-mode forward (no Dropout: its masks are random on both sides), cross-entropy of the batch."""
    keras_model, model = pair
    x, y = W.mnist_batch(image=True, size=64)
    model.eval().zero_grad()
    F.cross_entropy(model(x), y).backward()
    with tf.GradientTape() as tape:
        probabilities = keras_model(x.permute(0, 2, 3, 1).numpy(), training=False)
        loss = tf.reduce_mean(tf.keras.losses.sparse_categorical_crossentropy(y.numpy(), probabilities))
    theirs = [gradient.numpy() for gradient in tape.gradient(loss, keras_model.trainable_weights)]
    ours = interop.ptref_arrays(_gradients_as_parameters(model))
    scale = max(float(np.max(np.abs(g))) for g in theirs)
    for name, a, b in zip([v.path for v in keras_model.trainable_weights], ours, theirs, strict=True):
        assert np.max(GRADIENT.gap(a, b, scale)) <= GRADIENT.value, f"{name}: {GRADIENT.reason}"


def _gradients_as_parameters(model: CNN) -> CNN:
    """A copy of ``model`` whose parameters hold its gradients (so interop lays them out as Keras's weights)."""
    copy = CNN(layers="course")
    with torch.no_grad():
        for target, source in zip(copy.parameters(), model.parameters(), strict=True):
            target.copy_(source.grad)
    return copy
