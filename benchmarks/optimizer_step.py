"""Median time of one optimizer step: ptref's readable rule vs its multi-tensor path vs ``torch.optim``'s Adam.

Run from the repository root::

    python benchmarks/optimizer_step.py                 # all optimizers, MLP and course CNN, 1 thread
    python benchmarks/optimizer_step.py --only Adam SGD --rounds 30

Parameters have the shapes of the course's MLP (784-512-512-10) and CNN (conv32-conv64-pool-dense128-10);
the gradients are fixed random tensors, so a step is ``optimizer.step()`` alone. Variants run interleaved
(every round steps each variant ``--steps`` times, in turn), so a slower or busier moment of a shared machine
hits them all alike; each figure is the median over rounds of the mean time per step. Ratios are
readable time / variant time (> 1: the variant is faster).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch
from torch import nn

from ptref import optim

MODELS: dict[str, Callable[[], nn.Module]] = {
    "MLP": lambda: nn.Sequential(nn.Linear(784, 512), nn.Linear(512, 512), nn.Linear(512, 10)),
    "CNN": lambda: nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.Conv2d(32, 64, 3), nn.Linear(64 * 12 * 12, 128), nn.Linear(128, 10)
    ),
}

# name -> (ptref class, its arguments)
OPTIMIZERS: dict[str, tuple[type[optim.KerasOptimizer], dict]] = {
    "Adam": (optim.Adam, {}),
    "AdamW": (optim.AdamW, {}),
    "SGD": (optim.SGD, {}),
    "SGD momentum": (optim.SGD, {"momentum": 0.9}),
    "SGD nesterov": (optim.SGD, {"momentum": 0.9, "nesterov": True}),
    "RMSprop": (optim.RMSprop, {}),
    "Adagrad": (optim.Adagrad, {}),
    "Adadelta": (optim.Adadelta, {}),
    "Adamax": (optim.Adamax, {}),
    "Nadam": (optim.Nadam, {}),
    "Lion": (optim.Lion, {}),
}


def parameters_with_gradients(model: str, seed: int) -> list[nn.Parameter]:
    """A fresh copy of ``model``'s parameters, each with a fixed random gradient."""
    torch.manual_seed(seed)
    params = list(MODELS[model]().parameters())
    for param in params:
        param.grad = torch.randn_like(param) * 1e-2
    return params


def variants(name: str, model: str) -> dict[str, torch.optim.Optimizer]:
    """The optimizers to time for one row: readable, multi-tensor, and torch.optim's own for Adam."""
    cls, kwargs = OPTIMIZERS[name]
    built = {
        "readable": cls(parameters_with_gradients(model, 0), foreach=False, **kwargs),
        "multi-tensor": cls(parameters_with_gradients(model, 0), **kwargs),
    }
    if name == "Adam":
        built["torch foreach"] = torch.optim.Adam(parameters_with_gradients(model, 0), foreach=True)
        built["torch fused"] = torch.optim.Adam(parameters_with_gradients(model, 0), fused=True)
    return built


def median_step_seconds(optimizers: dict[str, torch.optim.Optimizer], rounds: int, steps: int) -> dict[str, float]:
    """Interleaved timing: per round, ``steps`` steps of each optimizer in turn; median of the per-step means."""
    times: dict[str, list[float]] = {key: [] for key in optimizers}
    for opt in optimizers.values():  # build the state outside the timed rounds
        opt.step()
    for _ in range(rounds):
        for key, opt in optimizers.items():
            start = time.perf_counter()
            for _ in range(steps):
                opt.step()
            times[key].append((time.perf_counter() - start) / steps)
    return {key: statistics.median(values) for key, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="interleaved rounds (the median is over these)")
    parser.add_argument("--steps", type=int, default=10, help="steps per variant per round")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    parser.add_argument("--only", nargs="*", default=list(OPTIMIZERS), choices=list(OPTIMIZERS), metavar="NAME")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} thread(s), {args.rounds} rounds x {args.steps} steps")
    print(f"{'optimizer':14s} {'model':5s} {'readable ms':>12s} {'multi-tensor':>13s} {'ratio':>6s}"
          f" {'torch foreach':>14s} {'ratio':>6s} {'torch fused':>12s} {'ratio':>6s}")
    for name in args.only:
        for model in MODELS:
            ms = {k: v * 1e3 for k, v in median_step_seconds(variants(name, model), args.rounds, args.steps).items()}
            row = f"{name:14s} {model:5s} {ms['readable']:12.3f} {ms['multi-tensor']:13.3f}"
            row += f" {ms['readable'] / ms['multi-tensor']:6.2f}"
            for key, width in (("torch foreach", 14), ("torch fused", 12)):
                if key in ms:
                    row += f" {ms[key]:{width}.3f} {ms['readable'] / ms[key]:6.2f}"
            print(row, flush=True)


if __name__ == "__main__":
    main()
