"""What Keras's ``SimpleRNN``, ``LSTM`` and ``GRU`` share (:mod:`ptref.nn.recurrent`): weights in Keras's
layout, initial states, activations by name, dropout masks, direction, the step loop and return values.

Dropout (Keras's ``DropoutRNNCell``): in training, one mask per call (the same at every time step), scaled by
``1 / (1 - rate)``, multiplies the inputs (``dropout``) and the previous output (``recurrent_dropout``). With
``recurrent_dropout > 0`` LSTM and GRU draw one mask per gate (Keras's ``implementation=1``), else one shared
input mask. Random streams differ from Keras's, so only the distribution matches. Not supported: ``mask``,
``stateful``, ``unroll`` (speed only in Keras).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ptref.nn.initializers import glorot_uniform

Activation = str | Callable[[Tensor], Tensor] | None
ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    "hard_sigmoid": F.hardsigmoid,  # Keras 3: relu6(x + 3) / 6
    "relu": torch.relu,
    "linear": lambda x: x,
    "elu": F.elu,
    "selu": F.selu,
    "softsign": F.softsign,
    "softplus": F.softplus,
    "silu": F.silu,
    "swish": F.silu,
}


def resolve_activation(name: Activation, argument: str) -> tuple[str | None, Callable[[Tensor], Tensor]]:
    """``(name or None for a callable, function)``; ``None`` is Keras's linear activation."""
    if callable(name):
        return None, name
    name = "linear" if name is None else name
    if name not in ACTIVATIONS:
        raise ValueError(f"{argument}={name!r} is not a Keras activation this layer knows: {sorted(ACTIVATIONS)}")
    return name, ACTIVATIONS[name]


def gate_matmul(v: Tensor, mask: Tensor | None, weight: Tensor) -> Tensor:
    """``v @ weight`` where column block g sees ``v * mask[g]`` (one mask shared by all blocks if there is one)."""
    if mask is None:
        return v @ weight
    blocks = weight.chunk(len(mask), dim=-1)
    return torch.cat([(v * m) @ w for m, w in zip(mask, blocks)], dim=-1)


class KerasRNN(nn.Module):
    """What SimpleRNN/LSTM/GRU share: weights, initial states, dropout masks, direction and return values."""

    gates = 1
    n_states = 1

    def __init__(
        self,
        input_size: int,
        units: int,
        activation: Activation,
        use_bias: bool,
        return_sequences: bool,
        return_state: bool,
        go_backwards: bool,
        dropout: float,
        recurrent_dropout: float,
        bias_shape: tuple[int, ...],
    ) -> None:
        super().__init__()
        self.input_size, self.units = input_size, units
        self.activation_name, self.activation = resolve_activation(activation, "activation")
        self.return_sequences, self.return_state, self.go_backwards = return_sequences, return_state, go_backwards
        self.dropout, self.recurrent_dropout = min(1.0, max(0.0, dropout)), min(1.0, max(0.0, recurrent_dropout))
        width = self.gates * units
        # Keras's initializers: glorot_uniform kernel, orthogonal recurrent kernel, zero bias.
        self.kernel = nn.Parameter(glorot_uniform(torch.empty(input_size, width)))
        self.recurrent_kernel = nn.Parameter(nn.init.orthogonal_(torch.empty(units, width)))
        self.bias = nn.Parameter(torch.zeros(bias_shape)) if use_bias else None

    def forward(self, x: Tensor, initial_state: Tensor | Sequence[Tensor] | None = None) -> Tensor | tuple[Tensor, ...]:
        """``x (N, T, in)`` -> last output ``(N, u)``, or ``(N, T, u)`` with ``return_sequences``; with
        ``return_state`` a tuple ``(output, *final_states)`` as Keras returns. ``go_backwards`` reads the
        sequence from its end and, as Keras, returns the outputs in that (reversed) order."""
        if x.dim() != 3 or x.shape[-1] != self.input_size:
            raise ValueError(
                f"{type(self).__name__}: expects (batch, time, {self.input_size}) inputs, got {tuple(x.shape)}"
            )
        if self.go_backwards:
            x = x.flip(1)
        states = self._initial_states(x, initial_state)
        input_mask, recurrent_mask = self._dropout_masks(x) if self.training else (None, None)
        if input_mask is None and recurrent_mask is None and self._fused():
            outputs, states = self._fused_forward(x, states)
        else:
            outputs, states = self._loop(x, states, input_mask, recurrent_mask)
        output = outputs if self.return_sequences else outputs[:, -1]
        return (output, *states) if self.return_state else output

    def _initial_states(self, x: Tensor, initial_state: Tensor | Sequence[Tensor] | None) -> list[Tensor]:
        if initial_state is None:
            return [x.new_zeros(x.shape[0], self.units) for _ in range(self.n_states)]
        states = [initial_state] if isinstance(initial_state, Tensor) else list(initial_state)
        expected = (x.shape[0], self.units)
        if len(states) != self.n_states or any(tuple(s.shape) != expected for s in states):
            raise ValueError(
                f"{type(self).__name__}: initial_state needs {self.n_states} tensor(s) of shape {expected}, got "
                f"{[tuple(s.shape) for s in states]}"
            )
        return states

    def _dropout_masks(self, x: Tensor) -> tuple[Tensor | None, Tensor | None]:
        """``(input mask (M, N, 1, in), recurrent mask (G', N, u))`` in training, ``None`` where inactive."""
        per_gate = self.gates if self.recurrent_dropout > 0 else 1

        def mask(rate: float, count: int, size: int) -> Tensor | None:
            if not 0.0 < rate < 1.0:
                return None
            return torch.bernoulli(x.new_full((count, x.shape[0], size), 1.0 - rate)) / (1.0 - rate)

        input_mask = mask(self.dropout, per_gate, self.input_size)
        return (None if input_mask is None else input_mask.unsqueeze(2)), mask(
            self.recurrent_dropout, self.gates, self.units
        )

    def _loop(
        self, x: Tensor, states: list[Tensor], input_mask: Tensor | None, recurrent_mask: Tensor | None
    ) -> tuple[Tensor, list[Tensor]]:
        """Keras's ``backend.rnn``: the cell applied step by step, inputs projected for all steps at once."""
        projected = gate_matmul(x, input_mask, self.kernel)
        if self.bias is not None:
            projected = projected + self._input_bias()
        outputs = []
        for t in range(x.shape[1]):
            states = self._step(projected[:, t], states, recurrent_mask)
            outputs.append(states[0])
        return torch.stack(outputs, dim=1), states

    def _input_bias(self) -> Tensor:
        return self.bias

    def _fused(self) -> bool:
        raise NotImplementedError

    def _fused_forward(self, x: Tensor, states: list[Tensor]) -> tuple[Tensor, list[Tensor]]:
        raise NotImplementedError

    def _step(self, projected: Tensor, states: list[Tensor], recurrent_mask: Tensor | None) -> list[Tensor]:
        raise NotImplementedError

    def _torch_biases(self, input_bias: Tensor, recurrent_bias: Tensor | None = None) -> list[Tensor]:
        if self.bias is None:
            return []
        return [input_bias, torch.zeros_like(input_bias) if recurrent_bias is None else recurrent_bias]

    @torch.no_grad()
    def set_weights(self, weights: Sequence) -> None:
        """Copy ``keras_layer.get_weights()`` (kernel, recurrent_kernel[, bias]) in. TF: ``layer.set_weights``."""
        targets = self._weights()
        shapes, expected = [tuple(torch.as_tensor(w).shape) for w in weights], [tuple(t.shape) for t in targets]
        if shapes != expected:
            raise ValueError(f"{type(self).__name__}: Keras weights of shapes {shapes} do not fit {expected}")
        for target, value in zip(targets, weights):
            target.copy_(torch.as_tensor(value, dtype=target.dtype))

    def get_weights(self) -> list:
        """The weights as ``keras_layer.set_weights`` takes them (NumPy arrays). TF: ``layer.get_weights()``."""
        return [t.detach().cpu().numpy().copy() for t in self._weights()]

    def _weights(self) -> list[Tensor]:
        """Keras's ``get_weights()`` order."""
        return [t for t in (self.kernel, self.recurrent_kernel, self.bias) if t is not None]

    def extra_repr(self) -> str:
        flags = ["return_sequences"] * self.return_sequences + ["return_state"] * self.return_state
        flags += ["go_backwards"] * self.go_backwards
        return ", ".join([f"{self.input_size}, {self.units}", *flags])
