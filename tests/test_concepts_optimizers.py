"""The optimizers lessons: ptref.optim and torch.optim follow the NumPy hand steps; the course texts' forms.

Tolerances (absolute part for w, which stays within |w| < 2, relative part for larger values):
- ``PATH``: float32 paths against float64 hand steps. A float32 ulp is ≤ 1.2e-7 for |w| < 2 and each of the four
  steps rounds a few times (measured ≤ 1.2e-7); rtol 1e-7, atol 5e-7.
- ``KERAS_ADAM``: Keras's Adam family (and ptref's, which is Keras-exact) takes 1 − βᵗ in float32 and adds ε to √v
  before the bias correction: each step is 1.3e-5 of itself short of the formula, 1.3e-6 of a 0.1 step (measured
  3.2e-6 after four steps); rtol 1e-7, atol 1e-5.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ptref.concepts import adaptive_optimizers, optimizers

PATH = {"rtol": 1e-7, "atol": 5e-7}
KERAS_ADAM = {"rtol": 1e-7, "atol": 1e-5}

FOLLOW_THE_HAND = [
    # (step, hand key, library key, tolerance)
    ("momentum", "by hand (NumPy)", "ptref.optim.SGD", PATH),
    ("momentum", "by hand (NumPy)", "torch.optim.SGD", PATH),
    ("nesterov", "by hand (NumPy)", "ptref.optim.SGD", PATH),
    ("nesterov", "by hand (NumPy)", "torch.optim.SGD", PATH),
    ("adagrad", "by hand, a₀ = 0.1", "ptref.optim.Adagrad", PATH),
    ("adagrad", "by hand, a₀ = 0.1", "torch.optim.Adagrad(a₀ = 0.1 + ε, eps = 0)", PATH),
    ("adagrad", "by hand, a₀ = 0", "torch.optim.Adagrad defaults (a₀ = 0)", PATH),
    ("adadelta", "by hand (NumPy)", "ptref.optim.Adadelta", PATH),
    ("adadelta", "by hand (NumPy)", "torch.optim.Adadelta", PATH),
    ("rmsprop", "by hand, ε inside √", "ptref.optim.RMSprop", PATH),
    ("rmsprop", "by hand, ε outside √", "torch.optim.RMSprop", PATH),
    ("adam", "Adam by hand", "ptref.optim.Adam", KERAS_ADAM),
    ("adam", "Adam by hand", "torch.optim.Adam", PATH),
    ("adam", "AMSGrad by hand", "ptref.optim.Adam(amsgrad)", KERAS_ADAM),
    ("adam", "AMSGrad by hand", "torch.optim.Adam(amsgrad)", PATH),
    ("adamax", "by hand (NumPy)", "ptref.optim.Adamax", PATH),
    ("adamax", "by hand (NumPy)", "torch.optim.Adamax", PATH),  # its ε moves w by ~1e-8 here
    ("nadam", "by hand (NumPy)", "ptref.optim.Nadam", KERAS_ADAM),
    ("nadam", "by hand (NumPy)", "torch.optim.NAdam", PATH),
]


def run(step: str) -> dict:
    module = optimizers if step in {f.__name__ for f in optimizers.STEPS} else adaptive_optimizers
    return getattr(module, step)()


@pytest.mark.parametrize(("step", "hand", "library", "tolerance"), FOLLOW_THE_HAND)
def test_library_follows_the_hand_steps(step: str, hand: str, library: str, tolerance: dict) -> None:
    values = run(step)
    np.testing.assert_allclose(values[library], values[hand], **tolerance, err_msg=f"{step}: {library}")


def test_gd_minibatch_and_sgd_follow_the_hand_steps() -> None:
    values = optimizers.gradient_descent_variants()
    for library in ("ptref.optim.SGD", "torch.optim.SGD"):
        for name, hand in values["by hand (NumPy)"].items():
            np.testing.assert_allclose(values[library][name], hand, **PATH, err_msg=f"{library} {name}")


def test_gd_epoch_is_one_step_along_the_full_batch_gradient() -> None:
    x, y = optimizers.line_data()
    # from w = b = 0 the error is −y: ∂L/∂w = −2·mean(x·y), ∂L/∂b = −2·mean(y)
    expected = [optimizers.LR * 2 * np.mean(x * y), optimizers.LR * 2 * np.mean(y)]
    np.testing.assert_allclose(optimizers.gradient_descent_variants()["ptref.optim.SGD"]["GD"], expected, **PATH)


def test_ema_momentum_is_sgd_with_lr_alpha_times_one_minus_beta_bit_for_bit() -> None:
    """Exact equality: α = 0.5, β = 0.75 and the gradients are short binary fractions, so no step rounds."""
    values = optimizers.momentum_as_ema()
    hand = values["the texts' average, by hand"]
    assert values["ptref.optim.SGD(α(1−β), β)"] == hand
    assert values["torch.optim.SGD(α(1−β), β)"] == hand


def test_porting_the_ema_as_sgd_alpha_beta_moves_four_times_as_far() -> None:
    values = optimizers.momentum_as_ema()
    ema = np.array(values["the texts' average, by hand"]) - optimizers.W0
    naive = np.array(values["SGD(α, β), the naive port"]) - optimizers.W0
    assert (naive == ema / (1 - 0.75)).all()  # short binary fractions again: exact


def test_adagrad_first_step_is_damped_by_the_initial_accumulator() -> None:
    values = adaptive_optimizers.adagrad()
    g = optimizers.GRADIENTS[0]
    damped = optimizers.W0 - optimizers.LR * g / np.sqrt(0.1 + g**2 + optimizers.EPS)
    np.testing.assert_allclose(values["ptref.optim.Adagrad"][0], damped, **PATH)
    undamped = optimizers.W0 - optimizers.LR * np.sign(g)  # from a₀ = 0: ±α whatever |g|
    np.testing.assert_allclose(values["torch.optim.Adagrad defaults (a₀ = 0)"][0], undamped, **PATH)


def test_rmsprop_epsilon_inside_and_outside_the_root_give_different_paths() -> None:
    values = adaptive_optimizers.rmsprop()
    gap = np.abs(np.subtract(values["ptref.optim.RMSprop"], values["torch.optim.RMSprop"]))
    assert gap.max() > 1e-2  # ε = 0.01 against √v ≈ 0.16 for the small coordinate


def test_adadelta_without_epsilon_in_the_numerator_never_moves() -> None:
    path = adaptive_optimizers.adadelta()["by hand, no ε in the numerator"]
    assert path == [optimizers.W0.tolist()] * len(optimizers.GRADIENTS)


def test_adam_first_step_is_alpha_in_each_coordinate_whatever_the_gradient() -> None:
    first = optimizers.W0 - np.array(adaptive_optimizers.adam()["torch.optim.Adam"][0])
    np.testing.assert_allclose(first, optimizers.LR * np.sign(optimizers.GRADIENTS[0]), **PATH)


def test_keras_adam_first_step_is_short_by_float32_bias_correction_and_epsilon_hat() -> None:
    """The docstring's 1.3e-5: lr·√(1 − float32(0.999))/(1 − 0.9)·m/(√v + ε), m = 0.1·g, v = 0.001·g² at t = 1."""
    g = optimizers.GRADIENTS[0]
    correction = math.sqrt(1 - float(np.float32(0.999))) / 0.1
    expected = optimizers.LR * correction * 0.1 * g / (np.sqrt(0.001 * g**2) + optimizers.EPS)
    first = optimizers.W0 - np.array(adaptive_optimizers.adam()["ptref.optim.Adam"][0])
    np.testing.assert_allclose(first, expected, rtol=0, atol=2.5e-7)  # two float32 ulps of w ≈ 1
    assert 1 - first[0] / optimizers.LR == pytest.approx(1.3e-5, rel=0.05)


def test_amsgrad_departs_from_adam_only_when_v_shrinks() -> None:
    values = adaptive_optimizers.adam()
    adam, amsgrad = values["ptref.optim.Adam"], values["ptref.optim.Adam(amsgrad)"]
    assert adam[:3] == amsgrad[:3]  # v grew at every step so far: max(v̂, v) is v, bit for bit
    assert amsgrad[3][0] == adam[3][0] and amsgrad[3][1] != adam[3][1]  # only v₂ shrinks at step 4


def test_text_adam_first_step_is_0_316_alpha() -> None:
    values = adaptive_optimizers.adam_as_a_text_prints_it()
    # (1 − β₁)/√(1 − β₂) with β₂ = 0.9; ε moves it by ε/|g| ≤ 2e-7
    np.testing.assert_allclose(values["first step ÷ α, the text's"], [0.1 / math.sqrt(0.1)] * 2, rtol=1e-6, atol=0)
    np.testing.assert_allclose(values["first step ÷ α, Adam"], [1.0, 1.0], rtol=0, atol=2e-5)  # KERAS_ADAM over α


def test_gd_on_the_valley_matches_its_closed_form() -> None:
    """GD on (w₁² + 10w₂²)/2 multiplies w₁ by 1 − α and w₂ by 1 − 10α each step: α = 0.15, 30 steps."""
    w1, w2 = -4 * 0.85**30, 1.5 * (-0.5) ** 30
    expected = (w1**2 + 10 * w2**2) / 2
    # 30 float32 steps, each rounding w by ~6e-8 relative
    assert optimizers.optimizers_on_a_valley()["GD"] == pytest.approx(expected, rel=1e-5, abs=1e-9)


def test_every_optimizer_descends_the_valley() -> None:
    start = optimizers.valley(torch.tensor([-4.0, 1.5])).item()
    for name, f in optimizers.optimizers_on_a_valley().items():
        assert f < start / 10, name
