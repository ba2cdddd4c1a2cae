"""The captcha model against its Keras twin (compare/captcha_keras.py), from the Keras weights, on generated captchas.

Levels: forward (the 40-vector), gradients of the course's binary CE per parameter, one Adam step, and 20 Adam steps
trained by the Lightning Trainer against a ``GradientTape`` loop. Dropout is off in every level: inference mode for
forward/gradient/step, and rate 0 in both models for the trajectory (the two frameworks draw different masks).

For the statistical level (compare/captcha_statistical.py, a script): the twin's training visits a new order of the
examples every epoch, as ptref's does, which a seeded Keras ``fit(shuffle=True)`` does not.
"""

from __future__ import annotations

from compare import captcha_keras as K  # first: imports torch._dynamo before TensorFlow
from compare.tolerances import (
    CAPTCHA_GRADIENT,
    CAPTCHA_STEP,
    CAPTCHA_TRAJECTORY_LOSS,
    CAPTCHA_TRAJECTORY_WEIGHTS,
    FORWARD,
)

import keras
import lightning.pytorch as pl
import numpy as np
import pytest
import tensorflow as tf
import torch
from torch.utils.data import DataLoader, TensorDataset

from ptref.data.captcha import CaptchaDataModule, grayscale, one_hot
from ptref.models.captcha import CaptchaCNN
from ptref.optim import Adam

STEPS, BATCH = 20, 8

@pytest.fixture(scope="module")
def data(tmp_path_factory) -> CaptchaDataModule:
    module = CaptchaDataModule(cache_dir=str(tmp_path_factory.mktemp("captcha")), n_train=STEPS * BATCH, n_test=8)
    module.prepare_data()
    module.setup("fit")
    return module


def twins(dropout: float = 0.25) -> tuple[keras.Model, CaptchaCNN]:
    keras.utils.set_random_seed(0)
    keras_model = K.captcha_model(dropout=dropout)
    return keras_model, K.transfer(keras_model, CaptchaCNN(dropout=dropout))


def batch(data: CaptchaDataModule, size: int = 16) -> tuple[torch.Tensor, torch.Tensor, np.ndarray, np.ndarray]:
    images, labels = data.train_set.tensors
    x, target = grayscale(images[:size]), labels[:size]
    return x, target, x.permute(0, 2, 3, 1).numpy(), one_hot(target, 10).numpy()


def keras_bce_gradients(keras_model: keras.Model, x: np.ndarray, y: np.ndarray) -> tuple[float, list]:
    with tf.GradientTape() as tape:
        loss = keras.losses.BinaryCrossentropy()(y, keras_model(x, training=False))
    return float(loss), tape.gradient(loss, keras_model.trainable_weights)


@pytest.mark.forward
def test_forward_from_keras_weights_gives_the_same_40_vector(data):
    keras_model, model = twins()
    x, _, x_keras, _ = batch(data)
    with torch.no_grad():
        ours = torch.softmax(model.eval()(x), dim=-1).flatten(1).numpy()
    gap = np.abs(ours - keras_model(x_keras, training=False).numpy()).max()
    assert gap <= FORWARD.value, f"forward: max abs gap {gap:.3g} > {FORWARD.value}"


@pytest.mark.gradient
def test_binary_ce_gradients_match_keras_per_parameter(data):
    keras_model, model = twins()
    x, target, x_keras, y = batch(data)
    keras_loss, keras_grads = keras_bce_gradients(keras_model, x_keras, y)
    loss = model.eval().loss(model(x), target)
    loss.backward()
    expected = K.keras_gradients_in_torch_layout(keras_model, keras_grads)
    scale = max(float(np.abs(g).max()) for g in expected)  # S: the model's largest gradient (GRADIENT's reason)
    assert abs(loss.item() - keras_loss) <= FORWARD.value
    for (name, parameter), g in zip(model.named_parameters(), expected, strict=True):
        gap = CAPTCHA_GRADIENT.gap(parameter.grad.numpy(), g, scale).max()
        assert gap <= CAPTCHA_GRADIENT.value, f"{name}: gradient gap {gap:.3g} > {CAPTCHA_GRADIENT.value}"


@pytest.mark.step
def test_one_adam_step_matches_keras(data):
    keras_model, model = twins()
    x, target, x_keras, y = batch(data)
    _, keras_grads = keras_bce_gradients(keras_model, x_keras, y)
    keras.optimizers.Adam().apply_gradients(zip(keras_grads, keras_model.trainable_weights))
    optimizer = Adam(model.parameters())
    model.eval().loss(model(x), target).backward()
    optimizer.step()
    expected = K.transfer(keras_model, CaptchaCNN())
    for (name, ours), theirs in zip(model.named_parameters(), expected.parameters(), strict=True):
        gap = (ours - theirs).abs().max().item()
        assert gap <= CAPTCHA_STEP.value, f"{name}: weight gap {gap:.3g} after one step > {CAPTCHA_STEP.value}"


class LossRecorder(pl.Callback):
    def __init__(self) -> None:
        self.losses: list[float] = []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.losses.append(float(outputs["loss"]))


@pytest.mark.trajectory
def test_twenty_adam_steps_by_the_trainer_follow_the_keras_loop(data, tmp_path):
    keras_model, model = twins(dropout=0.0)
    initial = [parameter.detach().clone() for parameter in model.parameters()]
    images, labels = data.train_set.tensors
    x = grayscale(images)
    recorder = LossRecorder()
    trainer = pl.Trainer(max_steps=STEPS, accelerator="cpu", devices=1, logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, callbacks=[recorder],
                         default_root_dir=tmp_path, deterministic=True)
    trainer.fit(model, train_dataloaders=DataLoader(TensorDataset(x, labels), batch_size=BATCH, shuffle=False))

    optimizer, variables = keras.optimizers.Adam(), keras_model.trainable_weights
    x_keras, y = x.permute(0, 2, 3, 1).numpy(), one_hot(labels, 10).numpy()

    @tf.function
    def train_step(images: tf.Tensor, targets: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            loss = keras.losses.BinaryCrossentropy()(targets, keras_model(images, training=True))
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    keras_losses = np.array([float(train_step(x_keras[i * BATCH:(i + 1) * BATCH], y[i * BATCH:(i + 1) * BATCH]))
                             for i in range(STEPS)])
    assert len(recorder.losses) == STEPS and keras_losses[-1] < keras_losses[0]  # it trained: not vacuous
    loss_gap = CAPTCHA_TRAJECTORY_LOSS.gap(np.array(recorder.losses), keras_losses).max()
    assert loss_gap <= CAPTCHA_TRAJECTORY_LOSS.value, f"loss per step: rel gap {loss_gap:.3g}"
    final = K.transfer(keras_model, CaptchaCNN(dropout=0.0))
    for (name, ours), theirs, start in zip(model.named_parameters(), final.parameters(), initial, strict=True):
        moved = (theirs - start).pow(2).mean().sqrt()
        apart = ((ours - theirs).pow(2).mean().sqrt() / moved).item()
        assert apart <= CAPTCHA_TRAJECTORY_WEIGHTS.value, f"{name}: final weights {apart:.3g} of the way apart"


class OrderRecorder(keras.Model):
    """A model whose training step only records the examples (their ids, the inputs) of each batch."""

    def __init__(self) -> None:
        super().__init__()
        self.dense = keras.layers.Dense(1)
        self.batches: list[list[int]] = []

    def call(self, x):
        return self.dense(x)

    def train_step(self, data):
        self.batches.append(data[0].numpy().ravel().astype(int).tolist())
        return {"examples": tf.constant(float(len(self.batches[-1])))}


def epoch_orders(train, epochs: int = 3, n: int = 12, batch_size: int = 4) -> list[list[int]]:
    """The order in which ``train(model, x, y, batch_size, epochs)`` visits examples 0..n-1, per epoch."""
    keras.utils.set_random_seed(0)
    model = OrderRecorder()
    model.compile(optimizer="adam", loss="mse", run_eagerly=True)
    x = np.arange(n, dtype="float32").reshape(n, 1)
    train(model, x, x, batch_size, epochs)
    flat = [example for batch in model.batches for example in batch]
    return [flat[epoch * n:(epoch + 1) * n] for epoch in range(epochs)]


@pytest.mark.statistical
def test_keras_fit_shuffle_after_set_random_seed_repeats_one_order_every_epoch():
    """Why the twin does not train with ``fit(shuffle=True)``: a seeded Keras draws the same permutation each epoch."""
    orders = epoch_orders(lambda model, x, y, batch_size, epochs: model.fit(
        x, y, batch_size=batch_size, epochs=epochs, shuffle=True, verbose=0))
    assert sorted(orders[0]) == list(range(12)) and orders[0] != list(range(12))  # shuffled, once
    assert orders[1] == orders[0] and orders[2] == orders[0]


@pytest.mark.statistical
def test_the_twins_fit_visits_every_example_once_per_epoch_in_a_new_order():
    """As ptref's ``DataLoader(shuffle=True)``: each epoch a permutation, and not the last epoch's."""
    orders = epoch_orders(lambda model, x, y, batch_size, epochs: K.fit(model, x, y, batch_size, epochs, seed=0,
                                                                        verbose=0))
    assert all(sorted(order) == list(range(12)) for order in orders)
    assert orders[0] != orders[1] and orders[1] != orders[2] and orders[0] != orders[2]


@pytest.mark.statistical
def test_welch_p_value_is_students_t_with_the_welch_satterthwaite_degrees_of_freedom():
    """Two samples of 2 with equal variances: ν = 2, whose Student t has a closed form, two-sided
    p = 1 − t / sqrt(2 + t²); a spread 9 times larger in one sample gives ν = (1 + 9)² / (1 + 81)."""
    from compare.captcha_statistical import welch

    t, nu, p = welch([0.0, 2.0], [3.0, 5.0])
    assert t == pytest.approx(3 / np.sqrt(2), rel=1e-12, abs=0)  # float64 arithmetic of 4 numbers
    assert nu == pytest.approx(2.0, rel=1e-12, abs=0)
    # TensorFlow's float64 betainc: ~1e-15 relative; 1e-9 leaves room for its series' stopping rule
    assert p == pytest.approx(1 - t / np.sqrt(2 + t * t), rel=1e-9, abs=1e-12)
    assert welch([0.0, 2.0], [0.0, 6.0])[1] == pytest.approx(100 / 82, rel=1e-12, abs=0)
