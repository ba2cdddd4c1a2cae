"""Every name in ``keras.losses`` against ptref.losses, Keras running live, on non-default arguments.

Each case runs the Keras class and the ptref class of the same name with the same constructor arguments, on the
same random float32 inputs (probabilities with exact 0/1, logits up to |z| ~ 20, masks and weights with zeros),
under every reduction, with and without ``sample_weight``; then the per-sample function of the same name.

Tolerance (float32 on both sides): |ptref - keras| <= ATOL + RTOL |keras| with RTOL = 2e-6 (~16 ulp: a per-sample
loss sums up to 12 terms and the batch reduction up to 64 more, in a different order in TF and ATen) and
ATOL = 1e-6 (a loss near 0 is a difference of O(1) terms, so its rounding is absolute). Circle gets RTOL = 2e-5:
its exponents are gamma (64) times cosine distances that carry matmul rounding (~1e-7), i.e. ~1e-5 absolute on
losses ~100. Focal losses on logits take logits in [-4, 4]: Keras computes ``log(1 - sigmoid(z))``, where one ulp of
float32 sigmoid near 1 (TF's and ATen's sigmoids differ by that) is e^|z| ulp of the result, ~3e-6 at |z| = 4.
Any convention difference (divisor, clipping, smoothing, label mapping) is >= 1e-3 relative.
"""

from __future__ import annotations

import inspect
import re

import keras
import numpy as np
import pytest
import tensorflow as tf
import torch
from keras.src import backend as keras_backend

import ptref.losses as losses

RTOL, ATOL = 2e-6, 1e-6
rng = np.random.default_rng(7)
B, C, T = 8, 4, 5
f32 = np.float32


def probabilities(shape) -> np.ndarray:
    p = rng.uniform(size=shape)
    p.reshape(-1)[:4] = [0.0, 1.0, 1e-9, 1 - 1e-9]
    return p.astype(f32)


def distributions(shape) -> np.ndarray:
    z = 3 * rng.standard_normal(shape)
    p = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
    p.reshape(-1)[0] = 0.0
    return p.astype(f32)


def unit_rows(shape) -> np.ndarray:
    x = rng.standard_normal(shape)
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(f32)


def ctc_labels() -> np.ndarray:
    labels = rng.integers(1, C, size=(B, 3))
    labels[::3, 2] = 0  # shorter labels, padded with the blank
    return labels.astype(f32)


REAL = rng.standard_normal((B, 3)).astype(f32)
REAL_PRED = (3 * rng.standard_normal((B, 3))).astype(f32)
POSITIVE = rng.uniform(0.0, 5.0, (B, 3)).astype(f32)
BINARY = rng.integers(0, 2, (B, 3)).astype(f32)
SIGNS = (2 * BINARY - 1).astype(f32)
ONEHOT = np.eye(C, dtype=f32)[rng.integers(0, C, B)]
LABELS = rng.integers(0, C, B)
LOGITS = (8 * rng.standard_normal((B, C))).astype(f32)
BIN3D, P3D = rng.integers(0, 2, (B, T, 3)).astype(f32), probabilities((B, T, 3))

# id -> (class name, constructor kwargs, y_true, y_pred); the function of the same family gets the same kwargs
CASES = {
    "MeanSquaredError-B-vs-B1": ("MeanSquaredError", {}, REAL[:, 0], REAL_PRED[:, :1]),
    "MeanSquaredError-3d": ("MeanSquaredError", {}, P3D, BIN3D),
    "MeanAbsoluteError": ("MeanAbsoluteError", {}, REAL, REAL_PRED),
    "MeanAbsolutePercentageError": ("MeanAbsolutePercentageError", {}, np.where(REAL > 1, 0, REAL).astype(f32),
                                    REAL_PRED),
    "MeanSquaredLogarithmicError": ("MeanSquaredLogarithmicError", {}, POSITIVE, REAL_PRED),
    "CosineSimilarity-axis1": ("CosineSimilarity", {"axis": 1}, P3D, rng.standard_normal((B, T, 3)).astype(f32)),
    "CosineSimilarity-zero-row": ("CosineSimilarity", {}, np.vstack([np.zeros((1, 3), f32), REAL[1:]]), REAL_PRED),
    "Huber-delta0.7": ("Huber", {"delta": 0.7}, REAL, REAL_PRED),
    "LogCosh": ("LogCosh", {}, REAL, 10 * REAL_PRED),
    "Hinge-01-labels": ("Hinge", {}, BINARY, REAL_PRED),
    "Hinge-signed-labels": ("Hinge", {}, SIGNS, REAL_PRED),
    "SquaredHinge": ("SquaredHinge", {}, BINARY, REAL_PRED),
    "CategoricalHinge": ("CategoricalHinge", {}, ONEHOT, LOGITS),
    "KLDivergence": ("KLDivergence", {}, distributions((B, C)), distributions((B, C))),
    "Poisson": ("Poisson", {}, rng.poisson(2.0, (B, 3)).astype(f32), POSITIVE),
    "BinaryCrossentropy-smoothing": ("BinaryCrossentropy", {"label_smoothing": 0.1}, BINARY, probabilities((B, 3))),
    "BinaryCrossentropy-logits-axis1": ("BinaryCrossentropy", {"from_logits": True, "axis": 1}, BIN3D,
                                        (8 * rng.standard_normal((B, T, 3))).astype(f32)),
    "BinaryFocalCrossentropy-balanced": (
        "BinaryFocalCrossentropy",
        {"apply_class_balancing": True, "alpha": 0.4, "gamma": 1.5, "label_smoothing": 0.05}, BINARY,
        probabilities((B, 3))),
    "BinaryFocalCrossentropy-logits": ("BinaryFocalCrossentropy", {"from_logits": True, "gamma": 3.0}, BINARY,
                                       np.clip(2 * rng.standard_normal((B, 3)), -4, 4).astype(f32)),
    "CategoricalCrossentropy-probabilities": ("CategoricalCrossentropy", {}, ONEHOT, 1.7 * probabilities((B, C))),
    "CategoricalCrossentropy-logits-smoothing": (
        "CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.2}, ONEHOT, LOGITS),
    "CategoricalCrossentropy-axis1": ("CategoricalCrossentropy", {"axis": 1, "label_smoothing": 0.1},
                                      np.eye(C, dtype=f32)[rng.integers(0, C, (B, T))].transpose(0, 2, 1),
                                      probabilities((B, C, T))),
    "CategoricalFocalCrossentropy": (
        "CategoricalFocalCrossentropy", {"alpha": 0.3, "gamma": 3.0, "label_smoothing": 0.1}, ONEHOT,
        probabilities((B, C))),
    "CategoricalFocalCrossentropy-logits": ("CategoricalFocalCrossentropy", {"from_logits": True}, ONEHOT, LOGITS),
    "SparseCategoricalCrossentropy-probabilities": ("SparseCategoricalCrossentropy", {}, LABELS, probabilities((B, C))),
    "SparseCategoricalCrossentropy-B1-ignore": ("SparseCategoricalCrossentropy",
                                                {"from_logits": True, "ignore_class": 0}, LABELS[:, None], LOGITS),
    "SparseCategoricalCrossentropy-sequence-ignore": (
        "SparseCategoricalCrossentropy", {"from_logits": True, "ignore_class": 2}, rng.integers(0, C, (B, T)),
        (4 * rng.standard_normal((B, T, C))).astype(f32)),
    "CategoricalGeneralizedCrossEntropy-q0.3": ("CategoricalGeneralizedCrossEntropy", {"q": 0.3}, LABELS,
                                                distributions((B, C))),
    "Dice-default-axis": ("Dice", {}, BIN3D, P3D),
    "Dice-axis12": ("Dice", {"axis": (1, 2)}, BIN3D, P3D),
    "Tversky-axis12": ("Tversky", {"alpha": 0.3, "beta": 0.7, "axis": (1, 2)}, BIN3D, P3D),
    "Circle": ("Circle", {"gamma": 64.0, "margin": 0.25}, rng.integers(0, 3, B), unit_rows((B, 6))),
    "Circle-keep-diagonal": ("Circle", {"remove_diagonal": False}, rng.integers(0, 3, B), unit_rows((B, 6))),
    "CTC": ("CTC", {}, ctc_labels(), (2 * rng.standard_normal((B, 7, C))).astype(f32)),
}
FUNCTION_OF = {
    "MeanSquaredError": "mean_squared_error", "MeanAbsoluteError": "mean_absolute_error",
    "MeanAbsolutePercentageError": "mean_absolute_percentage_error",
    "MeanSquaredLogarithmicError": "mean_squared_logarithmic_error", "CosineSimilarity": "cosine_similarity",
    "Huber": "huber", "LogCosh": "log_cosh", "Hinge": "hinge", "SquaredHinge": "squared_hinge",
    "CategoricalHinge": "categorical_hinge", "KLDivergence": "kl_divergence", "Poisson": "poisson",
    "BinaryCrossentropy": "binary_crossentropy", "BinaryFocalCrossentropy": "binary_focal_crossentropy",
    "CategoricalCrossentropy": "categorical_crossentropy",
    "CategoricalFocalCrossentropy": "categorical_focal_crossentropy",
    "SparseCategoricalCrossentropy": "sparse_categorical_crossentropy",
    "CategoricalGeneralizedCrossEntropy": "categorical_generalized_cross_entropy", "Dice": "dice",
    "Tversky": "tversky", "Circle": "circle", "CTC": "ctc",
}
REDUCTIONS = ["sum_over_batch_size", "mean", "sum", "mean_with_sample_weight", "none", None]
WEIGHTS = rng.uniform(0.0, 3.0, B).astype(f32)
WEIGHTS[:2] = 0.0


def close(ours: torch.Tensor, theirs, rtol: float = RTOL) -> None:
    theirs = np.asarray(theirs)
    assert tuple(ours.shape) == theirs.shape
    np.testing.assert_allclose(ours.detach().numpy(), theirs, rtol=rtol, atol=ATOL)


def rtol_of(name: str) -> float:
    return 2e-5 if name == "Circle" else RTOL


def weights_for(per_sample: np.ndarray) -> np.ndarray:
    """One weight per sample, shaped (B, 1, ...) to broadcast over per-timestep losses as Keras does."""
    return WEIGHTS.reshape((B,) + (1,) * max(per_sample.ndim - 1, 0)) if per_sample.ndim else WEIGHTS


@pytest.mark.parametrize("reduction", REDUCTIONS, ids=str)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "sample_weight"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_loss_class_matches_keras(case, weighted, reduction):
    name, kwargs, y_true, y_pred = CASES[case]
    keras_loss = getattr(keras.losses, name)(**kwargs, reduction=reduction)
    ours = getattr(losses, name)(**kwargs, reduction=reduction)
    weight = weights_for(np.asarray(keras_loss.call(y_true, y_pred))) if weighted else None
    expected = keras_loss(y_true, y_pred, sample_weight=weight)
    close(ours(torch.as_tensor(y_true), torch.from_numpy(y_pred), None if weight is None else torch.from_numpy(weight)),
          expected, rtol_of(name))


@pytest.mark.parametrize("case", sorted(CASES))
def test_loss_function_is_keras_per_sample_function(case):
    name, kwargs, y_true, y_pred = CASES[case]
    function = FUNCTION_OF[name]
    if name == "CategoricalGeneralizedCrossEntropy":
        kwargs = {"q": kwargs.get("q", 0.5)}
    if y_true.shape != y_pred.shape and name not in ("SparseCategoricalCrossentropy", "Circle", "CTC",
                                                     "CategoricalGeneralizedCrossEntropy"):
        # Keras's bare functions leave rank alignment to the classes; ptref's functions align themselves
        y_true, y_pred = (np.array(x) for x in keras.src.losses.loss.squeeze_or_expand_to_same_rank(y_true, y_pred))
    expected = getattr(keras.losses, function)(y_true, y_pred, **kwargs)
    ours = getattr(losses, function)(torch.as_tensor(y_true), torch.from_numpy(y_pred), **kwargs)
    close(ours, expected, rtol_of(name))


def public_names(module) -> set[str]:
    return {name for name in dir(module) if not name.startswith("_")}


def test_every_keras_loss_name_exists_in_ptref_with_keras_arguments_and_defaults():
    missing = public_names(keras.losses) - public_names(losses)
    assert not missing
    for name in public_names(keras.losses) - {"get", "serialize", "deserialize"}:
        theirs = inspect.signature(getattr(keras.losses, name))
        ours = inspect.signature(getattr(losses, name))
        keras_params = [(p.name, p.default) for p in theirs.parameters.values()]
        our_params = [(p.name, p.default) for p in ours.parameters.values()][: len(keras_params)]
        assert our_params == keras_params, name


@pytest.mark.parametrize("name", sorted(keras.src.losses.ALL_OBJECTS_DICT))
def test_get_resolves_every_keras_name_to_the_same_kind_of_loss(name):
    if name == "LossFunctionWrapper":  # Keras's get() itself fails on it (the wrapper needs a function)
        with pytest.raises(TypeError):
            keras.losses.get(name)
        return
    theirs, ours = keras.losses.get(name), losses.get(name)
    if inspect.isfunction(theirs):
        assert ours is getattr(losses, theirs.__name__)
    else:
        assert type(ours).__name__ == type(theirs).__name__
        # Keras makes a default name unique per process ("loss", then "loss_1", ...): compare the name it started from
        assert re.sub(r"_\d+$", "", theirs.name) == ours.name


@pytest.mark.parametrize("name", ["kullback_leibler_divergence", "logcosh", "huber_loss", "log_loss", "MSE2"])
def test_get_refuses_the_names_keras_refuses(name):
    with pytest.raises(ValueError):
        keras.losses.get(name)
    with pytest.raises(ValueError, match="could not interpret loss identifier"):
        losses.get(name)


@pytest.mark.parametrize("case", ["Huber-delta0.7", "CategoricalCrossentropy-logits-smoothing",
                                  "SparseCategoricalCrossentropy-B1-ignore", "Tversky-axis12", "Circle"])
def test_get_builds_from_keras_config_dict(case):
    name, kwargs, y_true, y_pred = CASES[case]
    config = {"class_name": name, "config": {**kwargs, "reduction": "sum"}}
    expected = keras.losses.get(config)(y_true, y_pred)
    close(losses.get(config)(torch.as_tensor(y_true), torch.from_numpy(y_pred)), expected, rtol_of(name))
    serialized = keras.losses.serialize(keras.losses.get(config))  # Keras's own layout, read as it is
    assert type(losses.get(serialized)).__name__ == name


@pytest.mark.parametrize("name", ["BinaryCrossentropy", "CategoricalCrossentropy", "BinaryFocalCrossentropy"])
def test_equal_rank_different_shapes_raise_like_keras(name):
    y_true, y_pred = LABELS[:, None].astype(f32), probabilities((B, C))  # integer labels against C columns
    with pytest.raises(ValueError, match="must have the same shape"):
        getattr(keras.losses, name)()(y_true, y_pred)
    with pytest.raises(ValueError, match=r"y_true.shape=\(8, 1\) and y_pred.shape=\(8, 4\)"):
        getattr(losses, name)()(torch.from_numpy(y_true), torch.from_numpy(y_pred))


@pytest.mark.parametrize("reduction", REDUCTIONS, ids=str)
def test_mask_on_predictions_matches_keras_mask(reduction):
    y_true, y_pred = rng.standard_normal((B, T, 3)).astype(f32), rng.standard_normal((B, T, 3)).astype(f32)
    mask = rng.uniform(size=(B, T)) > 0.4
    keras_pred = tf.constant(y_pred)
    keras_backend.set_keras_mask(keras_pred, tf.constant(mask))
    expected = keras.losses.MeanSquaredError(reduction=reduction)(y_true, keras_pred,
                                                                   sample_weight=WEIGHTS[:, None])
    ours = losses.MeanSquaredError(reduction=reduction)(torch.from_numpy(y_true), torch.from_numpy(y_pred),
                                                        torch.from_numpy(WEIGHTS[:, None]), mask=torch.from_numpy(mask))
    close(ours, expected)


def test_dtype_argument_computes_in_that_dtype_like_keras():
    y_true, y_pred = REAL.astype(np.float64), (REAL_PRED.astype(np.float64) + 1e-9)
    expected = keras.losses.Huber(0.7, dtype="float64")(y_true, y_pred)
    ours = losses.Huber(0.7, dtype="float64")(torch.from_numpy(y_true), torch.from_numpy(y_pred))
    assert ours.dtype == torch.float64 and expected.dtype == tf.float64
    np.testing.assert_allclose(ours.numpy(), np.asarray(expected), rtol=1e-14, atol=0)  # float64 on both sides
    assert losses.Huber()(torch.from_numpy(y_true), torch.from_numpy(y_pred)).dtype == torch.float32  # floatx
