"""Anatomy of the training loop: forward → loss → zero_grad → backward → step, over batches and epochs.

Keras hides the loop in ``model.compile(...)`` + ``model.fit(...)``; in PyTorch you write it (or let
Lightning's Trainer run it). One epoch is one pass over the data; one update is one optimizer step, taken
after every batch. TensorFlow twin: ``compare/concepts/training_loop_tf.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from ptref.concepts.plotting import save_line_plot


def line_data() -> tuple[torch.Tensor, torch.Tensor]:
    """32 points of y = 3x + 2 + 0.5·sin(6x) for x in [−1, 1]; the sine keeps the best loss above 0."""
    x = torch.linspace(-1, 1, 32).unsqueeze(1)
    return x, 3 * x + 2 + 0.5 * torch.sin(6 * x)


def zero_init_line() -> nn.Linear:
    """y = w·x + b starting at w = b = 0, so both frameworks start from the same point."""
    model = nn.Linear(1, 1)
    nn.init.zeros_(model.weight)
    nn.init.zeros_(model.bias)
    return model


def training_loop(batch_size: int = 8, epochs: int = 10) -> dict[str, object]:
    """The loop ``model.fit`` runs, written out; Keras: ``compile(SGD(0.1), "mse")`` + ``fit(batch_size=8, epochs=10)``.

    Per batch: forward, loss, ``zero_grad``, ``backward``, ``step``. The loss reported per epoch is what
    Keras reports: the mean of the batch losses, weighted by batch size.
    """
    x, y = line_data()
    loader = DataLoader(TensorDataset(x, y), batch_size=batch_size, shuffle=False)
    model = zero_init_line()
    criterion = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    loss_per_epoch = []
    for _ in range(epochs):
        total = 0.0
        for xb, yb in loader:
            loss = criterion(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += loss.item() * len(xb)
        loss_per_epoch.append(total / len(x))
    return {
        "updates per epoch": len(loader),
        "loss per epoch": loss_per_epoch,
        "w": model.weight.item(),
        "b": model.bias.item(),
    }


def forgetting_zero_grad() -> dict[str, float]:
    """Without ``zero_grad`` gradients add up: ``backward`` does ``.grad += ∂L/∂w``, so two passes give 2×.

    TensorFlow has no ``.grad`` to accumulate: ``tape.gradient`` returns fresh gradients each time, and
    summing them (gradient accumulation) is something you write yourself.
    """
    x, y = line_data()
    model = zero_init_line()
    criterion = nn.MSELoss()
    criterion(model(x), y).backward()
    once = model.weight.grad.item()
    criterion(model(x), y).backward()
    twice = model.weight.grad.item()
    model.zero_grad()
    criterion(model(x), y).backward()
    fresh = model.weight.grad.item()
    return {
        "dL/dw, one pass": once,
        "two passes, no zero_grad": twice,
        "zero_grad, one pass": fresh,
    }


def batch_vs_minibatch_vs_single() -> dict[str, dict]:
    """Batch (32 rows per update), mini-batch (8) and single-sample (1) gradient descent on the same data.

    An epoch gives 1, 4 and 32 updates: smaller batches move faster per epoch but noisier per step.
    ``--plots DIR`` draws the three loss curves.
    """
    sizes = {"batch": 32, "mini-batch": 8, "single": 1}
    runs = {name: training_loop(batch_size=size) for name, size in sizes.items()}
    return {
        "updates per epoch": {name: run["updates per epoch"] for name, run in runs.items()},
        "loss per epoch": {name: run["loss per epoch"] for name, run in runs.items()},
    }


def plots(results: Mapping[str, Mapping], directory: Path) -> list[Path]:
    """The loss curves of ``batch_vs_minibatch_vs_single`` as ``loss_curves.png``."""
    curves = results["batch_vs_minibatch_vs_single"]["loss per epoch"]
    path = save_line_plot(
        Path(directory) / "loss_curves.png",
        curves,
        title="Same data, same lr: batch vs mini-batch vs single-sample",
        xlabel="epoch",
        ylabel="MSE (mean over the epoch)",
        log_y=True,
    )
    return [path]


HELPERS = (line_data, zero_init_line)
STEPS = (training_loop, forgetting_zero_grad, batch_vs_minibatch_vs_single)
