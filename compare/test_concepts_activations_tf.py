"""The activations lesson: ``tf.nn`` / ``tf.keras.activations`` with ``GradientTape`` (live) and
``torch.nn.functional`` with autograd give the same functions and derivatives.

Tolerance: rtol 1e-5 and atol 1e-6. Both compute in float32 with their own kernels: a function or derivative
is a few roundings apart (1e-7 relative), except exact GELU at negative x, where 1 + erf(x/√2) cancels and the
two kernels differ by 5e-7 absolute at x = −3 (TensorFlow's is the one within 1e-9 of the true value).
"""

from __future__ import annotations

import numpy as np
import pytest

from compare.lesson_pairs import ran
from ptref.concepts import activations

RTOL, ATOL = 1e-5, 1e-6
SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805
# keys that say what each framework's defaults are: compared one by one below
DEFAULTS = {
    "relu_and_leaky_relu": ("Keras default a: activations.leaky_relu, layers.LeakyReLU",
                            "torch default a: F.leaky_relu, nn.LeakyReLU"),
    "gelu_exact_vs_tanh": ("Keras default approximate: activations.gelu, ops.gelu, tf.nn.gelu",
                           "torch default approximate: F.gelu, nn.GELU"),
}


@pytest.mark.parametrize("step", [s.__name__ for s in activations.STEPS])
def test_tensorflow_and_pytorch_agree_on_every_value(step: str) -> None:
    tf_values, torch_values = ran("activations")[step]
    tf_only, torch_only = DEFAULTS.get(step, (None, None))
    assert tf_values.keys() - {tf_only} == torch_values.keys() - {torch_only}
    for key, torch_value in torch_values.items():
        if key == torch_only:
            continue
        if step == "elu_and_selu" and key in ("selu'(x), autograd", "selu'(0)"):
            continue  # x = 0 is SELU's kink: see the next test
        np.testing.assert_allclose(tf_values[key], torch_value, rtol=RTOL, atol=ATOL, err_msg=key)


def test_at_selus_kink_tensorflow_takes_the_right_derivative_and_pytorch_the_left() -> None:
    tf_values, torch_values = ran("activations")["elu_and_selu"]
    np.testing.assert_allclose(tf_values["selu'(0)"], SELU_SCALE, rtol=1e-7)  # float32 rounding of λ
    np.testing.assert_allclose(torch_values["selu'(0)"], SELU_SCALE * SELU_ALPHA, rtol=1e-7)
    away_from_0 = [i for i in range(7) if i != 3]
    np.testing.assert_allclose(
        np.take(tf_values["selu'(x), autograd"], away_from_0),
        np.take(torch_values["selu'(x), autograd"], away_from_0),
        rtol=RTOL,
        atol=ATOL,
    )


def test_gradient_tape_matches_the_closed_forms() -> None:
    """TensorFlow's own side: each derivative by GradientTape equals its closed form (SELU away from 0)."""
    pairs = {
        "sigmoid": [("σ'(x), autograd", "σ'(x) = σ(1 − σ)")],
        "tanh": [("tanh'(x), autograd", "tanh'(x) = 1 − tanh²")],
        "elu_and_selu": [("elu'(x), autograd", "elu'(x) = 1 or eˣ")],
        "gelu_exact_vs_tanh": [("gelu'(x), autograd", "gelu'(x) = Φ + xφ")],
        "softplus_and_swish": [("silu'(x), autograd", "silu'(x) = σ(1 + x(1 − σ))")],
    }
    for step, keys in pairs.items():
        tf_values, _ = ran("activations")[step]
        for taped, closed in keys:
            np.testing.assert_allclose(tf_values[taped], tf_values[closed], rtol=RTOL, atol=ATOL, err_msg=taped)


def test_default_slopes_and_gelu_forms_differ_between_the_libraries() -> None:
    (tf_relu, torch_relu), (tf_gelu, torch_gelu) = (ran("activations")[step] for step in DEFAULTS)
    tf_key, torch_key = DEFAULTS["relu_and_leaky_relu"]
    assert (tf_relu[tf_key], torch_relu[torch_key]) == ([0.2, 0.3], [0.01, 0.01])
    tf_key, torch_key = DEFAULTS["gelu_exact_vs_tanh"]
    # keras.ops.gelu alone defaults to the tanh approximation
    assert (tf_gelu[tf_key], torch_gelu[torch_key]) == ([False, True, False], "none")


def test_ten_sigmoid_layers_vanish_below_the_bound_in_both() -> None:
    for values in ran("activations")["vanishing_gradient_chain"]:
        np.testing.assert_allclose(values["dh/dx, autograd"], values["product of the σ'"], rtol=1e-6)
        assert values["dh/dx, autograd"] < values["bound 0.25¹⁰"] == 0.25**10
