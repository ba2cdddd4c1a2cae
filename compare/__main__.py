"""The course's parity report: its five workflows at every level, on :mod:`ptref.parity`.

    python -m compare --out runs/report/ [--level forward gradient ...] [--workflow mlp cnn ...]

Writes ``report.md``, ``report.json``, ``loss_curves.png``, ``loss_gap.png`` and ``per_layer_errors.png`` (the
figures of :class:`ptref.parity.ParityReport`); exits 1 when a check is not as expected. A pair of your own models:
``ptref compare --keras ... --torch ...``.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

LEVELS = ("forward", "gradient", "step", "trajectory", "statistical", "interop", "teeth")
WORKFLOWS = ("house_price", "softmax", "mlp", "cnn", "cnn_bn")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m compare", description=__doc__.split("\n\n")[0])
    parser.add_argument("--level", nargs="+", choices=LEVELS, default=list(LEVELS), help="levels to run (default all)")
    parser.add_argument("--workflow", nargs="+", choices=WORKFLOWS, default=list(WORKFLOWS),
                        help="workflows to run (default all)")
    parser.add_argument("--out", required=True, type=Path, help="folder for report.md, report.json and the PNGs")
    parser.add_argument("--steps", type=int, default=100, help="trajectory length in steps (default 100)")
    parser.add_argument("--epochs", type=int, default=2, help="epochs per run of the statistical level (default 2)")
    return parser.parse_args(argv)


def plan(args: argparse.Namespace) -> list[tuple[str, Callable[[], Any]]]:
    """``(label, thunk)`` per check; a thunk returns a Check or a list of them."""
    from compare import checks, teeth, training

    tasks: list[tuple[str, Callable[[], Any]]] = []
    files = tempfile.mkdtemp(prefix="ptref-compare-files-")
    for workflow in args.workflow:
        if "forward" in args.level:
            for direction in ("keras->ptref", "ptref->keras"):
                tasks.append((f"forward {workflow} {direction}", lambda w=workflow, d=direction: checks.forward(w, d)))
        if "gradient" in args.level:
            tasks.append((f"gradient {workflow}", lambda w=workflow: checks.gradient(w)))
        if "step" in args.level:
            optimizers = list(checks.KERAS_OPTIMIZERS) if workflow == "mlp" else ["sgd"]
            for optimizer in optimizers:
                tasks.append((f"step {workflow} {optimizer}", lambda w=workflow, o=optimizer: checks.step(w, o)))
        if "trajectory" in args.level:
            if workflow == "house_price":
                for column in (True, False):
                    tasks.append((f"trajectory house_price bias_column={column}",
                                  lambda c=column: training.house_price_tf1(steps=200, bias_column=c)))
            else:
                tasks.append((f"trajectory {workflow}", lambda w=workflow: training.trajectory(w, steps=args.steps)))
        if "interop" in args.level:
            tasks.append((f"interop {workflow} round trips", lambda w=workflow: checks.round_trip(w)))
            for suffix in (".keras", ".h5"):
                tasks.append((f"interop {workflow} {suffix}",
                              lambda w=workflow, s=suffix: checks.file_loading(w, s, files)))
    if "statistical" in args.level and "softmax" in args.workflow:
        tasks.append(("statistical softmax", lambda: training.statistical(epochs=args.epochs)))
    if "teeth" in args.level:
        tasks += [(f"teeth {name}", check) for name, check in teeth.TEETH.items()]
    return tasks


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    from tqdm.auto import tqdm

    from ptref.parity import ParityReport
    from ptref.parity.tf import onednn_state

    # Each check builds its own Trainer: keep Lightning's per-Trainer banners and hints out of the progress bar.
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="lightning")
    tasks = plan(args)
    report, start = ParityReport(notes=[f"TensorFlow oneDNN kernels: {onednn_state()}"]), time.perf_counter()
    with tqdm(tasks, desc="python -m compare", unit="check") as progress:
        for label, task in progress:
            progress.set_postfix_str(label)
            outcome = task()
            report.checks += outcome if isinstance(outcome, list) else [outcome]
    report.seconds = time.perf_counter() - start
    written = report.write(args.out, title="ptref vs TensorFlow/Keras: the course's parity report")
    print(report.summary(written, args.out))
    return 1 if report.failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
