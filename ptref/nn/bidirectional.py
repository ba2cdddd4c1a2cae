"""Keras's ``Bidirectional`` wrapper around ptref's Keras-layout recurrent layers (``ptref.nn.recurrent``)."""

from __future__ import annotations

import torch
from torch import Tensor, nn

_MERGES = {
    "concat": lambda a, b: torch.cat([a, b], dim=-1),
    "sum": torch.add,
    "mul": torch.mul,
    "ave": lambda a, b: (a + b) / 2,
}


class Bidirectional(nn.Module):
    """Run ``forward_layer`` on the sequence and ``backward_layer`` (the other ``go_backwards``) on it, then merge.
    TF: ``keras.layers.Bidirectional(layer, merge_mode)``::

        y_f = forward_layer(x);  y_b = backward_layer(x)          (y_b in reversed time order)
        with return_sequences: y_b = flip(y_b, time)              (aligned with y_f)
        y = concat([y_f, y_b], -1) | y_f + y_b | y_f * y_b | (y_f + y_b) / 2      (merge_mode)
    """

    def __init__(self, forward_layer: nn.Module, backward_layer: nn.Module, merge_mode: str = "concat") -> None:
        super().__init__()
        if merge_mode not in _MERGES:
            raise ValueError(f"Bidirectional: merge_mode={merge_mode!r} is not one of {sorted(_MERGES)}")
        if backward_layer.go_backwards == forward_layer.go_backwards:
            raise ValueError("Bidirectional: the two layers need different go_backwards (Keras flips the backward one)")
        self.forward_layer, self.backward_layer, self.merge_mode = forward_layer, backward_layer, merge_mode

    def forward(self, x: Tensor) -> Tensor:
        y_f, y_b = self.forward_layer(x), self.backward_layer(x)
        if self.backward_layer.return_sequences:
            y_b = y_b.flip(1)
        return _MERGES[self.merge_mode](y_f, y_b)

    def extra_repr(self) -> str:
        return f"merge_mode={self.merge_mode!r}"
