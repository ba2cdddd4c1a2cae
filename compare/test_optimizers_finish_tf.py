"""The last of keras.optimizers beside Keras running live: Muon, LossScaleOptimizer, serialize/deserialize, and the
EMA at the end of fit (FinalizeEMA) and in evaluation (SwapEMAWeights) through a Lightning Trainer vs Keras fit.

Tolerances, each absolute and relative:
- Muon, 30 steps: 1e-6 + 1e-6 * |w| (|w| < 3). Five Newton-Schulz iterations are ten float32 matmuls whose sums TF
  and torch order differently (a few ulps each step); a wrong rule (an embedding given the Muon step, one missing
  Nesterov term) moves the weights by > 1e-3 (the teeth test).
- LossScaleOptimizer: exact (0 + 0): a power-of-two scale makes ``g / s`` and ``g * (1 / s)`` the same numbers
  and the inner SGD is fed the same floats.
- Serialized configs: exact dict equality (the learning rate is rounded to float32 on both sides).
- EMA through fit: 1e-6 + 1e-6 relative: float32 forward/backward of a 3x2 Dense in TF and torch differ by an ulp,
  and Keras's TF backend swaps weights by adding and subtracting (a few ulps of |w| + |average|).
"""

from __future__ import annotations

import keras
import lightning.pytorch as pl
import numpy as np
import pytest
import tensorflow as tf
import torch
from torch.utils.data import DataLoader, TensorDataset

import ptref.optim as optim
from ptref.callbacks.keras import FinalizeEMA, ScaleLoss, SwapEMAWeights
from ptref.optim import schedules

K = keras.optimizers
KS = keras.optimizers.schedules
ATOL = RTOL = 1e-6

# Keras variable path -> shape; the torch name is the path with "/" written "." (see ptref.optim.Muon).
MUON_SHAPES = {
    "dense/kernel": (7, 5),              # 2-D: Muon, more rows than columns (transposed inside Newton-Schulz)
    "dense/bias": (5,),                  # 1-D: AdamW
    "token_embedding/embeddings": (6, 4),  # exclude_embeddings: AdamW
    "head/kernel": (4, 8),               # exclude_layers=["head"]: AdamW
    "square/kernel": (5, 5),             # 2-D: Muon
    "conv/kernel": (3, 3, 2, 4),         # 4-D: AdamW
}
MUON = {
    "nesterov-rms": dict(
        learning_rate=0.02, adam_beta_1=0.8, adam_beta_2=0.99, adam_weight_decay=0.01, epsilon=1e-6,
        weight_decay=0.05, exclude_layers=["head"], muon_a=3.0, muon_b=-4.0, muon_c=1.8, adam_lr_ratio=0.5,
        momentum=0.9, ns_steps=4, nesterov=True, rms_rate=0.3,
    ),
    "plain-momentum-no-rms-schedule": dict(
        learning_rate=KS.ExponentialDecay(0.05, 10, 0.5), exclude_layers=["head"], momentum=0.8, ns_steps=6,
        nesterov=False, rms_rate=None, weight_decay=None, adam_weight_decay=0.02, clipnorm=1.0,
    ),
}


def muon_stream(scale: float, steps: int = 30):
    rng = np.random.default_rng(0)
    weights = {k: rng.standard_normal(s).astype(np.float32) for k, s in MUON_SHAPES.items()}
    grads = [{k: (scale * rng.standard_normal(s)).astype(np.float32) for k, s in MUON_SHAPES.items()}
             for _ in range(steps)]
    return weights, grads


def run_keras_muon(optimizer, weights, grads):
    # a standalone variable's path is its name; "/" is not allowed in one, "_" keeps "embedding" and "head" in it
    variables = [keras.Variable(w, name=k.replace("/", "_")) for k, w in weights.items()]
    for gs in grads:
        optimizer.apply_gradients(zip([tf.constant(gs[k]) for k in weights], variables))
    return [v.numpy() for v in variables]


def run_ptref_muon(make, weights, grads):
    params = {k: torch.nn.Parameter(torch.from_numpy(w.copy())) for k, w in weights.items()}
    optimizer = make([(k.replace("/", "."), p) for k, p in params.items()])
    for gs in grads:
        for k, p in params.items():
            p.grad = torch.from_numpy(gs[k])
        optimizer.step()
    return [p.detach().numpy() for p in params.values()]


@pytest.mark.parametrize("scale", [1.0, 1e-4], ids=["g~1", "g~1e-4"])
@pytest.mark.parametrize("case", sorted(MUON))
def test_muon_matches_keras_over_30_steps(case, scale):
    keras_optimizer = K.Muon(**MUON[case])
    weights, grads = muon_stream(scale)
    expected = run_keras_muon(keras_optimizer, weights, grads)
    ours = run_ptref_muon(optim.get(K.serialize(keras_optimizer)), weights, grads)
    for name, k, t in zip(MUON_SHAPES, expected, ours):
        np.testing.assert_allclose(t, k, atol=ATOL, rtol=RTOL, err_msg=f"{case}: {name}")


def test_muon_without_keras_embedding_rule_fails_parity():
    """Teeth: giving the embedding table the Muon step (as Keras would not) is far outside the tolerance."""
    weights, grads = muon_stream(1.0)
    expected = run_keras_muon(K.Muon(**MUON["nesterov-rms"]), weights, grads)
    config = K.serialize(K.Muon(**MUON["nesterov-rms"]))
    ours = run_ptref_muon(optim.get(config, exclude_embeddings=False), weights, grads)
    assert np.abs(ours[2] - expected[2]).max() > 1e-3


def test_loss_scale_optimizer_matches_keras_with_skips_halving_and_growth():
    rng = np.random.default_rng(0)
    shapes = [(4, 3), (3,)]
    start = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    grads = [[(16 * rng.standard_normal(s)).astype(np.float32) for s in shapes] for _ in range(14)]
    grads[4][0][1, 1] = np.inf  # skipped, scale halves
    grads[9][1][0] = np.nan
    keras_optimizer = K.LossScaleOptimizer(K.SGD(0.05, momentum=0.8), initial_scale=16.0, dynamic_growth_steps=3)
    variables = [keras.Variable(w) for w in start]
    params = [torch.nn.Parameter(torch.from_numpy(w.copy())) for w in start]
    ours = optim.deserialize(K.serialize(keras_optimizer), params)
    assert isinstance(ours, optim.LossScaleOptimizer) and isinstance(ours.inner_optimizer, optim.SGD)
    scales, iterations = [], []
    for gs in grads:
        assert float(ours.scale_loss(torch.tensor(3.0))) == float(keras_optimizer.scale_loss(3.0))
        keras_optimizer.apply([tf.constant(g) for g in gs], variables)
        for p, g in zip(params, gs):  # the gradients of a scaled loss, as Keras's apply gets them
            p.grad = torch.from_numpy(g)
        ours.step()
        scales.append((float(keras_optimizer.dynamic_scale.numpy()), ours.dynamic_scale))
        iterations.append((int(keras_optimizer.iterations), ours.iterations))
        for v, p in zip(variables, params):
            np.testing.assert_array_equal(p.detach().numpy(), v.numpy())
    assert [k for k, _ in scales] == [t for _, t in scales]
    assert [k for k, _ in iterations] == [t for _, t in iterations]
    assert {k for k, _ in scales} == {16.0, 32.0}  # the stream did halve and grow


KERAS_CONFIGS = {
    "Adam-schedule-ema": lambda: K.Adam(KS.ExponentialDecay(0.1, 10, 0.5, staircase=True), beta_1=0.8,
                                        use_ema=True, ema_momentum=0.9, clipnorm=1.0, name="my_adam"),
    "RMSprop-accumulation": lambda: K.RMSprop(0.003, rho=0.8, momentum=0.5, centered=True,
                                              gradient_accumulation_steps=3, loss_scale_factor=8.0),
    "Muon": lambda: K.Muon(0.01, exclude_layers=["head", "out"], ns_steps=3, rms_rate=None, adam_lr_ratio=0.1),
    "ScheduleFreeAdamW": lambda: K.ScheduleFreeAdamW(0.01, warmup_steps=5, weight_decay=0.1),
    "LossScaleOptimizer": lambda: K.LossScaleOptimizer(K.Lion(0.003, weight_decay=0.1), initial_scale=256.0,
                                                       dynamic_growth_steps=10),
    **{f"defaults-{name}": (lambda cls=cls: getattr(K, cls.__name__)()) for name, cls in optim.OPTIMIZERS.items()},
}


@pytest.mark.parametrize("case", sorted(KERAS_CONFIGS))
def test_serialize_round_trips_keras_optimizer_dicts(case):
    keras_config = K.serialize(KERAS_CONFIGS[case]())
    ours = optim.deserialize(keras_config, [("dense.kernel", torch.nn.Parameter(torch.zeros(3, 2)))])
    assert optim.serialize(ours) == keras_config
    # Keras 3.15.1's deserialize does not list Lamb (keras.optimizers.ALL_OBJECTS): name every class for it
    keras_classes = {cls.__name__: getattr(K, cls.__name__) for cls in optim.OPTIMIZERS.values()}
    assert K.serialize(K.deserialize(optim.serialize(ours), custom_objects=keras_classes)) == keras_config


SCHEDULES = [
    KS.ExponentialDecay(0.1, 10, 0.5, staircase=True), KS.InverseTimeDecay(0.1, 5, 0.3),
    KS.PolynomialDecay(0.1, 50, 0.01, power=2.0, cycle=True), KS.PiecewiseConstantDecay([5, 10], [0.1, 0.05, 0.01]),
    KS.CosineDecay(0.1, 80, alpha=0.1, warmup_target=0.2, warmup_steps=5),
    KS.CosineDecayRestarts(0.1, 7, t_mul=1.5, m_mul=0.8, alpha=0.05),
]


@pytest.mark.parametrize("schedule", SCHEDULES, ids=lambda s: type(s).__name__)
def test_schedule_serialize_round_trips_keras_dicts(schedule):
    keras_config = KS.serialize(schedule)
    assert schedules.serialize(schedules.deserialize(keras_config)) == keras_config


# --- EMA through fit: a Lightning Trainer and Keras's fit on the same Dense(2), data and order ---

X = np.random.default_rng(1).standard_normal((16, 3)).astype(np.float32)
Y = np.random.default_rng(2).standard_normal((16, 2)).astype(np.float32)
KERNEL = np.random.default_rng(3).standard_normal((3, 2)).astype(np.float32)
EPOCHS, BATCH = 3, 4


def keras_fit(optimizer, callbacks):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.layers[0].set_weights([KERNEL, np.zeros(2, np.float32)])
    model.compile(optimizer=optimizer, loss="mse")
    history = model.fit(X, Y, batch_size=BATCH, epochs=EPOCHS, shuffle=False, validation_data=(X[:8], Y[:8]),
                        callbacks=callbacks, verbose=0)
    kernel, bias = model.layers[0].get_weights()
    return kernel, bias, history.history["val_loss"]


class Dense(pl.LightningModule):
    def __init__(self, make_optimizer):
        super().__init__()
        self.dense = torch.nn.Linear(3, 2)
        with torch.no_grad():
            self.dense.weight.copy_(torch.from_numpy(KERNEL.T))
            self.dense.bias.zero_()
        self.make_optimizer = make_optimizer
        self.val_losses: list[float] = []

    def training_step(self, batch, batch_idx):
        x, y = batch
        return torch.nn.functional.mse_loss(self.dense(x), y)

    def validation_step(self, batch, batch_idx):
        x, y = batch
        self.val_losses.append(float(torch.nn.functional.mse_loss(self.dense(x), y)))

    def configure_optimizers(self):
        return self.make_optimizer(self.parameters())


def ptref_fit(make_optimizer, callbacks):
    model = Dense(make_optimizer)
    trainer = pl.Trainer(max_epochs=EPOCHS, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, num_sanity_val_steps=0, callbacks=callbacks)
    loader = DataLoader(TensorDataset(torch.from_numpy(X), torch.from_numpy(Y)), batch_size=BATCH)
    trainer.fit(model, loader, DataLoader(TensorDataset(torch.from_numpy(X[:8]), torch.from_numpy(Y[:8])), 8))
    return model.dense.weight.detach().numpy().T, model.dense.bias.detach().numpy(), model.val_losses


def sgd_ema(keras_side: bool, **extra):
    kwargs = dict(learning_rate=0.1, momentum=0.5, use_ema=True, ema_momentum=0.7, **extra)
    return K.SGD(**kwargs) if keras_side else (lambda params: optim.SGD(params, **kwargs))


@pytest.mark.parametrize("swap", [None, False, True], ids=["no-swap", "swap", "swap_on_epoch"])
def test_ema_through_a_trainer_matches_keras_fit(swap):
    """Keras's fit ends with finalize_variable_values (FinalizeEMA) and validates with EMA weights (SwapEMAWeights)."""
    keras_callbacks = [] if swap is None else [keras.callbacks.SwapEMAWeights(swap_on_epoch=swap)]
    ptref_callbacks = [FinalizeEMA()] + ([] if swap is None else [SwapEMAWeights(swap_on_epoch=swap)])
    kernel, bias, val_losses = keras_fit(sgd_ema(True), keras_callbacks)
    ours_kernel, ours_bias, ours_val_losses = ptref_fit(sgd_ema(False), ptref_callbacks)
    np.testing.assert_allclose(ours_kernel, kernel, atol=ATOL, rtol=RTOL)
    np.testing.assert_allclose(ours_bias, bias, atol=ATOL, rtol=RTOL)
    np.testing.assert_allclose(ours_val_losses, val_losses, atol=ATOL, rtol=RTOL)


def test_loss_scale_factor_through_a_trainer_matches_keras_fit():
    """Keras's fit scales the loss itself; the ScaleLoss callback does it for a Lightning fit."""
    kernel, bias, _ = keras_fit(K.SGD(0.1, momentum=0.5, loss_scale_factor=1024.0), [])
    ours = ptref_fit(lambda p: optim.SGD(p, 0.1, momentum=0.5, loss_scale_factor=1024.0), [ScaleLoss()])
    np.testing.assert_allclose(ours[0], kernel, atol=ATOL, rtol=RTOL)
    np.testing.assert_allclose(ours[1], bias, atol=ATOL, rtol=RTOL)


def test_without_finalize_and_swap_a_trainer_misses_keras_fit():
    """Teeth: the plain Lightning fit keeps the training weights and validates with them."""
    kernel, _, val_losses = keras_fit(sgd_ema(True), [keras.callbacks.SwapEMAWeights()])
    ours_kernel, _, ours_val_losses = ptref_fit(sgd_ema(False), [])
    assert np.abs(ours_kernel - kernel).max() > 100 * ATOL
    assert np.abs(np.subtract(ours_val_losses, val_losses)).max() > 100 * ATOL
