"""ptref.losses under Keras's names: float64 NumPy references for the simple formulas, golden values from Keras's
own tests (keras/src/losses/losses_test.py, Keras 3.15), shape rules and name lookup. No TensorFlow here; Keras
running live is compare/test_losses_all_tf.py.

Tolerances. NumPy references: float64 on both sides, rtol 1e-10 + atol 1e-12 (only rounding of ~1e-15; any formula
difference is > 1e-4). Keras's golden values: Keras's own tolerance for each, as its test states it (Keras's
``assertAlmostEqual`` is ``np.testing.assert_almost_equal(decimal=3)``: |x - y| < 1.5e-3; its ``assertAllClose``
is rtol 1e-6 + atol 1e-6), computed in float32 as Keras does.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ptref.losses as losses

EPS = 1e-7
rng = np.random.default_rng(3)
B, C = 6, 4
F64 = "float64"


def t(x) -> torch.Tensor:
    return torch.as_tensor(np.asarray(x, dtype=np.float64))


def close(actual: torch.Tensor, expected) -> None:
    np.testing.assert_allclose(actual.numpy(), expected, rtol=1e-10, atol=1e-12)


def keras_decimal(actual: torch.Tensor, expected, decimal: int = 3) -> None:
    """Keras's TestCase.assertAlmostEqual (decimal=3 unless its test says otherwise)."""
    np.testing.assert_almost_equal(actual.numpy(), expected, decimal=decimal)


def keras_allclose(actual: torch.Tensor, expected) -> None:
    np.testing.assert_allclose(actual.numpy(), expected, rtol=1e-6, atol=1e-6)  # Keras's assertAllClose default


# ---------------------------------------------------------------- per-sample functions, float64 NumPy references
Y, P = rng.normal(size=(B, 3)), 3 * rng.normal(size=(B, 3))
PROB_T, PROB_P = rng.dirichlet(np.ones(C), B), rng.dirichlet(np.ones(C), B)
PROB_T[0, 0] = 0.0
ONEHOT = np.eye(C)[rng.integers(0, C, B)]
BIN = rng.integers(0, 2, (B, 3)).astype(float)


def normalized(x):
    return x / np.sqrt((x**2).sum(-1, keepdims=True))


def binary_probabilities():
    p = rng.uniform(size=(B, 3))
    p[0, :2] = [0.0, 1.0]
    return p


P_BIN = binary_probabilities()
REFERENCES = {
    "mean_absolute_error": (Y, P, {}, np.abs(Y - P).mean(-1)),
    "mean_absolute_percentage_error": (np.where(Y > 1, 0.0, Y), P, {},
                                       100 * (np.abs(np.where(Y > 1, 0.0, Y) - P)
                                              / np.maximum(np.abs(np.where(Y > 1, 0.0, Y)), EPS)).mean(-1)),
    "mean_squared_logarithmic_error": (np.abs(Y), P, {},
                                       ((np.log(np.maximum(P, EPS) + 1) - np.log(np.abs(Y) + 1)) ** 2).mean(-1)),
    "cosine_similarity": (Y, P, {}, -(normalized(Y) * normalized(P)).sum(-1)),
    "log_cosh": (Y, P, {}, np.log(np.cosh(P - Y)).mean(-1)),
    "hinge": (BIN, P, {}, np.maximum(1 - (2 * BIN - 1) * P, 0).mean(-1)),
    "squared_hinge": (BIN, P, {}, (np.maximum(1 - (2 * BIN - 1) * P, 0) ** 2).mean(-1)),
    "categorical_hinge": (ONEHOT, PROB_P, {},
                          np.maximum((PROB_P * (1 - ONEHOT)).max(-1) - (PROB_P * ONEHOT).sum(-1) + 1, 0)),
    "kl_divergence": (PROB_T, PROB_P, {}, (np.clip(PROB_T, EPS, 1) * np.log(np.clip(PROB_T, EPS, 1) / PROB_P)).sum(-1)),
    "binary_focal_crossentropy": (
        BIN, P_BIN, {"apply_class_balancing": True, "alpha": 0.3, "gamma": 1.5},
        ((BIN * 0.3 + (1 - BIN) * 0.7) * (1 - (BIN * P_BIN + (1 - BIN) * (1 - P_BIN))) ** 1.5
         * -(BIN * np.log(np.clip(P_BIN, EPS, 1 - EPS)) + (1 - BIN) * np.log(1 - np.clip(P_BIN, EPS, 1 - EPS)))
         ).mean(-1)),
    "categorical_focal_crossentropy": (
        ONEHOT, 2 * PROB_P, {"alpha": 0.4, "gamma": 3.0},
        (0.4 * (1 - np.clip(PROB_P, EPS, 1 - EPS)) ** 3 * -ONEHOT * np.log(np.clip(PROB_P, EPS, 1 - EPS))).sum(-1)),
    "dice": (BIN, P_BIN, {"axis": 1}, 1 - 2 * (BIN * P_BIN).sum(1) / (BIN.sum(1) + P_BIN.sum(1) + EPS)),
    "tversky": (BIN, P_BIN, {"alpha": 0.2, "beta": 0.8, "axis": 1},
                1 - (BIN * P_BIN).sum(1) / ((BIN * P_BIN).sum(1) + 0.2 * ((1 - P_BIN) * BIN).sum(1)
                                            + 0.8 * (P_BIN * (1 - BIN)).sum(1) + EPS)),
}


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_loss_function_returns_one_value_per_sample_by_its_formula(name):
    y_true, y_pred, kwargs, expected = REFERENCES[name]
    close(getattr(losses, name)(t(y_true), t(y_pred), **kwargs), expected)


def test_categorical_generalized_cross_entropy_takes_integer_labels_and_squeezes_b1():
    labels = rng.integers(0, C, B)
    expected = (1 - PROB_P[np.arange(B), labels] ** 0.3) / 0.3
    close(losses.categorical_generalized_cross_entropy(torch.as_tensor(labels), t(PROB_P), q=0.3), expected)
    close(losses.categorical_generalized_cross_entropy(torch.as_tensor(labels[:, None]), t(PROB_P), q=0.3), expected)


@pytest.mark.parametrize("name", ["mean_squared_error", "binary_crossentropy", "categorical_crossentropy", "poisson",
                                  "huber", "sparse_categorical_crossentropy"])
def test_keras_function_names_return_per_sample_losses_not_the_batch_mean(name):
    y_true = rng.integers(0, C, B) if name.startswith("sparse") else ONEHOT
    assert getattr(losses, name)(t(y_true), t(PROB_P)).shape == (B,)


def test_classes_reduce_what_the_functions_return_per_sample():
    per_sample = losses.kl_divergence(t(PROB_T), t(PROB_P))
    weights = rng.uniform(size=B)
    close(losses.KLDivergence(dtype=F64)(t(PROB_T), t(PROB_P), t(weights)), (per_sample.numpy() * weights).mean())
    close(losses.KLDivergence("sum", dtype=F64)(t(PROB_T), t(PROB_P)), per_sample.numpy().sum())


# ---------------------------------------------------------------- golden values from Keras's losses_test.py
MSE_TRUE, MSE_PRED = np.array([[1, 9, 2], [-5, -2, 6]]), np.array([[4, 8, 12], [8, 1, 3]], dtype="float32")
HINGE_TRUE, HINGE_PRED = np.array([[0.0, 1.0], [0.0, 0.0]]), np.array([[0.6, 0.4], [0.4, 0.6]])
CCE_TRUE = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]])
CCE_PRED = np.array([[0.9, 0.05, 0.05], [0.5, 0.89, 0.6], [0.05, 0.01, 0.94]], dtype="float32")
SEG_TRUE = np.array([[1, 0, 1, 0], [0, 1, 0, 1], [1, 0, 1, 0], [0, 1, 0, 1]])
SEG_PRED = np.array([[0, 1, 0, 1], [1, 0, 1, 1], [0, 1, 0, 1], [1, 0, 1, 1]])
SEG4_TRUE = np.array([[[[1.0], [1.0]], [[0.0], [0.0]]], [[[1.0], [1.0]], [[0.0], [0.0]]]])
SEG4_PRED = np.array([[[[0.0], [1.0]], [[0.0], [1.0]]], [[[0.4], [0.0]], [[0.0], [0.9]]]])
CIRCLE_TRUE = np.array([1, 1, 2, 2, 3])
CIRCLE_PRED = np.array([
    [0.70014004, -0.42008403, 0.14002801, 0.56011203], [0.17609018, 0.70436073, -0.52827054, 0.44022545],
    [-0.34050261, 0.25537696, -0.68100522, 0.59587957], [0.32163376, -0.75047877, 0.53605627, -0.21442251],
    [0.51261459, -0.34174306, 0.17087153, 0.76892189]])


def call(loss, y_true, y_pred, sample_weight=None):
    return loss(torch.as_tensor(y_true), torch.as_tensor(y_pred),
                None if sample_weight is None else torch.as_tensor(sample_weight))


# (Keras test, loss, y_true, y_pred, sample_weight, expected, decimal of its assertAlmostEqual or None for
# assertAllClose); every decimal here is 3, Keras's default, as in those tests
GOLDEN = [
    ("MeanSquaredErrorTest.test_unweighted", losses.MeanSquaredError(), MSE_TRUE, MSE_PRED, None, 49.5, 3),
    ("MeanSquaredErrorTest.test_sample_weighted", losses.MeanSquaredError(), MSE_TRUE, MSE_PRED,
     np.array([[1.2], [3.4]]), 767.8 / 6, 3),
    ("MeanSquaredErrorTest.test_timestep_weighted", losses.MeanSquaredError(),
     np.asarray([1, 9, 2, -5, -2, 6]).reshape(2, 3, 1), np.asarray([4, 8, 12, 8, 1, 3]).reshape(2, 3, 1),
     np.array([3, 6, 5, 0, 4, 2]).reshape((2, 3)), 97.833336, 3),
    ("MeanSquaredErrorTest.test_no_reduction", losses.MeanSquaredError(reduction=None), MSE_TRUE, MSE_PRED, 2.3,
     [84.3333, 143.3666], 3),
    ("MeanAbsoluteErrorTest.test_sum_reduction", losses.MeanAbsoluteError(reduction="sum"), MSE_TRUE, MSE_PRED, 2.3,
     25.29999, 3),
    ("MeanAbsolutePercentageErrorTest.test_unweighted", losses.MeanAbsolutePercentageError(), MSE_TRUE, MSE_PRED, None,
     211.8518, 3),
    ("MeanSquaredLogarithmicErrorTest.test_unweighted", losses.MeanSquaredLogarithmicError(), MSE_TRUE, MSE_PRED, None,
     1.4370, 3),
    ("HingeTest.test_weighted", losses.Hinge(), HINGE_TRUE, HINGE_PRED, [1, 0], 0.55, 3),
    ("SquaredHingeTest.test_unweighted", losses.SquaredHinge(reduction=None), HINGE_TRUE, HINGE_PRED, None,
     [1.46, 2.26], None),
    ("CategoricalHingeTest.test_unweighted", losses.CategoricalHinge(reduction=None), HINGE_TRUE, HINGE_PRED, None,
     [1.2, 1.6], None),
    ("BinaryCrossentropyTest.test_unweighted", losses.BinaryCrossentropy(),
     np.array([1, 0, 1, 0]).reshape([2, 2]), np.array([1, 1, 1, 0], dtype=np.float32).reshape([2, 2]), None,
     3.98559, 3),
    ("BinaryCrossentropyTest.test_unweighted (logits)", losses.BinaryCrossentropy(from_logits=True),
     np.array([[1, 0, 1], [0, 1, 1]]), np.array([[10.0, -10.0, 10.0], [10.0, 10.0, -10.0]]), None, 3.3333, 3),
    ("CategoricalCrossentropyTest.test_unweighted", losses.CategoricalCrossentropy(), CCE_TRUE, CCE_PRED, None,
     0.3239, 3),
    ("CategoricalCrossentropyTest.test_no_reduction", losses.CategoricalCrossentropy(from_logits=True, reduction=None),
     CCE_TRUE, np.array([[8.0, 1.0, 1.0], [0.0, 9.0, 1.0], [2.0, 3.0, 5.0]]), None, (0.001822, 0.000459, 0.169846),
     None),
    ("SparseCategoricalCrossentropyTest.test_ignore_class",
     losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-1, reduction=None), np.array([[[-1], [2]]]),
     np.array([[[0.854, 0.698, 0.598], [0.088, 0.86, 0.018]]]), None, [[0.0, 1.480129]], None),
    ("BinaryFocalCrossentropyTest.test_unweighted (logits)",
     losses.BinaryFocalCrossentropy(gamma=3.0, from_logits=True),
     np.array([[1, 1, 0], [0, 1, 0]], dtype="float32"), np.array([[1.5, -2.7, 2.9], [-3.8, 1.2, -4.5]]), None,
     0.799, 3),
    ("CategoricalFocalCrossentropyTest.test_unweighted", losses.CategoricalFocalCrossentropy(), CCE_TRUE, CCE_PRED,
     None, 0.02059, 3),
    ("CTCTest.test_correctness", losses.CTC(), np.array([[1, 2, 1, 0], [1, 2, 0, 2]]),
     (np.arange(24).reshape((2, 4, 3)).astype("float32") - 12) / 100, None, 2.448645, None),
    ("DiceTest.test_binary_segmentation", losses.Dice(), SEG_TRUE, SEG_PRED, None, 0.77777773, None),
    ("DiceTest.test_binary_segmentation_with_axis", losses.Dice(axis=(1, 2, 3), reduction=None), SEG4_TRUE, SEG4_PRED,
     None, [0.5, 0.75757575], None),
    ("TverskyTest.test_binary_segmentation_custom_coefficients", losses.Tversky(alpha=0.2, beta=0.8), SEG_TRUE,
     SEG_PRED, None, 0.7916667, None),
    ("TverskyTest.test_binary_segmentation_custom_coefficients_with_axis",
     losses.Tversky(alpha=0.2, beta=0.8, axis=(1, 2, 3), reduction=None), SEG4_TRUE, SEG4_PRED, None,
     [0.5, 0.7222222], None),
    ("CircleTest.test_correctness", losses.Circle(gamma=80.0, margin=0.4), CIRCLE_TRUE, CIRCLE_PRED, None, 188.3883, 3),
    ("CircleTest.test_correctness (gamma 256)", losses.Circle(gamma=256, margin=0.25), CIRCLE_TRUE, CIRCLE_PRED, None,
     652.7617, 3),
    ("CircleTest.test_correctness_weighted", losses.Circle(gamma=80.0, margin=0.4), CIRCLE_TRUE, CIRCLE_PRED,
     np.array([2.0, 2.0, 1.0, 1.0, 0.5]), 244.91918, 3),
    ("CategoricalGeneralizedCrossEntropyTest.test_basic_correctness_for_binary",
     losses.CategoricalGeneralizedCrossEntropy(q=0.8), np.array([0, 1, 0, 1]),
     np.array([[0.7, 0.3], [0.2, 0.8], [0.6, 0.4], [0.4, 0.6]]), None,
     np.mean((1 - np.array([0.7, 0.8, 0.6, 0.6]) ** 0.8) / 0.8), None),
]


@pytest.mark.parametrize("case", GOLDEN, ids=[case[0] for case in GOLDEN])
def test_loss_matches_keras_golden_value(case):
    _, loss, y_true, y_pred, sample_weight, expected, places = case
    actual = call(loss, y_true, y_pred, sample_weight)
    if places is None:
        keras_allclose(actual, expected)
    else:
        keras_decimal(actual, expected, places)


# ---------------------------------------------------------------- shapes: align a trailing 1, refuse the rest
ELEMENTWISE = ["MeanSquaredError", "MeanAbsoluteError", "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError",
               "CosineSimilarity", "Huber", "LogCosh", "Hinge", "SquaredHinge", "CategoricalHinge", "KLDivergence",
               "Poisson", "BinaryCrossentropy", "BinaryFocalCrossentropy", "CategoricalCrossentropy",
               "CategoricalFocalCrossentropy", "Dice", "Tversky"]


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_integer_labels_against_class_scores_raise_naming_both_shapes(name):
    with pytest.raises(ValueError, match=r"y_true.shape=\(6, 1\) and y_pred.shape=\(6, 4\)"):
        getattr(losses, name)()(torch.as_tensor(rng.integers(0, C, (B, 1))), t(PROB_P))


@pytest.mark.parametrize("name", ["SparseCategoricalCrossentropy", "CategoricalGeneralizedCrossEntropy"])
def test_labels_that_do_not_match_the_predictions_raise_naming_both_shapes(name):
    with pytest.raises(ValueError, match=r"y_true.shape=\(3,\) must be y_pred.shape=\(6, 4\)"):
        getattr(losses, name)()(torch.as_tensor([0, 1, 2]), t(PROB_P))


def test_ctc_refuses_labels_that_are_not_batch_by_length():
    with pytest.raises(ValueError, match=r"ctc: y_true must be \(batch_size, max_length\)"):
        losses.CTC()(torch.ones(2, 3, 1), torch.zeros(2, 5, 3))


def test_b_against_b1_is_aligned_for_every_elementwise_loss():
    y, p = rng.uniform(size=B), rng.uniform(size=(B, 1))
    for name in ELEMENTWISE:
        loss = getattr(losses, name)(reduction="none", dtype=F64)
        close(loss(t(y), t(p)), loss(t(y[:, None]), t(p)).numpy())


def test_unknown_reduction_is_refused_when_the_loss_is_built():
    with pytest.raises(ValueError, match="invalid reduction='abc'"):
        losses.Hinge(reduction="abc")


def test_generalized_cross_entropy_refuses_q_outside_0_1():
    with pytest.raises(ValueError, match=r"q=1.0 must be in the open interval \(0, 1\)"):
        losses.CategoricalGeneralizedCrossEntropy(q=1.0)


# ---------------------------------------------------------------- masks and dtype
def test_mask_leaves_masked_entries_out_of_the_loss_and_its_divisor():
    y, p = rng.normal(size=(B, 5, 3)), rng.normal(size=(B, 5, 3))
    mask = rng.uniform(size=(B, 5)) > 0.3
    per_step = ((y - p) ** 2).mean(-1)
    close(losses.MeanSquaredError(dtype=F64)(t(y), t(p), mask=torch.as_tensor(mask)), per_step[mask].mean())


def test_dtype_argument_sets_the_computation_dtype():
    y, p = t(Y), t(P)
    assert losses.LogCosh()(y, p).dtype == torch.get_default_dtype()
    assert losses.LogCosh(dtype="float64")(y, p).dtype == torch.float64
    assert losses.LogCosh(dtype=torch.bfloat16)(y, p).dtype == torch.bfloat16
    with pytest.raises(ValueError, match="not a floating dtype"):
        losses.LogCosh(dtype="int32")


# ---------------------------------------------------------------- names: get, serialize, aliases
@pytest.mark.parametrize("alias, function", [
    ("mse", "mean_squared_error"), ("MSE", "mean_squared_error"), ("mae", "mean_absolute_error"),
    ("MAPE", "mean_absolute_percentage_error"), ("msle", "mean_squared_logarithmic_error"),
    ("kld", "kl_divergence"), ("KLD", "kl_divergence"), ("bce", "binary_crossentropy"),
])
def test_keras_short_names_resolve_to_the_per_sample_function(alias, function):
    assert losses.get(alias) is getattr(losses, function) is getattr(losses, alias)


def test_keras2_long_names_are_module_attributes_but_not_get_names_as_in_keras3():
    assert losses.kullback_leibler_divergence is losses.kl_divergence and losses.logcosh is losses.log_cosh
    with pytest.raises(ValueError, match="Keras 3 calls it 'kl_divergence'"):
        losses.get("kullback_leibler_divergence")


def test_get_builds_class_instances_and_passes_callables_through():
    assert losses.get(None) is None
    assert isinstance(losses.get("CategoricalFocalCrossentropy"), losses.CategoricalFocalCrossentropy)
    assert isinstance(losses.get(losses.Poisson), losses.Poisson)
    tversky = losses.Tversky(alpha=0.1, beta=0.9, axis=(1,), reduction="sum", name="tv", dtype="float64")
    assert losses.get(tversky) is tversky
    rebuilt = losses.get(losses.serialize(tversky))
    assert type(rebuilt) is losses.Tversky and rebuilt.get_config() == tversky.get_config()
    assert losses.deserialize(losses.serialize(losses.huber)) is losses.huber
