"""The optimizers lessons run in TensorFlow (live) and in PyTorch: Keras takes the same steps as ptref.optim.

Both sides of every step are run once by ``ptref.concepts.lesson.run_lesson`` (what ``ptref lesson optimizers``
and ``ptref lesson adaptive_optimizers`` print). Tolerances, absolute for w (|w| < 2) with a relative part for
larger values:
- ``SAME_RULE``: Keras against ptref.optim, the same float32 formula: a float32 ulp is ≤ 1.2e-7 for |w| < 2;
  two of them (measured: 0, bit for bit); rtol 1e-7, atol 2.5e-7.
- ``HAND`` / ``KERAS_ADAM``: Keras against the float64 hand steps, as in ``tests/test_concepts_optimizers.py``
  (5e-7: four float32 steps; 1e-5: the Adam family's float32 1 − βᵗ and ε before the bias correction).
"""

from __future__ import annotations

import numpy as np
import pytest

from compare.lesson_pairs import ran as ran_lesson

SAME_RULE = {"rtol": 1e-7, "atol": 2.5e-7}
HAND = {"rtol": 1e-7, "atol": 5e-7}
KERAS_ADAM = {"rtol": 1e-7, "atol": 1e-5}


def ran() -> dict[str, tuple[dict, dict]]:
    """``step -> (TensorFlow values, PyTorch values)`` of both lessons, run once; fails if TensorFlow did not run."""
    return {**ran_lesson("optimizers"), **ran_lesson("adaptive_optimizers")}


# (step, Keras key, ptref key, hand key, tolerance against the hand steps)
KERAS_PTREF_HAND = [
    ("momentum", "keras.optimizers.SGD", "ptref.optim.SGD", "by hand (NumPy)", HAND),
    ("momentum_as_ema", "keras.optimizers.SGD(α(1−β), β)", "ptref.optim.SGD(α(1−β), β)",
     "the texts' average, by hand", HAND),
    ("momentum_as_ema", "SGD(α, β), the naive port", "SGD(α, β), the naive port", None, None),
    ("nesterov", "keras.optimizers.SGD", "ptref.optim.SGD", "by hand (NumPy)", HAND),
    ("adagrad", "keras.optimizers.Adagrad", "ptref.optim.Adagrad", "by hand, a₀ = 0.1", HAND),
    ("adagrad", "keras.optimizers.Adagrad(a₀ = 0)", "torch.optim.Adagrad defaults (a₀ = 0)", "by hand, a₀ = 0", HAND),
    ("adadelta", "keras.optimizers.Adadelta", "ptref.optim.Adadelta", "by hand (NumPy)", HAND),
    ("rmsprop", "keras.optimizers.RMSprop", "ptref.optim.RMSprop", "by hand, ε inside √", HAND),
    ("adam", "keras.optimizers.Adam", "ptref.optim.Adam", "Adam by hand", KERAS_ADAM),
    ("adam", "keras.optimizers.Adam(amsgrad)", "ptref.optim.Adam(amsgrad)", "AMSGrad by hand", KERAS_ADAM),
    ("adam_as_a_text_prints_it", "keras.optimizers.Adam(beta_2=0.9)", "ptref.optim.Adam(beta_2=0.9)", None, None),
    ("adamax", "keras.optimizers.Adamax", "ptref.optim.Adamax", "by hand (NumPy)", HAND),
    ("nadam", "keras.optimizers.Nadam", "ptref.optim.Nadam", "by hand (NumPy)", KERAS_ADAM),
]


@pytest.mark.parametrize(("step", "keras", "ptref", "hand", "hand_tolerance"), KERAS_PTREF_HAND)
def test_keras_takes_the_steps_of_ptref_and_of_the_hand_rule(step, keras, ptref, hand, hand_tolerance) -> None:
    tf_values, torch_values = ran()[step]
    np.testing.assert_allclose(tf_values[keras], torch_values[ptref], **SAME_RULE, err_msg=f"{step}: {keras}")
    if hand is not None:
        np.testing.assert_allclose(tf_values[keras], torch_values[hand], **hand_tolerance, err_msg=f"{step}: {hand}")


def test_every_keras_path_is_compared() -> None:
    compared = {(step, keras) for step, keras, *_ in KERAS_PTREF_HAND}
    shown = {(step, key) for step, (tf_values, _) in ran().items() for key, value in tf_values.items()}
    paths = {(step, key) for step, key in shown if step not in ("gradient_descent_variants", "optimizers_on_a_valley")}
    assert paths - compared == {("adam_as_a_text_prints_it", "first step ÷ α, Adam")}


def test_keras_sgd_runs_gd_minibatch_and_sgd_as_ptref_does() -> None:
    tf_values, torch_values = ran()["gradient_descent_variants"]
    for name, hand in torch_values["by hand (NumPy)"].items():
        keras = tf_values["keras.optimizers.SGD"][name]
        np.testing.assert_allclose(keras, torch_values["ptref.optim.SGD"][name], **SAME_RULE, err_msg=name)
        np.testing.assert_allclose(keras, hand, **HAND, err_msg=name)


def test_keras_momentum_with_lr_alpha_one_minus_beta_is_the_ema_bit_for_bit() -> None:
    """Exact: α = 0.5, β = 0.75 and short binary-fraction gradients, so neither form rounds."""
    tf_values, torch_values = ran()["momentum_as_ema"]
    assert tf_values["keras.optimizers.SGD(α(1−β), β)"] == torch_values["the texts' average, by hand"]


def test_keras_adam_first_step_is_alpha_the_texts_is_0_316_alpha() -> None:
    tf_values, torch_values = ran()["adam_as_a_text_prints_it"]
    np.testing.assert_allclose(tf_values["first step ÷ α, Adam"], torch_values["first step ÷ α, Adam"], **SAME_RULE)
    np.testing.assert_allclose(tf_values["first step ÷ α, Adam"], [1.0, 1.0], rtol=0, atol=2e-5)  # 1e-5 over α
    assert max(torch_values["first step ÷ α, the text's"]) < 0.32


def test_keras_and_ptref_reach_the_same_point_down_the_valley() -> None:
    tf_values, torch_values = ran()["optimizers_on_a_valley"]
    assert tf_values.keys() == torch_values.keys()
    for name, f in torch_values.items():
        # 30 steps feed each rounding back into the next gradient (measured ≤ 2e-7 relative); f from 2e-4 to 0.4
        assert tf_values[name] == pytest.approx(f, rel=1e-5, abs=1e-9), name
