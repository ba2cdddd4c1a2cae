"""ptref.optim beside Keras: the same weights, the same 100 gradients, the same optimizer config.

Each case builds a Keras optimizer, serializes it (``keras.optimizers.serialize``) and builds the ptref one from
that config with ``ptref.optim.get``, so defaults, names and schedules travel exactly as a user's config would.

Tolerance: max |w_keras - w_torch| <= 1e-6 in float32. The weights stay within |w| < 8, where one float32 ulp is
at most 4.8e-7, so 1e-6 allows a couple of ulps of different rounding (e.g. Keras's fused ops, Python-float vs
float32 learning rates) and nothing else: every convention difference costs >= 1e-5 (see the last tests).
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import torch

import ptref.optim as optim
from compare.optimizer_feed import gradient_stream, max_diff, run_keras, run_torch
from ptref.optim import schedules

TOLERANCE = 1e-6
K = keras.optimizers
KS = keras.optimizers.schedules
# Every optimizer with its defaults, then with schedules, clipping, weight decay and its own options combined.
CASES = {
    "SGD": lambda: K.SGD(),
    "SGD-momentum-exp-decay-clipnorm": lambda: K.SGD(KS.ExponentialDecay(0.05, 10, 0.5), momentum=0.9, clipnorm=1.0),
    "SGD-nesterov-piecewise-wd": lambda: K.SGD(
        KS.PiecewiseConstantDecay([20, 60], [0.05, 0.02, 0.005]), momentum=0.9, nesterov=True, weight_decay=0.01
    ),
    "RMSprop": lambda: K.RMSprop(),
    "RMSprop-momentum-centered-cosine-warmup-global": lambda: K.RMSprop(
        KS.CosineDecay(0.001, 60, alpha=0.1, warmup_target=0.005, warmup_steps=20),
        momentum=0.9, centered=True, global_clipnorm=2.0,
    ),
    "RMSprop-clipvalue-wd": lambda: K.RMSprop(0.01, clipvalue=0.5, weight_decay=0.05),
    "Adam": lambda: K.Adam(),
    "Adam-amsgrad-inverse-time-clipnorm": lambda: K.Adam(
        KS.InverseTimeDecay(0.02, 10, 0.5, staircase=True), amsgrad=True, clipnorm=1.0
    ),
    "AdamW-polynomial-global": lambda: K.AdamW(KS.PolynomialDecay(0.02, 80, power=2.0), global_clipnorm=3.0),
    "Adagrad": lambda: K.Adagrad(),
    "Adagrad-cosine-clipvalue": lambda: K.Adagrad(KS.CosineDecay(0.1, 50), clipvalue=0.8),
    "Adadelta": lambda: K.Adadelta(),
    "Adadelta-lr1-clipnorm": lambda: K.Adadelta(1.0, clipnorm=0.5),
    "Adamax": lambda: K.Adamax(),
    "Adamax-exp-staircase-wd": lambda: K.Adamax(KS.ExponentialDecay(0.02, 25, 0.5, staircase=True), weight_decay=0.1),
    "Nadam": lambda: K.Nadam(),
    "Nadam-cosine-clipnorm": lambda: K.Nadam(KS.CosineDecay(0.02, 100, alpha=0.2), clipnorm=1.0),
}


@pytest.mark.parametrize("scale", [1.0, 1e-4], ids=["g~1", "g~1e-4"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_optimizer_matches_keras_over_100_steps(case, scale):
    grads = gradient_stream(scale)
    keras_optimizer = CASES[case]()
    config = keras.optimizers.serialize(keras_optimizer)
    diff = max_diff(run_keras(keras_optimizer, grads), run_torch(optim.get(config), grads))
    assert diff <= TOLERANCE, f"{case}: max |dw| = {diff:.2e}"


@pytest.mark.parametrize("name", sorted(optim.OPTIMIZERS))
def test_defaults_are_keras_defaults(name):
    keras_config = getattr(K, optim.OPTIMIZERS[name].__name__)().get_config()  # keras.optimizers.get lacks "lamb"
    ours = optim.get(name)([torch.nn.Parameter(torch.zeros(1))])
    for key, value in ours.param_groups[0].items():
        if key in ("params", "use_adamw"):  # use_adamw: Muon's per-group form of Keras's variable-path rules
            continue
        keras_key = "learning_rate" if key == "lr" else key
        assert keras_config[keras_key] == pytest.approx(value), key
    assert (ours.clipnorm, ours.clipvalue, ours.global_clipnorm) == (None, None, None)


SCHEDULES = {
    "ExponentialDecay": (KS.ExponentialDecay, dict(initial_learning_rate=0.1, decay_steps=7, decay_rate=0.8)),
    "ExponentialDecay-staircase": (
        KS.ExponentialDecay, dict(initial_learning_rate=0.1, decay_steps=7, decay_rate=0.8, staircase=True)
    ),
    "InverseTimeDecay": (KS.InverseTimeDecay, dict(initial_learning_rate=0.1, decay_steps=5, decay_rate=0.3)),
    "PolynomialDecay": (KS.PolynomialDecay, dict(initial_learning_rate=0.1, decay_steps=60)),
    "PolynomialDecay-cycle": (
        KS.PolynomialDecay, dict(initial_learning_rate=0.1, decay_steps=40, power=0.5, cycle=True)
    ),
    "PiecewiseConstantDecay": (KS.PiecewiseConstantDecay, dict(boundaries=[10, 30, 31], values=[1.0, 0.5, 0.1, 0.01])),
    "CosineDecay": (KS.CosineDecay, dict(initial_learning_rate=0.1, decay_steps=50, alpha=0.1)),
    "CosineDecay-warmup": (
        KS.CosineDecay, dict(initial_learning_rate=0.0, decay_steps=50, warmup_target=0.1, warmup_steps=15)
    ),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedule_matches_keras_at_every_step(name):
    keras_cls, kwargs = SCHEDULES[name]
    ours = getattr(schedules, keras_cls.__name__)(**kwargs)
    keras_schedule = keras_cls(**kwargs)
    steps = range(150)
    expected = np.array([float(keras_schedule(step)) for step in steps])
    # Keras evaluates in float32: rtol 1e-6 is a few ulps, and atol 1e-7 * the peak lr covers float32 sums that
    # cancel (1 + cos(pi * x) near the end of a cosine). An off-by-one step costs >= 1e-2 relative.
    np.testing.assert_allclose([ours(step) for step in steps], expected, rtol=1e-6, atol=1e-7 * expected.max())


# --- the suite has teeth: the nearest torch-native settings fail the same tolerance ---


def test_torch_adam_with_its_default_epsilon_fails_parity():
    grads = gradient_stream(1e-4)
    keras_weights = run_keras(K.Adam(0.001), grads)
    native = run_torch(lambda p: torch.optim.Adam(p, lr=0.001), grads)  # eps=1e-8 outside the bias correction
    assert max_diff(keras_weights, native) > 100 * TOLERANCE


def test_torch_rmsprop_epsilon_outside_the_sqrt_fails_parity():
    grads = gradient_stream(1e-4)
    keras_weights = run_keras(K.RMSprop(0.001), grads)
    native = run_torch(lambda p: torch.optim.RMSprop(p, lr=0.001, alpha=0.9, eps=1e-7), grads)
    assert max_diff(keras_weights, native) > 100 * TOLERANCE
