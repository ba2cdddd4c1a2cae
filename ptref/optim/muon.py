"""Keras's Muon (``keras.optimizers.Muon``) as a ``torch.optim.Optimizer``."""

from __future__ import annotations

import math
import re
from typing import Any, Unpack

import torch
from torch import Tensor

from ptref.optim.adam import Adam
from ptref.optim.base import BELOW_ONE, NON_NEGATIVE, KerasOptimizer, KerasOptions, LearningRate, Params


def newton_schulz(x: Tensor, steps: int, a: float, b: float, c: float) -> Tensor:
    """Keras's ``zeropower_via_newtonschulz5``: about ``U V^T`` of ``x = U S V^T``, by ``steps`` quintic iterations.

    With ``x`` turned wide (transposed when it has more rows than columns) and ``x = x / (||x||_F + 1e-7)``::

        A = x @ x^T
        x = a * x + (b * A + (c * A) @ A) @ x

    The result for ``x^T`` is the transpose of the result for ``x`` (Keras's ``(in, out)`` kernel and torch's
    ``(out, in)`` Linear weight get transposed updates).
    """
    wide = x.shape[-2] <= x.shape[-1]
    if not wide:
        x = x.mT
    x = x / (torch.linalg.matrix_norm(x, keepdim=True) + 1e-7)
    for _ in range(steps):
        gram = x @ x.mT
        x = a * x + (b * gram + (c * gram) @ gram) @ x
    return x if wide else x.mT


class Muon(KerasOptimizer):
    """Muon for 2-D weights and AdamW for the rest, with Keras's rules and defaults (TF: ``keras.optimizers.Muon``).

    A parameter takes the **AdamW** step when it is not 2-D, when ``exclude_embeddings`` and its name contains
    ``"embedding"`` (any case), or when a pattern of ``exclude_layers`` is found in its name (``re.search``), or
    when its param group sets ``use_adamw=True``; every other parameter takes the **Muon** step. Keras tests these
    rules on the variable path (``"dense/kernel"``, ``"embedding/embeddings"``); here they are tested on the torch
    name from ``model.named_parameters()`` with ``.`` written ``/`` (``"encoder.dense.weight"`` ->
    ``"encoder/dense/weight"``), so Keras's patterns work unchanged. A torch ``nn.Embedding`` weight is named after
    its attribute (``"tok.weight"``): name the attribute ``embedding``, list it in ``exclude_layers`` or put it in a
    group with ``use_adamw=True``. Without names the name rules cannot be applied and construction fails unless
    ``exclude_embeddings=False`` and ``exclude_layers`` is empty. Ranks map one to one (Dense kernel and Linear
    weight 2-D, biases 1-D, convolution kernels 4-D).

    Muon step, with ``momentum`` ``mu``::

        m = m + (g + m * (mu - 1))                         (m = mu * m + g)
        u = g + mu * m if nesterov else m
        O = newton_schulz(u, ns_steps, muon_a, muon_b, muon_c)
        w = w - (lr * O) * sqrt(max(rows, cols)) * rms_rate      (rms_rate None: w = w - lr * O)

    AdamW step: :class:`~ptref.optim.Adam` (``adam_beta_1``, ``adam_beta_2``, ``epsilon``) with the rate
    ``lr * adam_lr_ratio``. Decoupled decay before either step, ``w = w - w * wd * lr`` with the unscaled ``lr``,
    ``wd = weight_decay`` for Muon parameters and ``adam_weight_decay`` for AdamW ones.

    Args:
        params: ``model.named_parameters()`` (or named param groups); see above.
        learning_rate: float or schedule. Default 0.001.
        adam_beta_1, adam_beta_2: Adam's decay rates. Defaults 0.9, 0.999.
        adam_weight_decay: decay of the AdamW parameters (``None``: none). Default 0.004.
        epsilon: Adam's epsilon hat. Default 1e-7.
        weight_decay: decay of the Muon parameters (``None``: none). Default 0.004.
        exclude_layers: patterns whose parameters take the AdamW step. Default none.
        exclude_embeddings: parameters named ``*embedding*`` take the AdamW step. Default True.
        muon_a, muon_b, muon_c: the Newton-Schulz coefficients. Defaults 3.4445, -4.7750, 2.0315.
        adam_lr_ratio: AdamW rate / Muon rate. Default 1.
        momentum: Muon's momentum. Default 0.95.
        ns_steps: Newton-Schulz iterations. Default 5.
        nesterov: Nesterov momentum. Default True.
        rms_rate: scale of the update (Moonlight, arXiv 2502.16982), ``None`` to disable. Default 0.2.
        clipnorm, clipvalue, global_clipnorm, **options: see :class:`~ptref.optim.base.KerasOptimizer`.
    """

    RANGES = {"adam_beta_1": BELOW_ONE, "adam_beta_2": BELOW_ONE, "epsilon": NON_NEGATIVE, "momentum": BELOW_ONE}

    def __init__(
        self,
        params: Params,
        learning_rate: LearningRate = 0.001,
        adam_beta_1: float = 0.9,
        adam_beta_2: float = 0.999,
        adam_weight_decay: float | None = 0.004,
        epsilon: float = 1e-7,
        weight_decay: float | None = 0.004,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        exclude_layers: list[str] | None = None,
        exclude_embeddings: bool = True,
        muon_a: float = 3.4445,
        muon_b: float = -4.7750,
        muon_c: float = 2.0315,
        adam_lr_ratio: float = 1,
        momentum: float = 0.95,
        ns_steps: int = 5,
        nesterov: bool = True,
        rms_rate: float | None = 0.2,
        **options: Unpack[KerasOptions],
    ) -> None:
        if adam_weight_decay is not None and adam_weight_decay not in NON_NEGATIVE:
            raise ValueError(f"Muon: adam_weight_decay must be in {NON_NEGATIVE}, got {adam_weight_decay}")
        self._use_adamw: dict[int, bool] = {}
        super().__init__(
            params, learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm, options,
            adam_beta_1=adam_beta_1, adam_beta_2=adam_beta_2, epsilon=epsilon,
            exclude_layers=list(exclude_layers or []),
            muon_a=muon_a, muon_b=muon_b, muon_c=muon_c, adam_lr_ratio=adam_lr_ratio, momentum=momentum,
            ns_steps=ns_steps, nesterov=nesterov, exclude_embeddings=exclude_embeddings,
            adam_weight_decay=adam_weight_decay, rms_rate=rms_rate, use_adamw=None,
        )

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """``torch.optim.Optimizer.add_param_group``; also decides which of its parameters take the AdamW step."""
        super().add_param_group(param_group)
        self._use_adamw.update((id(p), use) for p, use in _adamw_rules(self.param_groups[-1]))

    def build(self, param: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        state["momentum"] = torch.zeros_like(param)
        if self._use_adamw[id(param)]:
            state["velocity"] = torch.zeros_like(param)

    def decay_rate(self, param: Tensor, group: dict[str, Any]) -> float | None:
        return group["adam_weight_decay"] if self._use_adamw[id(param)] else group["weight_decay"]

    def update_step(
        self, grad: Tensor, param: Tensor, lr: float, t: int, state: dict[str, Any], group: dict[str, Any]
    ) -> None:
        if "velocity" in state:
            adam_state = {"m": state["momentum"], "v": state["velocity"]}
            adam_group = {"beta_1": group["adam_beta_1"], "beta_2": group["adam_beta_2"],
                          "epsilon": group["epsilon"], "amsgrad": False}
            Adam.update_step(self, grad, param, lr * group["adam_lr_ratio"], t, adam_state, adam_group)
            return
        mu, m = group["momentum"], state["momentum"]
        m.add_(grad + m * (mu - 1))
        direction = grad + mu * m if group["nesterov"] else m
        update = lr * newton_schulz(direction, group["ns_steps"], group["muon_a"], group["muon_b"], group["muon_c"])
        if group["rms_rate"] is not None:
            update = update * math.sqrt(max(param.shape)) * group["rms_rate"]
        param.sub_(update)


def _adamw_rules(group: dict[str, Any]) -> list[tuple[Tensor, bool]]:
    """``(param, takes the AdamW step)`` for every parameter of ``group``, by Keras's rules (see :class:`Muon`)."""
    params, names = group["params"], group.get("param_names")
    if group["use_adamw"] is not None:
        return [(p, bool(group["use_adamw"])) for p in params]
    needs_names = group["exclude_embeddings"] or group["exclude_layers"]
    if names is None and needs_names and any(p.dim() == 2 for p in params):
        raise ValueError(
            "Muon: exclude_embeddings/exclude_layers need parameter names: build it from model.named_parameters() "
            "(or pass exclude_embeddings=False)"
        )
    rules = []
    for i, param in enumerate(params):
        path = names[i].replace(".", "/") if names is not None else ""
        excluded = (group["exclude_embeddings"] and "embedding" in path.lower()) or any(
            re.search(pattern, path) for pattern in group["exclude_layers"]
        )
        rules.append((param, param.dim() != 2 or excluded))
    return rules
