"""Keras's ``SimpleRNN``, ``LSTM`` and ``GRU`` as torch modules holding Keras's weights in Keras's layout.

Inputs are ``(batch, time, features)`` as in Keras. Each layer keeps ``kernel (in, G*u)``, ``recurrent_kernel
(u, G*u)`` and ``bias`` exactly as ``keras_layer.get_weights()`` lists them, so ``layer.set_weights(
keras_layer.get_weights())`` copies a trained Keras layer and both give the same outputs. Gate blocks:

=========  =====  ===============================  ===============================================
Keras      G      gate order (column blocks)       bias
=========  =====  ===============================  ===============================================
SimpleRNN  1      --                               ``(u,)``
LSTM       4      i, f, c, o  (torch: i, f, g, o)  ``(4u,)``, the forget block 1 at start
GRU        3      z, r, h     (torch: r, z, n)     ``(2, 3u)`` = [input bias; recurrent bias], or ``(3u,)``
                                                   with ``reset_after=False``
=========  =====  ===============================  ===============================================

With Keras's default activations (tanh, and sigmoid for the gates; Keras 3's default is the exact sigmoid, Keras 2
used hard_sigmoid) and no active dropout, the layers run torch's fused kernels (``torch.lstm``/``gru``/
``rnn_tanh``/``rnn_relu``, cuDNN on CUDA) on the weights transposed and, for GRU, permuted; torch's GRU *is*
Keras's ``reset_after=True`` GRU. Other activations (any name in ``ptref.nn.rnn_base.ACTIVATIONS``, or a
callable), ``reset_after=False`` and training with dropout run the step loop (each layer's ``_step``), which is
Keras's cell code line for line. Dropout, and what is not supported: :mod:`ptref.nn.rnn_base`.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ptref.nn.rnn_base import Activation, KerasRNN, gate_matmul, resolve_activation


class SimpleRNN(KerasRNN):
    """Fully connected recurrence. TF: ``keras.layers.SimpleRNN`` (``SimpleRNNCell.call``)::

        h_t = activation(x_t @ kernel + bias + h_{t-1} @ recurrent_kernel)

    Args: ``input_size``, ``units``, ``activation="tanh"``, ``use_bias=True``, ``dropout=0``,
    ``recurrent_dropout=0``, ``return_sequences=False``, ``return_state=False``, ``go_backwards=False``.
    """

    def __init__(
        self,
        input_size: int,
        units: int,
        activation: Activation = "tanh",
        use_bias: bool = True,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
    ) -> None:
        super().__init__(
            input_size, units, activation, use_bias, return_sequences, return_state, go_backwards, dropout,
            recurrent_dropout, (units,),
        )

    def _fused(self) -> bool:
        return self.activation_name in ("tanh", "relu")

    def _fused_forward(self, x: Tensor, states: list[Tensor]) -> tuple[Tensor, list[Tensor]]:
        kernel = torch.rnn_tanh if self.activation_name == "tanh" else torch.rnn_relu
        params = [self.kernel.T, self.recurrent_kernel.T, *self._torch_biases(self.bias)]
        outputs, h = kernel(x, states[0][None], params, self.bias is not None, 1, 0.0, self.training, False, True)
        return outputs, [h[0]]

    def _step(self, projected: Tensor, states: list[Tensor], recurrent_mask: Tensor | None) -> list[Tensor]:
        return [self.activation(projected + gate_matmul(states[0], recurrent_mask, self.recurrent_kernel))]


class LSTM(KerasRNN):
    """Long short-term memory. TF: ``keras.layers.LSTM`` (``LSTMCell.call``, ``implementation=2``)::

        i, f, c~, o = split(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias, 4)
        c_t = recurrentresolve_activation(f) * c_{t-1} + recurrentresolve_activation(i) * activation(c~)
        h_t = recurrentresolve_activation(o) * activation(c_t)

    States ``[h, c]``. Args: ``input_size``, ``units``, ``activation="tanh"``, ``recurrent_activation="sigmoid"``,
    ``use_bias=True``, ``unit_forget_bias=True`` (forget-gate bias starts at 1), ``dropout=0``,
    ``recurrent_dropout=0``, ``return_sequences=False``, ``return_state=False``, ``go_backwards=False``.
    """

    gates = 4
    n_states = 2

    def __init__(
        self,
        input_size: int,
        units: int,
        activation: Activation = "tanh",
        recurrent_activation: Activation = "sigmoid",
        use_bias: bool = True,
        unit_forget_bias: bool = True,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
    ) -> None:
        super().__init__(
            input_size, units, activation, use_bias, return_sequences, return_state, go_backwards, dropout,
            recurrent_dropout, (4 * units,),
        )
        self.recurrent_activation_name, self.recurrent_activation = resolve_activation(
            recurrent_activation, "recurrent_activation"
        )
        if self.bias is not None and unit_forget_bias:
            with torch.no_grad():
                self.bias[units : 2 * units] = 1.0

    def _fused(self) -> bool:
        return self.activation_name == "tanh" and self.recurrent_activation_name == "sigmoid"

    def _fused_forward(self, x: Tensor, states: list[Tensor]) -> tuple[Tensor, list[Tensor]]:
        # torch's gate order i, f, g, o is Keras's i, f, c, o: only the transposes differ
        params = [self.kernel.T, self.recurrent_kernel.T, *self._torch_biases(self.bias)]
        hx = (states[0][None], states[1][None])
        outputs, h, c = torch.lstm(x, hx, params, self.bias is not None, 1, 0.0, self.training, False, True)
        return outputs, [h[0], c[0]]

    def _step(self, projected: Tensor, states: list[Tensor], recurrent_mask: Tensor | None) -> list[Tensor]:
        h, c = states
        z = projected + gate_matmul(h, recurrent_mask, self.recurrent_kernel)
        i, f, candidate, o = z.chunk(4, dim=-1)
        sigma = self.recurrent_activation
        c = sigma(f) * c + sigma(i) * self.activation(candidate)
        return [sigma(o) * self.activation(c), c]


def _zrh_to_rzn(t: Tensor) -> Tensor:
    """Keras GRU gate blocks (z, r, h) along the last axis -> torch's (r, z, n)."""
    z, r, h = t.chunk(3, dim=-1)
    return torch.cat([r, z, h], dim=-1)


class GRU(KerasRNN):
    """Gated recurrent unit. TF: ``keras.layers.GRU`` (``GRUCell.call``)::

        x_z, x_r, x_h = split(x_t @ kernel + input_bias, 3)
        reset_after=True (Keras's default, cuDNN's and torch's GRU):
            m_z, m_r, m_h = split(h_{t-1} @ recurrent_kernel + recurrent_bias, 3)
            z = recurrentresolve_activation(x_z + m_z);  r = recurrentresolve_activation(x_r + m_r)
            h~ = activation(x_h + r * m_h)
        reset_after=False (the original GRU; bias (3u,), no recurrent bias):
            z, r as above with m = h_{t-1} @ recurrent_kernel[:, :2u]
            h~ = activation(x_h + (r * h_{t-1}) @ recurrent_kernel[:, 2u:])
        h_t = z * h_{t-1} + (1 - z) * h~

    Args: ``input_size``, ``units``, ``activation="tanh"``, ``recurrent_activation="sigmoid"``, ``use_bias=True``,
    ``reset_after=True``, ``dropout=0``, ``recurrent_dropout=0``, ``return_sequences=False``,
    ``return_state=False``, ``go_backwards=False``.
    """

    gates = 3

    def __init__(
        self,
        input_size: int,
        units: int,
        activation: Activation = "tanh",
        recurrent_activation: Activation = "sigmoid",
        use_bias: bool = True,
        reset_after: bool = True,
        dropout: float = 0.0,
        recurrent_dropout: float = 0.0,
        return_sequences: bool = False,
        return_state: bool = False,
        go_backwards: bool = False,
    ) -> None:
        super().__init__(
            input_size, units, activation, use_bias, return_sequences, return_state, go_backwards, dropout,
            recurrent_dropout, (2, 3 * units) if reset_after else (3 * units,),
        )
        self.recurrent_activation_name, self.recurrent_activation = resolve_activation(
            recurrent_activation, "recurrent_activation"
        )
        self.reset_after = reset_after

    def _input_bias(self) -> Tensor:
        return self.bias[0] if self.reset_after else self.bias

    def _fused(self) -> bool:
        return self.reset_after and self.activation_name == "tanh" and self.recurrent_activation_name == "sigmoid"

    def _fused_forward(self, x: Tensor, states: list[Tensor]) -> tuple[Tensor, list[Tensor]]:
        biases = [] if self.bias is None else self._torch_biases(_zrh_to_rzn(self.bias[0]), _zrh_to_rzn(self.bias[1]))
        params = [_zrh_to_rzn(self.kernel).T, _zrh_to_rzn(self.recurrent_kernel).T, *biases]
        outputs, h = torch.gru(x, states[0][None], params, self.bias is not None, 1, 0.0, self.training, False, True)
        return outputs, [h[0]]

    def _step(self, projected: Tensor, states: list[Tensor], recurrent_mask: Tensor | None) -> list[Tensor]:
        h = states[0]
        x_z, x_r, x_h = projected.chunk(3, dim=-1)
        sigma, u = self.recurrent_activation, self.units
        if self.reset_after:
            inner = gate_matmul(h, recurrent_mask, self.recurrent_kernel)
            if self.bias is not None:
                inner = inner + self.bias[1]
            m_z, m_r, m_h = inner.chunk(3, dim=-1)
            r = sigma(x_r + m_r)
            candidate = self.activation(x_h + r * m_h)
        else:
            zr_mask, h_mask = (None, 1.0) if recurrent_mask is None else (recurrent_mask[:2], recurrent_mask[2])
            m_z, m_r = gate_matmul(h, zr_mask, self.recurrent_kernel[:, : 2 * u]).chunk(2, dim=-1)
            r = sigma(x_r + m_r)
            candidate = self.activation(x_h + (r * (h * h_mask)) @ self.recurrent_kernel[:, 2 * u :])
        z = sigma(x_z + m_z)
        return [z * h + (1 - z) * candidate]
