"""Keras's loss classes as ``nn.Module``: ``loss = MeanSquaredError()(y_true, y_pred, sample_weight)``.

Same names, arguments and defaults as ``keras.losses.*``, and the same call order ``(y_true, y_pred)``
(torch criteria take ``(input, target)``: mind the order when porting). Each one calls the function of the same
name in :mod:`ptref.losses.functional` with its stored settings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import Tensor, nn

from ptref.losses import functional
from ptref.losses.reduction import Reduction


class _KerasLoss(nn.Module):
    function: Callable[..., Tensor]

    def __init__(self, reduction: Reduction = "sum_over_batch_size", **settings: Any) -> None:
        super().__init__()
        self.reduction = reduction
        self.settings = settings

    def forward(self, y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None) -> Tensor:
        function = type(self).function
        return function(y_true, y_pred, sample_weight=sample_weight, reduction=self.reduction, **self.settings)

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={v!r}" for k, v in {**self.settings, "reduction": self.reduction}.items())


class MeanSquaredError(_KerasLoss):
    """TF: ``keras.losses.MeanSquaredError``; see :func:`~ptref.losses.functional.mean_squared_error`."""

    function = staticmethod(functional.mean_squared_error)

    def __init__(self, reduction: Reduction = "sum_over_batch_size") -> None:
        super().__init__(reduction)


class Poisson(_KerasLoss):
    """TF: ``keras.losses.Poisson``; see :func:`~ptref.losses.functional.poisson`."""

    function = staticmethod(functional.poisson)

    def __init__(self, reduction: Reduction = "sum_over_batch_size") -> None:
        super().__init__(reduction)


class Huber(_KerasLoss):
    """TF: ``keras.losses.Huber``; see :func:`~ptref.losses.functional.huber`."""

    function = staticmethod(functional.huber)

    def __init__(self, delta: float = 1.0, reduction: Reduction = "sum_over_batch_size") -> None:
        super().__init__(reduction, delta=delta)


class BinaryCrossentropy(_KerasLoss):
    """TF: ``keras.losses.BinaryCrossentropy``; see :func:`~ptref.losses.functional.binary_crossentropy`."""

    function = staticmethod(functional.binary_crossentropy)

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: Reduction = "sum_over_batch_size",
    ) -> None:
        super().__init__(reduction, from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class CategoricalCrossentropy(_KerasLoss):
    """TF: ``keras.losses.CategoricalCrossentropy``; see :func:`~ptref.losses.functional.categorical_crossentropy`."""

    function = staticmethod(functional.categorical_crossentropy)

    def __init__(
        self,
        from_logits: bool = False,
        label_smoothing: float = 0.0,
        axis: int = -1,
        reduction: Reduction = "sum_over_batch_size",
    ) -> None:
        super().__init__(reduction, from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)


class SparseCategoricalCrossentropy(_KerasLoss):
    """TF: ``keras.losses.SparseCategoricalCrossentropy``; see
    :func:`~ptref.losses.functional.sparse_categorical_crossentropy`."""

    function = staticmethod(functional.sparse_categorical_crossentropy)

    def __init__(
        self, from_logits: bool = False, ignore_class: int | None = None, reduction: Reduction = "sum_over_batch_size"
    ) -> None:
        super().__init__(reduction, from_logits=from_logits, ignore_class=ignore_class)
