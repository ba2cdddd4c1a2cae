"""Keras's CTC loss (Connectionist Temporal Classification) for unsegmented sequence labelling."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ptref.losses.reduction import as_prediction


def ctc(y_true: Tensor, y_pred: Tensor) -> Tensor:
    """``-log P(y_true | y_pred)`` per sequence, summed over all alignments. TF: ``keras.losses.ctc``.

    ``y_true``: ``(batch, max_label_length)`` integer labels, 0 is the blank and pads the end (the label length is
    the number of non-zero entries); ``y_pred``: ``(batch, time, classes)`` *logits* (softmax is applied here), all
    ``time`` steps used. ``F.ctc_loss`` takes time-major log-probabilities and explicit lengths instead.
    """
    y_pred = as_prediction(y_pred)
    y_true = torch.as_tensor(y_true, device=y_pred.device)
    if y_true.dim() != 2:
        raise ValueError(
            f"ctc: y_true must be (batch_size, max_length) integer labels; got shape {tuple(y_true.shape)}"
        )
    if y_pred.dim() != 3:
        raise ValueError(
            f"ctc: y_pred must be (batch_size, max_length, num_classes) logits; got shape {tuple(y_pred.shape)}"
        )
    labels = y_true.long()
    label_lengths = torch.count_nonzero(labels, dim=-1)
    input_lengths = torch.full((y_pred.shape[0],), y_pred.shape[1], dtype=torch.long, device=y_pred.device)
    log_probs = torch.log_softmax(y_pred, dim=-1).transpose(0, 1)
    return F.ctc_loss(log_probs, labels, input_lengths, label_lengths, blank=0, reduction="none")
