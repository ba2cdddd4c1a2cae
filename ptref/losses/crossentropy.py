"""Keras's cross-entropies as per-sample functions (``keras.losses.binary_crossentropy`` etc.).

Probabilities vs logits: with ``from_logits=False`` Keras clips probabilities to ``[1e-7, 1 - 1e-7]``
before the log, as here. But in ``model.fit`` a Keras ``softmax``/``sigmoid`` output layer secretly hands its
*logits* to the cross-entropies (no clipping). To reproduce such a model, drop the final activation in torch
and pass the logits with ``from_logits=True``.

``label_smoothing`` replaces ``y`` by ``y (1 - ls) + ls / 2`` (binary) or ``y (1 - ls) + ls / num_classes``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ptref.losses.reduction import align, as_prediction

EPSILON = 1e-7  # keras.backend.epsilon()


def _clip(p: Tensor) -> Tensor:
    return torch.clamp(p, EPSILON, 1.0 - EPSILON)


def _smooth(y_true: Tensor, label_smoothing: float, num_classes: int | float) -> Tensor:
    return y_true * (1.0 - label_smoothing) + label_smoothing / num_classes if label_smoothing else y_true


def _binary_elementwise(y_true: Tensor, y_pred: Tensor, from_logits: bool) -> Tensor:
    """``-(y log p + (1 - y) log(1 - p))``, ``p`` clipped; on logits ``max(z, 0) - z y + log(1 + exp(-|z|))``."""
    if from_logits:
        return F.binary_cross_entropy_with_logits(y_pred, y_true, reduction="none")
    p = _clip(y_pred)
    return -(y_true * torch.log(p) + (1.0 - y_true) * torch.log(1.0 - p))


def binary_crossentropy(
    y_true: Tensor, y_pred: Tensor, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1
) -> Tensor:
    """Mean over ``axis`` of ``-(y log p + (1 - y) log(1 - p))``. TF: ``keras.losses.binary_crossentropy``.

    ``F.binary_cross_entropy`` instead clamps the log at -100 (no 1e-7 clip): a different loss near 0 and 1.
    """
    y_true, y_pred = align(y_true, y_pred, "binary_crossentropy")
    y_true = _smooth(y_true, label_smoothing, 2)
    return _binary_elementwise(y_true, y_pred, from_logits).mean(dim=axis)


def binary_focal_crossentropy(
    y_true: Tensor,
    y_pred: Tensor,
    apply_class_balancing: bool = False,
    alpha: float = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Tensor:
    """Mean over ``axis`` of ``(1 - p_t)**gamma * bce``, ``p_t = y p + (1 - y)(1 - p)``, ``p = sigmoid(z)`` on logits;
    with ``apply_class_balancing`` also times ``alpha y + (1 - alpha)(1 - y)``.
    TF: ``keras.losses.binary_focal_crossentropy``."""
    y_true, y_pred = align(y_true, y_pred, "binary_focal_crossentropy")
    y_true = _smooth(y_true, label_smoothing, 2)
    p = torch.sigmoid(y_pred) if from_logits else y_pred
    p_t = y_true * p + (1.0 - y_true) * (1.0 - p)
    focal = torch.pow(1.0 - p_t, gamma) * _binary_elementwise(y_true, p, from_logits=False)
    if apply_class_balancing:
        focal = (y_true * alpha + (1.0 - y_true) * (1.0 - alpha)) * focal
    return focal.mean(dim=axis)


def _class_probabilities(y_pred: Tensor, from_logits: bool, axis: int) -> Tensor:
    """Softmax of logits, or probabilities renormalized to sum to 1 over ``axis``; then clipped."""
    p = torch.softmax(y_pred, dim=axis) if from_logits else y_pred
    return _clip(p / p.sum(dim=axis, keepdim=True))


def categorical_crossentropy(
    y_true: Tensor, y_pred: Tensor, from_logits: bool = False, label_smoothing: float = 0.0, axis: int = -1
) -> Tensor:
    """``-sum(y * log p)`` over the class ``axis``, ``y`` one-hot (or soft), ``p`` renormalized then clipped;
    on logits ``log p = log_softmax(z)`` (no clipping). TF: ``keras.losses.categorical_crossentropy``."""
    if isinstance(axis, bool):
        raise ValueError(f"categorical_crossentropy: axis must be an int, not {axis!r}")
    y_true, y_pred = align(y_true, y_pred, "categorical_crossentropy")
    y_true = _smooth(y_true, label_smoothing, y_true.shape[-1])
    log_p = torch.log_softmax(y_pred, dim=axis) if from_logits else torch.log(_class_probabilities(y_pred, False, axis))
    return -torch.sum(y_true * log_p, dim=axis)


def categorical_focal_crossentropy(
    y_true: Tensor,
    y_pred: Tensor,
    alpha: float = 0.25,
    gamma: float = 2.0,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> Tensor:
    """``sum(alpha (1 - p)**gamma * (-y log p))`` over ``axis``, ``p`` (softmax of logits) renormalized then clipped.
    TF: ``keras.losses.categorical_focal_crossentropy``."""
    if isinstance(axis, bool):
        raise ValueError(f"categorical_focal_crossentropy: axis must be an int, not {axis!r}")
    y_true, y_pred = align(y_true, y_pred, "categorical_focal_crossentropy")
    y_true = _smooth(y_true, label_smoothing, y_true.shape[-1])
    p = _class_probabilities(y_pred, from_logits, axis)
    return torch.sum(alpha * torch.pow(1.0 - p, gamma) * (-y_true * torch.log(p)), dim=axis)


def _labels(y_true: Tensor, y_pred: Tensor, class_axis: int, loss: str) -> Tensor:
    """Integer labels of shape ``y_pred.shape`` without ``class_axis``; a size-1 axis there is squeezed."""
    y_true = torch.as_tensor(y_true, device=y_pred.device)
    if y_true.dim() == y_pred.dim() and y_true.shape[class_axis] == 1:
        y_true = y_true.squeeze(class_axis)
    expected = y_pred.shape[:class_axis] + y_pred.shape[class_axis + 1:]
    if y_true.shape != expected:
        raise ValueError(
            f"{loss}: y_true.shape={tuple(y_true.shape)} must be y_pred.shape={tuple(y_pred.shape)} without its "
            f"class axis {class_axis}, i.e. {tuple(expected)} (one integer label per prediction)"
        )
    return y_true.long()


def sparse_categorical_crossentropy(
    y_true: Tensor, y_pred: Tensor, from_logits: bool = False, ignore_class: int | None = None, axis: int = -1
) -> Tensor:
    """``-log p[y]`` with integer labels ``y`` and the classes on ``axis`` of ``y_pred``.
    TF: ``keras.losses.sparse_categorical_crossentropy``.

    On probabilities Keras computes ``log(clip(p, 1e-7, 1 - 1e-7))`` and feeds it to a softmax cross-entropy,
    which renormalizes: the loss is ``-log clip(p)[y] + log sum(clip(p))``. Labels equal to ``ignore_class`` get
    loss 0 (the classes also leave them out of the ``sum_over_batch_size`` divisor).
    """
    y_pred = as_prediction(y_pred)
    class_axis = axis % y_pred.dim()
    y_true = _labels(y_true, y_pred, class_axis, "sparse_categorical_crossentropy")
    valid = None if ignore_class is None else y_true != ignore_class
    if valid is not None:
        y_true = torch.where(valid, y_true, 0)
    logits = y_pred if from_logits else torch.log(_clip(y_pred))
    per_sample = F.cross_entropy(logits.movedim(class_axis, 1), y_true, reduction="none") if y_pred.dim() > 1 \
        else F.cross_entropy(logits, y_true, reduction="none")
    return per_sample if valid is None else torch.where(valid, per_sample, 0.0)


def categorical_generalized_cross_entropy(y_true: Tensor, y_pred: Tensor, q: float) -> Tensor:
    """``(1 - p[y]**q) / q`` with integer labels ``y`` and probabilities ``p`` on the last axis (no clipping):
    noise-robust, between cross-entropy (``q -> 0``) and MAE (``q = 1``).
    TF: ``keras.losses.categorical_generalized_cross_entropy``.

    Labels of shape ``y_pred.shape[:-1] + (1,)`` are squeezed (Keras would broadcast them to a square matrix).
    """
    y_pred = as_prediction(y_pred)
    y_true = _labels(y_true, y_pred, y_pred.dim() - 1, "categorical_generalized_cross_entropy")
    p = torch.gather(y_pred, -1, y_true.unsqueeze(-1)).squeeze(-1)
    return (1.0 - torch.pow(p, q)) / q
