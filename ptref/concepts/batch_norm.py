"""Batch normalization: batch statistics in training, moving statistics in inference, Keras ↔ torch.

For each feature, over the m rows of a batch: μ = mean(x), σ² = (1/m) Σ (x − μ)²,
y = γ · (x − μ) / √(σ² + ε) + β.
In training the layer uses the batch's μ, σ² and updates moving averages of them; in inference it uses those
moving averages. Keras and torch agree on all of that and differ in three defaults: ε (Keras 1e-3, torch
1e-5), how momentum is written (Keras 0.99 = torch 0.1), and the variance the moving average stores (Keras the
1/m one, torch the 1/(m − 1) one). ``ptref.nn.BatchNormalization`` is Keras's layer in PyTorch;
``nn.BatchNorm1d`` is torch's own. TensorFlow twin: ``compare/concepts/batch_norm_tf.py``.
"""

from __future__ import annotations

import torch
from torch import nn

from ptref.nn import BatchNormalization


def batch(shift: float = 0.0) -> torch.Tensor:
    """m = 4 rows of 2 features: means [3, 2] (+ shift), variances 1/m: [3.5, 5], 1/(m − 1): [14/3, 20/3].

    No entry is 0, so y / x is defined.
    """
    return torch.tensor([[1.0, -1.0], [2.0, 1.0], [3.0, 3.0], [6.0, 5.0]]) + shift


def training_vs_inference() -> dict[str, object]:
    """A new layer in inference mode returns x / √(1 + ε); in training mode it normalizes with the batch.

    Inference: moving mean 0 and variance 1 (their start), so y = x / √(1 + ε). Training: y = (x − μ)/√(σ² + ε),
    each feature of y with mean 0 and (1/m) variance σ²/(σ² + ε) ≈ 1. Keras picks the mode per call
    (``layer(x, training=True)``); torch per module (``.train()`` / ``.eval()``). ``nn.BatchNorm1d`` computes
    the same with its own ε (1e-5): pass ``eps=1e-3`` for Keras's.
    """
    x = batch()
    layer = BatchNormalization(2)
    torch_layer = nn.BatchNorm1d(2, eps=1e-3)
    with torch.no_grad():
        inference = layer.eval()(x)
        torch_inference = torch_layer.eval()(x)
        training = layer.train()(x)
        torch_training = torch_layer.train()(x)
    return {
        "inference: y": inference.tolist(),
        "torch BatchNorm1d(eps=1e-3), inference: y": torch_inference.tolist(),
        "training: y": training.tolist(),
        "torch BatchNorm1d(eps=1e-3), training: y": torch_training.tolist(),
        "training: mean of y": training.mean(0).tolist(),
        "training: (1/m) variance of y": training.var(0, unbiased=False).tolist(),
    }


def errata_text_example_is_inference() -> dict[str, object]:
    """Erratum: the course text's ``BatchNormalization()(x)`` returns ≈ 0.9995·x, not a normalized x.

    Called outside ``fit`` with no ``training=`` argument, a Keras layer runs in inference mode: moving mean 0,
    moving variance 1, ε = 1e-3, so y = x / √(1.001) = 0.99950037·x. Corrected: ``BatchNormalization()(x,
    training=True)``. In PyTorch the default is the other way round: a new module is in training mode, so
    ``BatchNormalization(2)(x)`` normalizes and ``.eval()`` gives the text's 0.9995·x.
    """
    x = batch()
    with torch.no_grad():
        as_in_the_text = BatchNormalization(2).eval()(x)
        corrected = BatchNormalization(2)(x)  # a new module is in training mode
    return {
        "the text's call: y": as_in_the_text.tolist(),
        "y / x": (as_in_the_text / x).flatten().tolist(),
        "1 / sqrt(1 + 1e-3)": (1 + 1e-3) ** -0.5,
        "training mode: y": corrected.tolist(),
    }


def moving_statistics_momentum() -> dict[str, object]:
    """The moving mean after each of 3 training batches (means [3, 2], [4, 3], [5, 4]): the same EMA, written
    from the two sides.

    Keras: moving ← momentum · moving + (1 − momentum) · μ, momentum = 0.99 (keeps 99% of the old value).
    torch: running ← (1 − momentum) · running + momentum · μ, momentum = 0.1 (takes 10% of the batch).
    Keras's 0.99 is torch's 0.01, and torch's default 0.1 is Keras's 0.9: the defaults move 10× apart.
    """
    keras_default = BatchNormalization(2)  # momentum 0.99
    torch_default = nn.BatchNorm1d(2)  # momentum 0.1
    torch_as_keras = nn.BatchNorm1d(2, momentum=0.01)
    means: dict[str, list] = {"Keras momentum 0.99": [], "torch momentum 0.1": [], "torch momentum 0.01": []}
    with torch.no_grad():
        for shift in (0.0, 1.0, 2.0):
            for layer, key in zip((keras_default, torch_default, torch_as_keras), means):
                layer(batch(shift))
                means[key].append(layer.running_mean.tolist())
    return {f"moving mean per batch, {key}": value for key, value in means.items()}


def biased_vs_unbiased_variance() -> dict[str, object]:
    """Which variance? The text divides by m − 1; both libraries normalize with 1/m in training.

    The moving averages differ: Keras (and ``ptref.nn.BatchNormalization``) average the 1/m variance, torch
    the 1/(m − 1) one. With Keras momentum 0 (torch momentum 1) the moving variance is the batch's own: [3.5, 5]
    in Keras, [14/3, 20/3] in torch. So after training on a batch, torch's inference output for that same batch
    is the text's 1/(m − 1) normalization, Keras's is its training output.
    """
    x = batch()
    mean, var_m, var_m1 = x.mean(0), x.var(0, unbiased=False), x.var(0, unbiased=True)
    keras_layer = BatchNormalization(2, momentum=0.0)
    torch_layer = nn.BatchNorm1d(2, eps=1e-3, momentum=1.0)
    with torch.no_grad():
        training = keras_layer(x)
        torch_layer(x)
        keras_inference = keras_layer.eval()(x)
        torch_inference = torch_layer.eval()(x)
    return {
        "variance, 1/m": var_m.tolist(),
        "variance, 1/(m-1)": var_m1.tolist(),
        "training: y": training.tolist(),
        "(x - mean) / sqrt(var 1/m + eps)": ((x - mean) / torch.sqrt(var_m + 1e-3)).tolist(),
        "the text's (x - mean) / sqrt(var 1/(m-1) + eps)": ((x - mean) / torch.sqrt(var_m1 + 1e-3)).tolist(),
        "moving variance, Keras momentum 0": keras_layer.running_var.tolist(),
        "running_var, torch momentum 1": torch_layer.running_var.tolist(),
        "inference on the same batch: y": keras_inference.tolist(),
        "torch inference on the same batch: y": torch_inference.tolist(),
    }


HELPERS = (batch,)
STEPS = (
    training_vs_inference,
    errata_text_example_is_inference,
    moving_statistics_momentum,
    biased_vs_unbiased_variance,
)
