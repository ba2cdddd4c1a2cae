"""Losses: mean squared error and its outliers, cross-entropy from probabilities or logits, reductions.

A loss turns predictions ŷ and targets y into the one number gradient descent lowers. ``torch.nn.functional``
has PyTorch's own losses (arguments ``(input, target)``, one reduction over every element);
``ptref.losses`` has Keras's (arguments ``(y_true, y_pred)``): its functions return one loss per sample,
its classes reduce them, exactly as ``tf.keras.losses``. TensorFlow twin: ``compare/concepts/losses_tf.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch
import torch.nn.functional as F

import ptref.losses
from ptref.concepts.plotting import Panel, save_panels


def regression_batch() -> tuple[torch.Tensor, torch.Tensor]:
    """2 samples × 3 outputs: targets y and predictions ŷ whose errors are (0.5, 0, −1) and (0, 2, 0.5)."""
    y_true = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    y_pred = torch.tensor([[1.5, 2.0, 2.0], [4.0, 7.0, 6.5]])
    return y_true, y_pred


def outlier_batch() -> tuple[torch.Tensor, torch.Tensor]:
    """10 predictions, 9 off by ±0.5 and one (the last) off by 10: shape [10, 1], one output per sample."""
    y_true = torch.arange(10.0).unsqueeze(1)
    errors = torch.tensor([0.5, -0.5, 0.5, -0.5, 0.5, -0.5, 0.5, -0.5, 0.5, 10.0]).unsqueeze(1)
    return y_true, y_true + errors


def binary_batch() -> tuple[torch.Tensor, torch.Tensor]:
    """Labels y = 1, 0, 1, 0 and predicted probabilities p = 0.9, 0.2, 0.6, 0.4 that y = 1, shape [4, 1]."""
    return torch.tensor([[1.0], [0.0], [1.0], [0.0]]), torch.tensor([[0.9], [0.2], [0.6], [0.4]])


def mean_squared_error() -> dict[str, object]:
    """MSE = mean over every element of (ŷ − y)²: (0.25 + 0 + 1 + 0 + 4 + 0.25) / 6 = 0.916667.

    The per-sample function averages over the last axis only (one value per sample, as ``keras.losses.mse``);
    the class then averages those over the batch. ``F.mse_loss`` takes ``(input, target)``, Keras
    ``(y_true, y_pred)``: for MSE the order does not matter, for cross-entropy it does.
    """
    y_true, y_pred = regression_batch()
    return {
        "by hand": torch.mean((y_pred - y_true) ** 2).item(),
        "per sample: mse": ptref.losses.mse(y_true, y_pred).tolist(),
        "MeanSquaredError()": ptref.losses.MeanSquaredError()(y_true, y_pred).item(),
        "torch: F.mse_loss": F.mse_loss(y_pred, y_true).item(),
    }


def outlier_sensitivity() -> dict[str, dict[str, float]]:
    """One prediction off by 10 among nine off by 0.5: MSE grows 41×, Huber 8.5×, MAE 2.9×.

    MSE squares the error, so the outlier also gets 20× the gradient of a typical point (2e: 20 vs 1);
    MAE gives every point the same pull (sign e), Huber (δ = 1) is quadratic up to |e| = δ and linear beyond,
    so it caps the pull at δ (1 vs 0.5 here).
    """
    y_true, y_pred = outlier_batch()
    criteria = {
        "MSE": ptref.losses.MeanSquaredError(),
        "MAE": ptref.losses.MeanAbsoluteError(),
        "Huber (δ=1)": ptref.losses.Huber(delta=1.0),
    }
    result = {}
    for name, criterion in criteria.items():
        y_hat = y_pred.clone().requires_grad_()
        loss = criterion(y_true, y_hat)
        (grad,) = torch.autograd.grad(loss, y_hat)
        without = criterion(y_true[:-1], y_pred[:-1])
        result[name] = {
            "loss": loss.item(),
            "loss without the outlier": without.item(),
            "outlier's gradient ÷ a typical one": (grad[-1] / grad[0]).abs().item(),
        }
    return result


def best_constant() -> dict[str, object]:
    """The constant c that minimizes each loss over data with one outlier (45): MSE's is the mean (8.0),
    MAE's the median (4.0), Huber's (δ = 1) in between but near the median (4.4).

    The per-sample functions make the search one call: row i holds every target against candidate cᵢ, so
    the function returns the loss of each candidate. Candidates 0, 0.05, ..., 10.
    """
    data = torch.tensor([2.0, 3.0, 3.0, 4.0, 4.0, 4.0, 5.0, 5.0, 6.0, 7.0, 45.0])
    candidates = torch.linspace(0.0, 10.0, 201)
    y_true = data.expand(len(candidates), -1)
    y_pred = candidates.unsqueeze(1).expand_as(y_true)
    per_candidate = {
        "MSE": ptref.losses.mse(y_true, y_pred),
        "MAE": ptref.losses.mae(y_true, y_pred),
        "Huber (δ=1)": ptref.losses.huber(y_true, y_pred, delta=1.0),
    }
    return {
        "data": data.tolist(),
        "mean": data.mean().item(),
        "median": data.median().item(),
        "best c": {name: candidates[loss.argmin()].item() for name, loss in per_candidate.items()},
    }


def binary_crossentropy() -> dict[str, object]:
    """Log loss: −mean(y log p + (1 − y) log(1 − p)) = 0.337538, the mean of −log 0.9, −log 0.8, −log 0.6, −log 0.6.

    Each sample pays −log of the probability it gave the true label. ``F.binary_cross_entropy`` takes
    ``(input, target)``: swapping them computes a different number without an error.
    """
    y, p = binary_batch()
    return {
        "by hand": (-torch.mean(y * torch.log(p) + (1 - y) * torch.log(1 - p))).item(),
        "per sample: binary_crossentropy": ptref.losses.binary_crossentropy(y, p).tolist(),
        "BinaryCrossentropy()": ptref.losses.BinaryCrossentropy()(y, p).item(),
        "torch: F.binary_cross_entropy": F.binary_cross_entropy(p, y).item(),
    }


def log_loss_sign_error() -> dict[str, float]:
    """A course text prints log loss as mean(y log p + (1 − y) log(1 − p)), without the leading minus.

    That is the negative of the loss: −0.3375 instead of 0.3375. Worse, it is lower for wrong predictions
    (p swapped to 0.1, 0.8, 0.4, 0.6: −1.44), so minimizing it drives p away from the labels: its gradient at
    the first sample (y = 1, p = 0.9) is +1/(4 · 0.9) (the mean of 4), and gradient descent lowers p.
    """
    y, p = binary_batch()
    p = p.clone().requires_grad_()
    text = torch.mean(y * torch.log(p) + (1 - y) * torch.log(1 - p))
    correct = -text
    (grad_text,) = torch.autograd.grad(text, p, retain_graph=True)
    (grad_correct,) = torch.autograd.grad(correct, p)
    wrong = 1 - p.detach()
    return {
        "text's formula": text.item(),
        "correct (with the minus)": correct.item(),
        "text's formula, wrong predictions": torch.mean(y * torch.log(wrong) + (1 - y) * torch.log(1 - wrong)).item(),
        "text's dL/dp₁ (descent lowers p₁)": grad_text[0, 0].item(),
        "correct dL/dp₁ (descent raises p₁)": grad_correct[0, 0].item(),
    }


def from_logits() -> dict[str, object]:
    """Cross-entropy from logits z (``from_logits=True``) equals it from p = sigmoid(z), and is computed stably.

    From logits the loss is max(z, 0) − z·y + log(1 + e^(−|z|)) per element: no log of a rounded probability,
    no overflow. PyTorch: ``F.binary_cross_entropy_with_logits`` (``nn.BCEWithLogitsLoss``).
    """
    y = torch.tensor([[1.0], [0.0], [1.0], [0.0]])
    z = torch.tensor([[2.0], [-1.0], [0.5], [3.0]])
    stable = torch.clamp(z, min=0) - z * y + torch.log1p(torch.exp(-z.abs()))
    return {
        "from logits": ptref.losses.BinaryCrossentropy(from_logits=True)(y, z).item(),
        "from sigmoid(z)": ptref.losses.BinaryCrossentropy()(y, torch.sigmoid(z)).item(),
        "stable formula by hand": stable.mean().item(),
        "torch: F.binary_cross_entropy_with_logits": F.binary_cross_entropy_with_logits(z, y).item(),
    }


def probability_exactly_0_or_1() -> dict[str, list[float]]:
    """Certain predictions, p = 1, 0, 1 for labels y = 0, 1, 1: the formula as written gives inf, inf, nan.

    log(0) = −inf, and for the right answer 0·log(0) = nan. Keras clips p into [1e-7, 1 − 1e-7] first; in
    float32 1 − 1e-7 rounds to 1 − 2⁻²³, so a wrong p = 1 costs −log(2⁻²³) = 15.942 and a wrong p = 0
    costs −log(1e-7) = 16.118. ``F.binary_cross_entropy`` clamps each log at −100 instead: 100. From logits (±30)
    nothing is clipped: the loss is 30.
    """
    y = torch.tensor([[0.0], [1.0], [1.0]])
    p = torch.tensor([[1.0], [0.0], [1.0]])
    z = torch.tensor([[30.0], [-30.0], [30.0]])
    return {
        "formula as written": (-(y * torch.log(p) + (1 - y) * torch.log(1 - p))).flatten().tolist(),
        "Keras (clipped at 1e-7)": ptref.losses.binary_crossentropy(y, p).tolist(),
        "from logits ±30": ptref.losses.binary_crossentropy(y, z, from_logits=True).tolist(),
        "torch: F.binary_cross_entropy": F.binary_cross_entropy(p, y, reduction="none").flatten().tolist(),
    }


def categorical_crossentropy() -> dict[str, object]:
    """−Σ y log p over the classes, y one-hot: each sample pays −log of the probability of its class.

    Keras takes one-hot labels (``CategoricalCrossentropy``) or class numbers (``Sparse...``); torch's
    ``F.cross_entropy`` takes logits with class numbers (or probabilities as targets). On probabilities that
    do not sum to 1, Keras first divides by their sum: p = (0.2, 0.5, 0.2) for class 1 costs −log(0.5/0.9).
    """
    y = torch.tensor([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    labels = torch.tensor([1, 2])
    z = torch.tensor([[1.0, 3.0, 0.2], [2.0, 0.5, 1.0]])
    p = torch.softmax(z, dim=-1)
    not_summing_to_1 = torch.tensor([[0.2, 0.5, 0.2]])
    return {
        "by hand": (-torch.sum(y * torch.log(p), dim=-1).mean()).item(),
        "CategoricalCrossentropy()": ptref.losses.CategoricalCrossentropy()(y, p).item(),
        "from logits": ptref.losses.CategoricalCrossentropy(from_logits=True)(y, z).item(),
        "sparse labels, from logits": ptref.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, z).item(),
        "p summing to 0.9": ptref.losses.categorical_crossentropy(y[:1], not_summing_to_1).item(),
        "torch: F.cross_entropy": F.cross_entropy(z, labels).item(),
    }


def sum_vs_mean_reduction() -> dict[str, object]:
    """Reductions: Keras's ``"sum"`` adds the per-sample losses (each already a mean over the outputs);
    summing every element instead (torch's ``reduction="sum"``) is 3× larger here.

    A summed loss, and so its gradient, doubles when the batch doubles; a mean does not, so with a mean the
    gradient's scale, and a good learning rate, do not depend on the batch size. With ``sample_weight`` Keras
    still divides by the batch size N, not by the sum of the weights.
    """
    y_true, y_pred = regression_batch()
    twice_true, twice_pred = torch.cat([y_true, y_true]), torch.cat([y_pred, y_pred])
    keras_sum = ptref.losses.MeanSquaredError(reduction="sum")
    keras_mean = ptref.losses.MeanSquaredError()
    return {
        "per sample (reduction none)": ptref.losses.MeanSquaredError(reduction="none")(y_true, y_pred).tolist(),
        "Keras sum": keras_sum(y_true, y_pred).item(),
        "Keras sum, batch repeated twice": keras_sum(twice_true, twice_pred).item(),
        "Keras mean (sum_over_batch_size)": keras_mean(y_true, y_pred).item(),
        "Keras mean, batch repeated twice": keras_mean(twice_true, twice_pred).item(),
        "sample_weight (1, 0)": keras_mean(y_true, y_pred, sample_weight=torch.tensor([1.0, 0.0])).item(),
        "sum over every element": F.mse_loss(y_pred, y_true, reduction="sum").item(),
    }


def plots(results: Mapping[str, Mapping], directory: Path) -> list[Path]:
    """``loss_outliers.png``: each loss against one prediction's error, and the best constants of ``best_constant``."""
    errors = torch.linspace(-4.0, 4.0, 161).unsqueeze(1)
    zeros = torch.zeros_like(errors)
    per_error = {
        "MSE: e²": ptref.losses.mse(zeros, errors).tolist(),
        "MAE: |e|": ptref.losses.mae(zeros, errors).tolist(),
        "Huber (δ=1)": ptref.losses.huber(zeros, errors, delta=1.0).tolist(),
    }
    fit = results["best_constant"]
    samples = range(1, len(fit["data"]) + 1)
    fits = {"data": fit["data"], **{f"best c, {name}": [c] * len(samples) for name, c in fit["best c"].items()}}
    path = save_panels(
        Path(directory) / "loss_outliers.png",
        [
            Panel("Loss of one prediction vs its error e", "error e = ŷ − y", errors.flatten().tolist(), per_error),
            Panel("Best constant prediction, data with an outlier (45)", "sample", list(samples), fits),
        ],
    )
    return [path]


HELPERS = (regression_batch, outlier_batch, binary_batch)
STEPS = (
    mean_squared_error,
    outlier_sensitivity,
    best_constant,
    binary_crossentropy,
    log_loss_sign_error,
    from_logits,
    probability_exactly_0_or_1,
    categorical_crossentropy,
    sum_vs_mean_reduction,
)
