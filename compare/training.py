"""Whole training runs side by side: trajectories (level 4) and statistical parity (level 5).

The ptref side always trains through the real Lightning ``Trainer`` (``trainer.fit``), never a side loop.
The TensorFlow side is a ``GradientTape`` loop (TF2), ``model.fit`` (Keras), or for the course's house-price
model a ``tf.compat.v1`` graph with placeholders run in a ``Session`` (TF1), as the course writes it.
"""

from __future__ import annotations

import tempfile
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch

from compare import workflows as W  # first: the TensorFlow bootstrap (ptref.parity.tf)
from compare.checks import batch as course_batch
from compare.checks import keras_loss as course_keras_loss
from compare.checks import keras_optimizer_config, transferred_pair
from compare.tolerances import HOUSE_PRICE, MEASURED, STATISTICAL
from ptref import interop, parity
from ptref.data import HousePriceDataModule, MNISTDataModule
from ptref.models import LinearRegression, SoftmaxRegression
from ptref.parity import Check, difference, trajectory_checks
from ptref.parity.tf import import_keras, import_tensorflow

keras, tf = import_keras(), import_tensorflow()


class StepRecorder(pl.Callback):
    """Keeps each training step's loss (computed before that step's update) and the weights after it."""

    def __init__(self, example_input: torch.Tensor) -> None:
        self.example_input, self.losses, self.weights = example_input, [], []

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self.losses.append(float(outputs["loss"]))
        self.weights.append(interop.ptref_arrays(pl_module, self.example_input))


def _trainer(max_steps: int, callbacks: list[pl.Callback], max_epochs: int = -1) -> pl.Trainer:
    return pl.Trainer(
        max_steps=max_steps, max_epochs=max_epochs, accelerator="cpu", devices=1, logger=False,
        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0,
        callbacks=callbacks,
        default_root_dir=tempfile.mkdtemp(prefix="ptref-compare-"), deterministic=True,
    )


def trajectory(name: str, steps: int = 50, batch_size: int = 32, optimizer: str = "adam") -> list[Check]:
    """N steps from Keras's initial weights on the same batches in the same order (no dropout in these models).

    Keras: a ``tf.function`` ``GradientTape`` step with a Keras optimizer. ptref: the model's own ``training_step``
    through ``Trainer.fit``, with the ptref optimizer built from the Keras optimizer's config
    (:func:`ptref.parity.trajectory`). Compared: loss per step (relative), the weights after every step (the report
    plots how the gap grows), final weights against the tolerance.
    """
    course, p = transferred_pair(name)
    x, y = course_batch(course, steps * batch_size)
    return parity.trajectory(p, x, y, course_keras_loss(name), keras_optimizer_config(optimizer), steps, batch_size,
                             training_step=True)


def house_price_tf1(steps: int = 200, learning_rate: float = 0.01, bias_column: bool = True) -> list[Check]:
    """The course's TF1 program (placeholders, ``X·W`` with the ones column, 1/(2m) loss, Session) vs Lightning."""
    features, targets = W.house_price_data()
    X = np.concatenate([np.ones((len(features), 1), np.float32), features.numpy()], axis=1)
    init = np.random.default_rng(0).uniform(-1, 1, (3, 1)).astype(np.float32)  # nonzero: bias and kernel both move
    graph = tf.Graph()
    with graph.as_default():
        v1 = tf.compat.v1
        X_ph = v1.placeholder(tf.float32, [None, 3])
        y_ph = v1.placeholder(tf.float32, [None, 1])
        W_var = v1.get_variable("weights", initializer=init)
        y_pred = tf.matmul(X_ph, W_var)
        loss_op = 1 / (2 * len(X)) * tf.matmul(y_pred - y_ph, y_pred - y_ph, transpose_a=True)
        train_op = v1.train.GradientDescentOptimizer(learning_rate=learning_rate).minimize(loss_op)
        tf1_losses, tf1_weights = [], []
        with v1.Session(graph=graph) as session:
            session.run(v1.global_variables_initializer())
            for _ in range(steps):
                loss, _ = session.run([loss_op, train_op], feed_dict={X_ph: X, y_ph: targets.numpy()})
                tf1_losses.append(float(loss[0, 0]))
                tf1_weights.append(session.run(W_var))
    # ptref: LinearRegression in the chosen form, Keras-layout weights [kernel (2, 1), bias (1,)] both sides
    model = LinearRegression(n_features=2, bias_column=bias_column, learning_rate=learning_rate)
    interop.load_keras_weights(model, [init[1:], init[0]])
    recorder = StepRecorder(torch.zeros(1, 2))
    datamodule = HousePriceDataModule(csv_path=str(W.HOUSE_CSV))
    _trainer(steps, [recorder]).fit(model, datamodule=datamodule)
    as_keras = [[w[1:], w[0]] for w in tf1_weights]
    gap = [max(difference(a, b)[0] for a, b in zip(k, p)) for k, p in zip(as_keras, recorder.weights)]
    form = "X·W with ones column" if bias_column else "nn.Linear"
    return trajectory_checks("house_price", f"{steps} GD steps, TF1 Session vs Lightning ({form})", tf1_losses,
                             recorder.losses, gap, as_keras[-1], recorder.weights[-1], HOUSE_PRICE)


def statistical(
    seeds: tuple[int, ...] = (0, 1, 2), epochs: int = 2, batch_size: int = 128, init_effect: bool = True
) -> list[Check]:
    """Softmax regression trained by each framework with its own random draws, 3 seeds: mean t10k test accuracy.

    Keras: ``compile(Adam(1e-3), sparse_categorical_crossentropy)`` + ``fit(shuffle=True)`` + ``evaluate``.
    ptref: ``Trainer.fit`` + ``Trainer.test`` with :class:`MNISTDataModule` (first 8,000 train, last 2,000 test)
    and the model's default torch Adam. Parity is judged with the same init *distribution* on both sides
    (``init="keras"``: glorot_uniform, zero bias; each framework draws its own), because the init family alone
    moves a short run's accuracy by ~0.5-1 point; ``init_effect`` also trains ptref with PyTorch's init and
    reports that difference as a measurement.
    """
    x_train, y_train = W.mnist_batch(False, 0, 10_000 - W.TEST_SIZE)
    x_test, y_test = W.mnist_batch(False, 0, W.TEST_SIZE, split="test")
    inits = ("keras", "torch") if init_effect else ("keras",)
    accuracies: dict[str, list[float]] = {"keras": [], **{f"ptref ({init} init)": [] for init in inits}}
    for seed in seeds:
        model = W.keras_model("softmax", seed)
        model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy", metrics=["accuracy"])
        model.fit(x_train.numpy(), y_train.numpy(), batch_size=batch_size, epochs=epochs, shuffle=True, verbose=0)
        accuracies["keras"].append(100 * model.evaluate(x_test.numpy(), y_test.numpy(), verbose=0)[1])
        for init in inits:
            pl.seed_everything(seed, verbose=False)
            datamodule = MNISTDataModule(data_dir=str(W.MNIST_DIR), train_files="t10k", test_size=W.TEST_SIZE,
                                         val_size=0, layout="flat", batch_size=batch_size)
            trainer = _trainer(-1, [], max_epochs=epochs)
            module = SoftmaxRegression(init=init)
            trainer.fit(module, datamodule=datamodule)
            accuracy = trainer.test(module, datamodule, verbose=False)[0]["test_acc"]
            accuracies[f"ptref ({init} init)"].append(100 * accuracy)
    means = {key: float(np.mean(values)) for key, values in accuracies.items()}
    details: dict[str, Any] = {"accuracies": accuracies, "means": means, "epochs": epochs, "seeds": list(seeds)}
    what = f"mean test accuracy (points), {len(seeds)} seeds, {epochs} epochs"
    gap = abs(means["keras"] - means["ptref (keras init)"])
    results = [Check("statistical", "softmax", what + ": Keras vs ptref", gap, gap / means["keras"], STATISTICAL,
                      details=details)]
    if init_effect:
        effect = abs(means["ptref (torch init)"] - means["ptref (keras init)"])
        results.append(Check("statistical", "softmax", what + ": ptref, torch init vs Keras init", effect,
                              effect / means["keras"], MEASURED, details=details))
    return results
