"""``keras.losses.Loss`` as an ``nn.Module``: convert, compute per-sample losses, mask, weight, reduce.

``loss(y_true, y_pred, sample_weight=None, mask=None)``, Keras's order ``(y_true, y_pred)`` (torch criteria take
``(input, target)``: mind the order when porting). Both inputs are first converted to the loss's ``dtype``
(Keras's default ``floatx``; here ``torch.get_default_dtype()``), so a float64 or bfloat16 ``y_pred`` gives a
float32 loss unless ``dtype`` says otherwise. ``mask`` plays the part of Keras's ``y_pred._keras_mask`` (set by
``Masking``/``Embedding(mask_zero=True)`` layers): masked entries leave the loss and its divisor.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor, nn

from ptref.losses.reduction import Reduction, reduce_weighted, standardize_reduction

DType = torch.dtype | str | None
_POLICIES = {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}  # Keras dtype policies: compute dtype


def resolve_dtype(dtype: DType) -> torch.dtype:
    """Keras's ``dtype`` argument: ``None`` (floatx), a name such as ``"float64"``, a policy, or a torch dtype."""
    if dtype is None:
        return torch.get_default_dtype()
    if isinstance(dtype, torch.dtype):
        return dtype
    resolved = getattr(torch, _POLICIES.get(dtype, dtype), None)
    if not isinstance(resolved, torch.dtype) or not resolved.is_floating_point:
        raise ValueError(f"loss dtype={dtype!r} is not a floating dtype (e.g. 'float32', 'float64', 'bfloat16')")
    return resolved


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


class Loss(nn.Module):
    """Base class as ``keras.losses.Loss``: subclass and implement ``call(y_true, y_pred)`` (per-sample losses).

    Args: ``name`` (default: the class name in snake case), ``reduction`` (``"sum_over_batch_size"``, ``"mean"``,
    ``"sum"``, ``"mean_with_sample_weight"``, ``"none"`` or ``None``; see :mod:`ptref.losses.reduction`),
    ``dtype`` (the dtype the loss is computed in).
    """

    def __init__(self, name: str | None = None, reduction: Reduction = "sum_over_batch_size", dtype: DType = None):
        super().__init__()
        self.name = name or _snake(type(self).__name__)
        self.reduction = standardize_reduction(reduction)
        self.dtype = resolve_dtype(dtype)
        self._dtype_argument = dtype

    def forward(
        self, y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | float | None = None, mask: Tensor | None = None
    ) -> Tensor:
        y_pred = torch.as_tensor(y_pred).to(self.dtype)
        y_true = torch.as_tensor(y_true, device=y_pred.device).to(self.dtype)
        values = self.call(y_true, y_pred)
        out_mask = self.output_mask(y_true, values)
        if mask is not None and out_mask is not None:
            mask = torch.as_tensor(mask, device=values.device).bool() & out_mask
        elif out_mask is not None:
            mask = out_mask
        return reduce_weighted(values, sample_weight, self.reduction, mask)

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        raise NotImplementedError(f"{type(self).__name__} must implement call(y_true, y_pred)")

    def output_mask(self, y_true: Tensor, values: Tensor) -> Tensor | None:
        """Entries of ``values`` that count (Keras: the ``_keras_mask`` a loss function sets on its result)."""
        return None

    def get_config(self) -> dict[str, Any]:
        dtype = self._dtype_argument
        return {"name": self.name, "reduction": self.reduction,
                "dtype": str(dtype).removeprefix("torch.") if dtype is not None else None}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        return cls(**config)

    def extra_repr(self) -> str:
        return ", ".join(f"{key}={value!r}" for key, value in self.get_config().items())


class LossFunctionWrapper(Loss):
    """A per-sample loss function with fixed keyword arguments, as ``keras.losses.LossFunctionWrapper``."""

    def __init__(
        self,
        fn: Callable[..., Tensor],
        reduction: Reduction = "sum_over_batch_size",
        name: str | None = None,
        dtype: DType = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.fn = fn
        self.fn_kwargs = kwargs

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        return self.fn(y_true, y_pred, **self.fn_kwargs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), **self.fn_kwargs}
