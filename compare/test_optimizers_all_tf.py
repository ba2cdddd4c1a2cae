"""Every keras.optimizers name and every base option Keras optimizers take, beside Keras on one gradient stream.

Same method as compare/test_optimizers_tf.py: the same weights and 100 gradients (scales 1 and 1e-4) go to
Keras's ``apply_gradients`` and to the ptref optimizer built from ``keras.optimizers.serialize`` of the Keras one,
with non-default arguments throughout.

Tolerance: max |w_keras - w_torch| <= 1e-6 absolute, plus 1e-6 relative to max |w| (with |w| < 8 that stays a
couple of float32 ulps: different rounding of fused ops and of float32 scalars, nothing else; a convention slip
such as an off-by-one bias correction or EMA step costs >= 1e-5, see the teeth tests at the end).
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
import torch

import ptref.optim as optim
from compare.optimizer_feed import gradient_stream, run_keras, run_torch
from ptref.optim import schedules

K = keras.optimizers
KS = keras.optimizers.schedules
ATOL = RTOL = 1e-6

OPTIMIZERS = {
    "Ftrl": lambda: K.Ftrl(
        0.05, learning_rate_power=-0.6, initial_accumulator_value=0.2, l1_regularization_strength=0.01,
        l2_regularization_strength=0.02, l2_shrinkage_regularization_strength=0.03, beta=0.1,
    ),
    "Ftrl-exp-decay-clipvalue": lambda: K.Ftrl(KS.ExponentialDecay(0.1, 20, 0.5), clipvalue=0.5),
    "Lion": lambda: K.Lion(0.003, beta_1=0.8, beta_2=0.95, weight_decay=0.01),
    "Lion-cosine-global": lambda: K.Lion(KS.CosineDecay(0.001, 80, alpha=0.1), global_clipnorm=2.0),
    "Lamb": lambda: K.Lamb(0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-6, clipnorm=1.0),
    "Lamb-wd-inverse-time": lambda: K.Lamb(KS.InverseTimeDecay(0.02, 10, 0.5), weight_decay=0.05),
    "Adafactor": lambda: K.Adafactor(0.05, beta_2_decay=-0.7, epsilon_2=1e-2, clip_threshold=0.8),
    "Adafactor-relative-off-polynomial": lambda: K.Adafactor(
        KS.PolynomialDecay(0.1, 60), relative_step=False, epsilon_1=1e-20, weight_decay=0.01,
    ),
    "ScheduleFreeAdamW": lambda: K.ScheduleFreeAdamW(0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-6, warmup_steps=10),
    "ScheduleFreeAdamW-wd-clipnorm": lambda: K.ScheduleFreeAdamW(weight_decay=0.05, clipnorm=1.0),
}

OPTIONS = {
    "Adam-ema": lambda: K.Adam(0.01, use_ema=True, ema_momentum=0.9),
    "Adam-ema-overwrite": lambda: K.Adam(0.01, use_ema=True, ema_momentum=0.8, ema_overwrite_frequency=7),
    "Adam-accumulation-schedule-wd-clipnorm": lambda: K.Adam(
        KS.ExponentialDecay(0.01, 10, 0.5), gradient_accumulation_steps=3, weight_decay=0.1, clipnorm=0.5,
    ),
    "Nadam-accumulation-ema-overwrite": lambda: K.Nadam(
        0.05, gradient_accumulation_steps=4, use_ema=True, ema_momentum=0.7, ema_overwrite_frequency=3,
    ),
    "SGD-momentum-loss-scale": lambda: K.SGD(0.1, momentum=0.9, loss_scale_factor=128.0),
    "RMSprop-loss-scale-accumulation": lambda: K.RMSprop(0.01, loss_scale_factor=4.0, gradient_accumulation_steps=2),
}


def assert_weights_close(keras_weights, torch_weights, what):
    for k, t in zip(keras_weights, torch_weights):
        np.testing.assert_allclose(t, k, atol=ATOL, rtol=RTOL, err_msg=what)


def stream(case, scale):
    grads = gradient_stream(scale)
    if "loss-scale" in case:  # Keras divides by loss_scale_factor: feed what a scaled loss would give
        factor = OPTIONS[case]().loss_scale_factor
        grads = [[g * np.float32(factor) for g in gs] for gs in grads]
    return grads


@pytest.mark.parametrize("scale", [1.0, 1e-4], ids=["g~1", "g~1e-4"])
@pytest.mark.parametrize("case", sorted({**OPTIMIZERS, **OPTIONS}))
def test_optimizer_and_options_match_keras_over_100_steps(case, scale):
    keras_optimizer = {**OPTIMIZERS, **OPTIONS}[case]()
    grads = stream(case, scale)
    config = keras.optimizers.serialize(keras_optimizer)
    # Keras's ScheduleFreeAdamW.build sets z = w, which a tf.function trace loses (z starts at 0 there): run eagerly
    keras_weights = run_keras(keras_optimizer, grads, eager=case.startswith("ScheduleFree"))
    assert_weights_close(keras_weights, run_torch(optim.get(config), grads), case)


def test_every_keras_optimizer_name_is_in_ptref_or_a_mapped_wrapper():
    keras_names = {
        name.lower() for name, obj in vars(K).items()
        if isinstance(obj, type) and issubclass(obj, K.Optimizer) and obj is not K.Optimizer
    }
    # The wrappers: ptref.optim.LossScaleOptimizer (built from a config, not a name) and MultiOptimizer (param
    # groups / Lightning's multiple optimizers, see ptref.optim); anything else Keras adds must be added here.
    wrappers = {"lossscaleoptimizer", "multioptimizer"}
    assert keras_names - wrappers == set(optim.OPTIMIZERS)


@pytest.mark.parametrize("scale", [1.0, 1e-4], ids=["g~1", "g~1e-4"])
def test_exclude_from_weight_decay_by_name_matches_keras(scale):
    grads = gradient_stream(scale)
    keras_optimizer = K.AdamW(0.02, weight_decay=0.5)
    keras_optimizer.exclude_from_weight_decay(var_names=["bias", "conv"])

    def make(named_params):
        optimizer = optim.AdamW(named_params, 0.02, weight_decay=0.5)
        optimizer.exclude_from_weight_decay(var_names=["bias", "conv"])
        return optimizer

    assert_weights_close(run_keras(keras_optimizer, grads), run_torch(make, grads, named=True), "exclude")


@pytest.mark.parametrize("scale", [1.0, 1e-4], ids=["g~1", "g~1e-4"])
def test_callable_learning_rate_is_called_before_every_step_like_keras(scale):
    grads = gradient_stream(scale)
    rates = [0.02 * 0.97**i for i in range(len(grads))]
    keras_rate = tf.Variable(rates[0])
    torch_rate = [rates[0]]

    def set_keras_rate(i):
        keras_rate.assign(rates[i])

    def set_torch_rate(i):
        torch_rate[0] = rates[i]

    keras_weights = run_keras(K.RMSprop(lambda: keras_rate, momentum=0.5), grads, before_step=set_keras_rate)
    ours = run_torch(
        lambda p: optim.RMSprop(p, lambda: torch_rate[0], momentum=0.5), grads, before_step=set_torch_rate
    )
    assert_weights_close(keras_weights, ours, "callable learning_rate")


RESTARTS = {
    "defaults": dict(initial_learning_rate=0.1, first_decay_steps=10),
    "t_mul-1.5-m_mul-alpha": dict(initial_learning_rate=0.1, first_decay_steps=7, t_mul=1.5, m_mul=0.8, alpha=0.05),
    "t_mul-1-m_mul-alpha": dict(initial_learning_rate=0.1, first_decay_steps=20, t_mul=1.0, m_mul=0.9, alpha=0.1),
    # step 363 starts a period: Keras's float32 log puts it there (lr 0.1), a float64 log in the last one (lr 0)
    "t_mul-3": dict(initial_learning_rate=0.1, first_decay_steps=3, t_mul=3.0),
}


@pytest.mark.parametrize("name", sorted(RESTARTS))
def test_cosine_decay_restarts_matches_keras_over_1000_steps(name):
    kwargs = RESTARTS[name]
    keras_schedule = KS.CosineDecayRestarts(**kwargs)
    ours = schedules.deserialize(KS.serialize(keras_schedule))
    steps = range(1000)
    expected = np.array([float(keras_schedule(step)) for step in steps])
    # Keras evaluates in float32: rtol 1e-6 is a few ulps, atol 1e-7 * the peak lr covers 1 + cos(pi * x)
    # cancelling near the end of a period; a step in the wrong period costs up to the whole peak.
    np.testing.assert_allclose([ours(step) for step in steps], expected, rtol=1e-6, atol=1e-7 * expected.max())


# --- the suite has teeth: near-miss conventions fail the same tolerance ---


def max_diff(a, b):
    return max(float(np.abs(x - y).max()) for x, y in zip(a, b))


def test_torch_adafactor_has_no_clip_threshold_and_fails_parity():
    grads = gradient_stream(1.0)
    keras_weights = run_keras(K.Adafactor(0.05, clip_threshold=0.8), grads)
    native = run_torch(lambda p: torch.optim.Adafactor(p, lr=0.05, beta2_decay=-0.8, eps=(1e-30, 1e-3)), grads)
    assert max_diff(keras_weights, native) > 100 * ATOL


def test_the_stream_sees_the_ema_overwrite():
    grads = gradient_stream(1.0)
    keras_weights = run_keras(K.Adam(0.01, use_ema=True, ema_momentum=0.9, ema_overwrite_frequency=7), grads)
    assert max_diff(keras_weights, run_torch(lambda p: optim.Adam(p, 0.01), grads)) > 100 * ATOL


def test_keras_refuses_a_step_without_any_gradient_where_ptref_skips_it():
    """The convention ptref departs from on purpose (see KerasOptimizer): Keras raises, torch.optim skips."""
    with pytest.raises(ValueError, match="No gradients provided for any variable"):
        K.Adam().apply([None], [keras.Variable(np.ones(2, np.float32))])
