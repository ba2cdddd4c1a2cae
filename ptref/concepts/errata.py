"""Errata: where the course texts are wrong or no longer run, each shown as written and corrected, both run.

Every step runs the text's version (an error it raises comes back as a value, ``"AttributeError: ..."``)
next to the corrected one. Errata of TensorFlow code raise on the TensorFlow side; the PyTorch side runs
the PyTorch twin of the corrected code. TensorFlow twin: ``compare/concepts/errata_tf.py``. List with
the text's words: ``docs/errata.md``.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ptref import devices
from ptref.nn import BatchNormalization
from ptref.optim import SGD, Adadelta, Adam
from ptref.optim.schedules import ExponentialDecay, InverseTimeDecay, PolynomialDecay


def raised(run: Callable[[], object]) -> str:
    """Run the text's code; what it raised, as ``"Type: message"`` (the lesson shows errors as values)."""
    try:
        run()
    except Exception as error:  # any error the text's code meets is the point of the step
        return f"{type(error).__name__}: {error}"
    return "ran without an error"


def line_at_one() -> nn.Linear:
    """y = w·x + b starting at w = 1, b = 0."""
    model = nn.Linear(1, 1)
    nn.init.ones_(model.weight)
    nn.init.zeros_(model.bias)
    return model


def session_in_tf2() -> dict[str, object]:
    """``tf.Session()`` is gone in TF 2 (AttributeError): ``tf.compat.v1.Session`` or, better, eager code.

    PyTorch has no session to open: ``a + b`` is computed when the line runs, as TF 2's eager mode does.
    """
    a, b = torch.tensor(2), torch.tensor(3)
    return {"corrected": (a + b).item()}


def sparse_matmul() -> dict[str, object]:
    """``tf.sparse.matmul`` does not exist: the sparse × dense product is ``tf.sparse.sparse_dense_matmul``.

    PyTorch: ``torch.sparse.mm`` (or ``sparse @ dense``).
    """
    sparse = torch.sparse_coo_tensor([[0, 1, 2, 2], [1, 0, 0, 3]], [1.0, 2.0, 3.0, 4.0], (3, 4))
    dense = torch.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0]])
    return {"corrected": torch.sparse.mm(sparse, dense).tolist()}


def clipping_callback() -> dict[str, object]:
    """The text clips gradients in a ``LambdaCallback`` through ``model.optimizer.get_gradients`` and
    ``model.total_loss``: neither exists in TF 2's Keras (AttributeError), and a callback runs after the update
    anyway. Clipping belongs to the optimizer: ``SGD(learning_rate=0.1, clipnorm=1.0)``.

    Keras's ``clipnorm`` clips each variable's gradient to norm ≤ 1 on its own (``global_clipnorm`` clips them
    together). One step of y = w·x + b at w = 1, b = 0, x = 10, target 0: dL/dw = 200 and dL/db = 20 both
    clip to 1, so w = 1 − 0.1 = 0.9 and b = −0.1. PyTorch: ``ptref.optim.SGD(clipnorm=1.0)``, or
    ``clip_grad_norm_`` called per parameter before ``step()``.
    """
    x, target = torch.tensor([[10.0]]), torch.tensor([[0.0]])
    keras_like, native = line_at_one(), line_at_one()

    optimizer = SGD(keras_like.parameters(), learning_rate=0.1, clipnorm=1.0)
    F.mse_loss(keras_like(x), target).backward()
    optimizer.step()

    optimizer = torch.optim.SGD(native.parameters(), lr=0.1)
    F.mse_loss(native(x), target).backward()
    for parameter in native.parameters():  # each on its own, as Keras's clipnorm
        nn.utils.clip_grad_norm_(parameter, max_norm=1.0)
    optimizer.step()
    return {
        "corrected": {"w": keras_like.weight.item(), "b": keras_like.bias.item()},
        "clip_grad_norm_ per parameter": {"w": native.weight.item(), "b": native.bias.item()},
    }


def batch_norm_inference() -> dict[str, object]:
    """The text's ``BatchNormalization()(x)`` returns ≈ 0.9995·x, not normalized values: called without
    ``training=True`` a Keras layer runs in inference mode, with its fresh moving statistics (mean 0, variance
    1): x / sqrt(1 + 0.001). Corrected: ``BatchNormalization()(x, training=True)`` → (x − mean) / sqrt(var + ε).

    PyTorch's default is the other way round: a new module is in training mode; ``.eval()`` gives the text's
    result. ``ptref.nn.BatchNormalization`` has Keras's ε = 1e-3 (``nn.BatchNorm1d``: 1e-5).
    """
    x = torch.tensor([[1.0], [2.0], [3.0], [4.0]])
    layer = BatchNormalization(1)
    text = layer.eval()(x)
    corrected = layer.train()(x)
    return {
        "text": text.view(-1).tolist(),
        "text / x": (text / x).view(-1).tolist(),
        "corrected": corrected.view(-1).tolist(),
    }


def numpy_regression() -> dict[str, object]:
    """The text's NumPy regression of y = 2x: ``x`` is never defined (NameError: the data is ``X``), and once
    that is fixed, ``w += lr * grad`` climbs the loss: each step multiplies w − 2 by 1 + 0.01·15 (grad =
    15·(w − 2) here), so w runs away. Corrected: ``w -= lr * grad`` (downhill), reaching w ≈ 2; autograd gives
    the same gradient.
    """
    text = """
X = np.array([1.0, 2.0, 3.0, 4.0])
y = 2 * X
w, lr = 0.0, 0.01
for epoch in range(100):
    y_pred = w * x
    grad = np.mean(2 * (y_pred - y) * X)
    w += lr * grad
"""
    name_fixed = {"np": np}
    exec(text.replace("w * x", "w * X"), name_fixed)  # noqa: S102  (the text's own code, run as printed)

    X = torch.tensor([1.0, 2.0, 3.0, 4.0])
    y = 2 * X
    w, lr = torch.tensor(0.0, requires_grad=True), 0.01
    for _ in range(100):
        loss = ((w * X - y) ** 2).mean()
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            w.grad.zero_()
    return {
        "text": raised(lambda: exec(text, {"np": np})),  # noqa: S102
        "text, x → X (w += lr·grad)": float(name_fixed["w"]),
        "corrected (w -= lr·grad)": w.item(),
    }


def log_loss_sign() -> dict[str, float]:
    """Log loss is L = −(1/m)·Σ[y·log p + (1 − y)·log(1 − p)]; the text prints it without the minus, which
    gives a negative "loss" that gradient descent would drive to −∞. y = [1, 0, 1], p = [0.9, 0.2, 0.6]:
    the text gives −0.2798, the correct value is 0.2798 (= ``F.binary_cross_entropy``).
    """
    y = torch.tensor([1.0, 0.0, 1.0])
    p = torch.tensor([0.9, 0.2, 0.6])
    text = (y * p.log() + (1 - y) * (1 - p).log()).mean()
    return {
        "text": text.item(),
        "corrected": (-text).item(),
        "F.binary_cross_entropy": F.binary_cross_entropy(p, y).item(),
    }


def decay_schedule_labels() -> dict[str, list[float]]:
    """The text calls α_t = α0 / (1 + λ·t) "exponential decay": it is inverse-time decay (Keras
    ``InverseTimeDecay``); exponential decay is α0·r^t. α0 = 0.1, λ = 0.5, t = 0..4. The text's linear decay
    α0 − 0.05·t goes negative after t = 2; ``PolynomialDecay(power=1)`` stops at its end rate (here 0).
    """
    steps = range(5)
    inverse_time = InverseTimeDecay(0.1, decay_steps=1, decay_rate=0.5)
    exponential = ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    linear = PolynomialDecay(0.1, decay_steps=2, end_learning_rate=0.0, power=1.0)
    return {
        "text: α0/(1+λt), called exponential": [0.1 / (1 + 0.5 * t) for t in steps],
        "corrected: InverseTimeDecay": [inverse_time(t) for t in steps],
        "ExponentialDecay (what the label means)": [exponential(t) for t in steps],
        "text: linear α0 − 0.05·t": [0.1 - 0.05 * t for t in steps],
        "corrected: PolynomialDecay(power=1)": [linear(t) for t in steps],
    }


def adam_beta2_and_bias_correction() -> dict[str, list[float]]:
    """The text's Adam prints β2 = 0.9 (Adam's is 0.999) and leaves out the bias correction m̂ = m/(1 − β1^t),
    v̂ = v/(1 − β2^t). Three steps on f(w) = w² from w = 1, lr = 0.1: the text's rule moves w by lr·0.1/sqrt(0.1)
    ≈ 0.0316 at the first step; Adam moves it by lr (the step's size is lr·m̂/sqrt(v̂) = lr·sign(g) at t = 1).
    """
    lr, beta1, beta2, epsilon = 0.1, 0.9, 0.9, 1e-7
    w, m, v, text = torch.tensor(1.0), 0.0, 0.0, []
    for _ in range(3):
        g = 2 * w
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        w = w - lr * m / (v.sqrt() + epsilon)
        text.append(w.item())

    w = torch.tensor(1.0, requires_grad=True)
    optimizer, corrected = Adam([w], learning_rate=lr), []  # Keras's Adam: β2 = 0.999, bias-corrected
    for _ in range(3):
        optimizer.zero_grad()
        (w**2).backward()
        optimizer.step()
        corrected.append(w.item())
    return {"text (β2 = 0.9, no bias correction)": text, "corrected (Adam)": corrected}


def adadelta_formula() -> dict[str, list[float]]:
    """Adadelta (Zeiler 2012) scales the gradient by RMS[Δw]_{t−1} / RMS[g]_t, with RMS[z] = sqrt(E[z²] + ε);
    the text prints the ratio upside down, RMS[g]_t / RMS[Δw]_{t−1}. As E[Δw²] starts at 0 that divides by
    sqrt(ε): the first step is sqrt(E[g²]/ε) ≈ 1,400 times the gradient. f(w) = w² from w = 1, ρ = 0.95,
    ε = 1e-7, learning rate 1 (Zeiler's rule has none; Keras multiplies the step by it).
    """
    rho, epsilon = 0.95, 1e-7
    w, acc_g, acc_delta, text = torch.tensor(1.0, dtype=torch.float64), 0.0, 0.0, []
    for _ in range(3):
        g = 2 * w
        acc_g = rho * acc_g + (1 - rho) * g**2
        delta = -(acc_g + epsilon) ** 0.5 / (acc_delta + epsilon) ** 0.5 * g
        acc_delta = rho * acc_delta + (1 - rho) * delta**2
        w = w + delta
        text.append(w.item())

    w = torch.tensor(1.0, requires_grad=True)
    optimizer, corrected = Adadelta([w], learning_rate=1.0, rho=rho, epsilon=epsilon), []
    for _ in range(3):
        optimizer.zero_grad()
        (w**2).backward()
        optimizer.step()
        corrected.append(w.item())
    return {"text (ratio inverted)": text, "corrected (Adadelta)": corrected}


def backprop_transposes() -> dict[str, object]:
    """For a layer y = X·W (X: m×n, W: n×k) with upstream gradient δ = dL/dy (m×k), dL/dW = Xᵀ·δ (n×k, W's
    shape). The text writes δ·Xᵀ, an (m×k)·(n×m) product that fails for any k ≠ n: here m = 3, n = 2, k = 1.
    """
    X = torch.tensor([[0.5, -1.0], [1.5, 2.0], [-0.5, 0.25]])
    W = torch.tensor([[0.7], [-0.8]], requires_grad=True)
    y = X @ W
    L = (y**2).sum()
    L.backward()
    delta = 2 * y.detach()
    return {
        "text: δ·Xᵀ": raised(lambda: delta @ X.T),
        "corrected: Xᵀ·δ": (X.T @ delta).tolist(),
        "autograd dL/dW": W.grad.tolist(),
    }


def device_order() -> dict[str, object]:
    """The PyTorch text picks ``"mps" if mps available else "cuda" if cuda available else "cpu"``: MPS first.
    ptref's ``accelerator: auto`` tries CUDA, then MPS, then XLA/TPU, then CPU (``ptref/devices.py``). No
    machine offers both (MPS exists only on Apple-silicon macOS, which has no CUDA), so both orders pick the
    same device everywhere. ptref keeps CUDA first: changing it would change no machine's choice, and CUDA first
    is the order ptref's docs and ``ptref env`` already state.
    """
    text = "mps" if torch.backends.mps.is_available() else "cuda" if torch.cuda.is_available() else "cpu"
    return {
        "text's order": ["mps", "cuda", "cpu"],
        "ptref's order": list(devices.AUTO_ORDER),
        "text picks here": text,
        "ptref picks here": devices.choose_auto().name,
    }


HELPERS = (raised, line_at_one)
STEPS = (
    session_in_tf2,
    sparse_matmul,
    clipping_callback,
    batch_norm_inference,
    numpy_regression,
    log_loss_sign,
    decay_schedule_labels,
    adam_beta2_and_bias_correction,
    adadelta_formula,
    backprop_transposes,
    device_order,
)
