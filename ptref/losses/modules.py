"""Keras's loss classes as ``nn.Module``: ``loss = MeanSquaredError()(y_true, y_pred, sample_weight)``.

Same names, arguments (in the same order) and defaults as ``keras.losses.*``. Each one applies the per-sample
function of the same family (:mod:`ptref.losses.functional`) and then Keras's masking, weighting and reduction
(:class:`ptref.losses.base.Loss`). The formulas are in the functions' docstrings.
"""

from __future__ import annotations

from torch import Tensor

from ptref.losses import functional as F
from ptref.losses.base import DType, LossFunctionWrapper
from ptref.losses.reduction import Reduction
from ptref.losses.segmentation import Axis

SUM_OVER_BATCH = "sum_over_batch_size"


class MeanSquaredError(LossFunctionWrapper):
    """TF: ``keras.losses.MeanSquaredError``; per sample :func:`~ptref.losses.functional.mean_squared_error`."""

    def __init__(self, reduction: Reduction = SUM_OVER_BATCH, name: str = "mean_squared_error", dtype: DType = None):
        super().__init__(F.mean_squared_error, reduction, name, dtype)


class MeanAbsoluteError(LossFunctionWrapper):
    """TF: ``keras.losses.MeanAbsoluteError``; per sample :func:`~ptref.losses.functional.mean_absolute_error`."""

    def __init__(self, reduction: Reduction = SUM_OVER_BATCH, name: str = "mean_absolute_error", dtype: DType = None):
        super().__init__(F.mean_absolute_error, reduction, name, dtype)


class MeanAbsolutePercentageError(LossFunctionWrapper):
    """TF: ``keras.losses.MeanAbsolutePercentageError``; per sample
    :func:`~ptref.losses.functional.mean_absolute_percentage_error`."""

    def __init__(
        self, reduction: Reduction = SUM_OVER_BATCH, name: str = "mean_absolute_percentage_error", dtype: DType = None
    ):
        super().__init__(F.mean_absolute_percentage_error, reduction, name, dtype)


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    """TF: ``keras.losses.MeanSquaredLogarithmicError``; per sample
    :func:`~ptref.losses.functional.mean_squared_logarithmic_error`."""

    def __init__(
        self, reduction: Reduction = SUM_OVER_BATCH, name: str = "mean_squared_logarithmic_error", dtype: DType = None
    ):
        super().__init__(F.mean_squared_logarithmic_error, reduction, name, dtype)


class CosineSimilarity(LossFunctionWrapper):
    """TF: ``keras.losses.CosineSimilarity``; per sample :func:`~ptref.losses.functional.cosine_similarity`."""

    def __init__(
        self, axis: int = -1, reduction: Reduction = SUM_OVER_BATCH, name: str = "cosine_similarity",
        dtype: DType = None,
    ):
        super().__init__(F.cosine_similarity, reduction, name, dtype, axis=axis)


class Huber(LossFunctionWrapper):
    """TF: ``keras.losses.Huber``; per sample :func:`~ptref.losses.functional.huber`."""

    def __init__(
        self, delta: float = 1.0, reduction: Reduction = SUM_OVER_BATCH, name: str = "huber_loss", dtype: DType = None
    ):
        super().__init__(F.huber, reduction, name, dtype, delta=delta)


class LogCosh(LossFunctionWrapper):
    """TF: ``keras.losses.LogCosh``; per sample :func:`~ptref.losses.functional.log_cosh`."""

    def __init__(self, reduction: Reduction = SUM_OVER_BATCH, name: str = "log_cosh", dtype: DType = None):
        super().__init__(F.log_cosh, reduction, name, dtype)


class Hinge(LossFunctionWrapper):
    """TF: ``keras.losses.Hinge``; per sample :func:`~ptref.losses.functional.hinge`."""

    def __init__(self, reduction: Reduction = SUM_OVER_BATCH, name: str = "hinge", dtype: DType = None):
        super().__init__(F.hinge, reduction, name, dtype)


class SquaredHinge(LossFunctionWrapper):
    """TF: ``keras.losses.SquaredHinge``; per sample :func:`~ptref.losses.functional.squared_hinge`."""

    def __init__(self, reduction: Reduction = SUM_OVER_BATCH, name: str = "squared_hinge", dtype: DType = None):
        super().__init__(F.squared_hinge, reduction, name, dtype)


class CategoricalHinge(LossFunctionWrapper):
    """TF: ``keras.losses.CategoricalHinge``; per sample :func:`~ptref.losses.functional.categorical_hinge`."""

    def __init__(self, reduction: Reduction = SUM_OVER_BATCH, name: str = "categorical_hinge", dtype: DType = None):
        super().__init__(F.categorical_hinge, reduction, name, dtype)


class KLDivergence(LossFunctionWrapper):
    """TF: ``keras.losses.KLDivergence``; per sample :func:`~ptref.losses.functional.kl_divergence`."""

    def __init__(self, reduction: Reduction = SUM_OVER_BATCH, name: str = "kl_divergence", dtype: DType = None):
        super().__init__(F.kl_divergence, reduction, name, dtype)


class Poisson(LossFunctionWrapper):
    """TF: ``keras.losses.Poisson``; per sample :func:`~ptref.losses.functional.poisson`."""

    def __init__(self, reduction: Reduction = SUM_OVER_BATCH, name: str = "poisson", dtype: DType = None):
        super().__init__(F.poisson, reduction, name, dtype)


class BinaryCrossentropy(LossFunctionWrapper):
    """TF: ``keras.losses.BinaryCrossentropy``; per sample :func:`~ptref.losses.functional.binary_crossentropy`."""

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: Reduction = SUM_OVER_BATCH, name: str = "binary_crossentropy", dtype: DType = None):
        super().__init__(F.binary_crossentropy, reduction, name, dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class BinaryFocalCrossentropy(LossFunctionWrapper):
    """TF: ``keras.losses.BinaryFocalCrossentropy``; per sample
    :func:`~ptref.losses.functional.binary_focal_crossentropy`."""

    def __init__(self, apply_class_balancing: bool = False, alpha: float = 0.25, gamma: float = 2.0,
                 from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: Reduction = SUM_OVER_BATCH, name: str = "binary_focal_crossentropy", dtype: DType = None):
        super().__init__(F.binary_focal_crossentropy, reduction, name, dtype,
                         apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class CategoricalCrossentropy(LossFunctionWrapper):
    """TF: ``keras.losses.CategoricalCrossentropy``; per sample
    :func:`~ptref.losses.functional.categorical_crossentropy`."""

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1,
                 reduction: Reduction = SUM_OVER_BATCH, name: str = "categorical_crossentropy", dtype: DType = None):
        super().__init__(F.categorical_crossentropy, reduction, name, dtype,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class CategoricalFocalCrossentropy(LossFunctionWrapper):
    """TF: ``keras.losses.CategoricalFocalCrossentropy``; per sample
    :func:`~ptref.losses.functional.categorical_focal_crossentropy`."""

    def __init__(self, alpha: float = 0.25, gamma: float = 2.0, from_logits: bool = False,
                 label_smoothing: float = 0.0, axis: int = -1, reduction: Reduction = SUM_OVER_BATCH,
                 name: str = "categorical_focal_crossentropy", dtype: DType = None):
        super().__init__(F.categorical_focal_crossentropy, reduction, name, dtype, alpha=alpha, gamma=gamma,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """TF: ``keras.losses.SparseCategoricalCrossentropy``; per sample
    :func:`~ptref.losses.functional.sparse_categorical_crossentropy`. Labels equal to ``ignore_class`` are masked:
    they leave the ``sum_over_batch_size`` divisor too."""

    def __init__(self, from_logits: bool = False, ignore_class: int | None = None,
                 reduction: Reduction = SUM_OVER_BATCH, axis: int = -1,
                 name: str = "sparse_categorical_crossentropy", dtype: DType = None):
        super().__init__(F.sparse_categorical_crossentropy, reduction, name, dtype,
                         from_logits=from_logits, ignore_class=ignore_class, axis=axis)

    def output_mask(self, y_true: Tensor, values: Tensor) -> Tensor | None:
        ignore_class = self.fn_kwargs["ignore_class"]
        return None if ignore_class is None else (y_true != ignore_class).reshape(values.shape)


class CategoricalGeneralizedCrossEntropy(LossFunctionWrapper):
    """TF: ``keras.losses.CategoricalGeneralizedCrossEntropy``; per sample
    :func:`~ptref.losses.functional.categorical_generalized_cross_entropy`, ``0 < q < 1``."""

    def __init__(self, q: float = 0.5, reduction: Reduction = SUM_OVER_BATCH,
                 name: str = "categorical_generalized_cross_entropy", dtype: DType = None):
        if not 0 < q < 1:
            raise ValueError(f"CategoricalGeneralizedCrossEntropy: q={q!r} must be in the open interval (0, 1)")
        super().__init__(F.categorical_generalized_cross_entropy, reduction, name, dtype, q=q)


class Dice(LossFunctionWrapper):
    """TF: ``keras.losses.Dice``; :func:`~ptref.losses.functional.dice` (``axis=None``: one value per batch)."""

    def __init__(self, reduction: Reduction = SUM_OVER_BATCH, name: str = "dice", axis: Axis = None,
                 dtype: DType = None):
        super().__init__(F.dice, reduction, name, dtype, axis=axis)


class Tversky(LossFunctionWrapper):
    """TF: ``keras.losses.Tversky``; :func:`~ptref.losses.functional.tversky` (``axis=None``: one value per batch)."""

    def __init__(self, alpha: float = 0.5, beta: float = 0.5, reduction: Reduction = SUM_OVER_BATCH,
                 name: str = "tversky", axis: Axis = None, dtype: DType = None):
        super().__init__(F.tversky, reduction, name, dtype, alpha=alpha, beta=beta, axis=axis)


class Circle(LossFunctionWrapper):
    """TF: ``keras.losses.Circle``; per query :func:`~ptref.losses.functional.circle` against the batch itself.
    Queries with loss 0 (no positive pair) are masked: they leave the ``sum_over_batch_size`` divisor."""

    def __init__(self, gamma: float = 80.0, margin: float = 0.4, remove_diagonal: bool = True,
                 reduction: Reduction = SUM_OVER_BATCH, name: str = "circle", dtype: DType = None):
        super().__init__(F.circle, reduction, name, dtype, gamma=gamma, margin=margin, remove_diagonal=remove_diagonal)

    def output_mask(self, y_true: Tensor, values: Tensor) -> Tensor | None:
        return values > 0


class CTC(LossFunctionWrapper):
    """TF: ``keras.losses.CTC``; per sequence :func:`~ptref.losses.functional.ctc`."""

    def __init__(self, reduction: Reduction = SUM_OVER_BATCH, name: str = "ctc", dtype: DType = None):
        super().__init__(F.ctc, reduction, name, dtype)
