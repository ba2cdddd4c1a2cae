"""Keras's Circle loss (Sun et al., 2020) for metric learning on L2-normalized embeddings."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ptref.losses.reduction import as_prediction


def circle(
    y_true: Tensor,
    y_pred: Tensor,
    ref_labels: Tensor | None = None,
    ref_embeddings: Tensor | None = None,
    remove_diagonal: bool = True,
    gamma: float = 80,
    margin: float = 0.4,
) -> Tensor:
    """Per query ``i`` (labels ``y_true`` ``(B,)``, embeddings ``y_pred`` ``(B, D)``, unit length), against the
    references (default: the batch itself), with cosine distance ``d_ij = max(1 - <x_i, r_j>, 0)``::

        p_i = logsumexp_{j positive} (-gamma * max(margin + d_ij, 0) * (margin - d_ij))
        n_i = logsumexp_{j negative} ( gamma * max(1 + margin - d_ij, 0) * (1 - margin - d_ij))
        loss_i = softplus(p_i + n_i)

    ``j`` is positive when its label equals ``i``'s (itself excluded if ``remove_diagonal``), negative otherwise.
    TF: ``keras.losses.circle``; the ``Circle`` class leaves queries with loss 0 (no positive) out of the mean.
    """
    y_pred = as_prediction(y_pred)
    y_true = torch.as_tensor(y_true, device=y_pred.device).long().reshape(-1, 1)
    if y_pred.dim() != 2 or y_true.shape[0] != y_pred.shape[0]:
        raise ValueError(
            f"circle: y_true.shape={tuple(y_true.shape)} must hold one label per row of y_pred "
            f"(embeddings of shape (batch, dim)); y_pred.shape={tuple(y_pred.shape)}"
        )
    refs = y_pred if ref_embeddings is None else torch.as_tensor(ref_embeddings, device=y_pred.device).to(y_pred.dtype)
    ref_labels = y_true if ref_labels is None else torch.as_tensor(ref_labels, device=y_pred.device).long()
    distances = torch.clamp(1.0 - y_pred @ refs.T, min=0.0)
    positive = y_true == ref_labels.reshape(1, -1)
    negative = ~positive
    if remove_diagonal:
        positive = positive & ~torch.eye(*positive.shape, dtype=torch.bool, device=positive.device)
    pos_weights = torch.clamp((margin + distances) * positive, min=0.0)
    neg_weights = torch.clamp((1.0 + margin - distances) * negative, min=0.0)
    pos_terms = -gamma * pos_weights * (margin - distances)
    neg_terms = gamma * neg_weights * (1.0 - margin - distances)
    p_loss = torch.logsumexp(torch.where(positive, pos_terms, -torch.inf), dim=1)
    n_loss = torch.logsumexp(torch.where(negative, neg_terms, -torch.inf), dim=1)
    return F.softplus(p_loss + n_loss)
