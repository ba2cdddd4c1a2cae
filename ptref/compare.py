"""``ptref compare``: run the TensorFlow parity checks and write a report (table, JSON, figures).

The checks themselves live in the source checkout's ``compare/`` folder (``compare/checks.py``,
``compare/training.py``), the same code the ``pytest compare/`` suite asserts on; this command is their
second front-end. It needs TensorFlow (``pip install -e '.[compare]'``) and a source checkout.

Writes ``report.md`` (one table: what was compared, max abs / rel difference, tolerance, verdict),
``report.json`` (every number, per-step curves included), ``loss_curves.png`` (Keras vs ptref losses overlaid),
``loss_gap.png`` (per-step difference, log scale) and ``per_layer_errors.png`` (per-parameter gradient error).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import math
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

LEVELS = ("forward", "gradient", "step", "trajectory", "statistical", "interop", "teeth")
WORKFLOWS = ("house_price", "softmax", "mlp", "cnn", "cnn_bn")
REPO = Path(__file__).resolve().parent.parent


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="ptref compare", description=__doc__.split("\n\n")[0])
    parser.add_argument("--level", nargs="+", choices=LEVELS, default=list(LEVELS), help="levels to run (default all)")
    parser.add_argument("--workflow", nargs="+", choices=WORKFLOWS, default=list(WORKFLOWS),
                        help="workflows to run (default all)")
    parser.add_argument("--out", required=True, type=Path, help="folder for report.md, report.json and the PNGs")
    parser.add_argument("--steps", type=int, default=100, help="trajectory length in steps (default 100)")
    parser.add_argument("--epochs", type=int, default=2, help="epochs per run of the statistical level (default 2)")
    return parser.parse_args(argv)


def load_checks() -> tuple[Any, Any, Any]:
    """Import ``compare.checks`` and ``compare.training`` from the checkout, after ``torch._dynamo``."""
    import torch._dynamo  # noqa: F401  (before TensorFlow: otherwise LLVM aborts the process)

    if importlib.util.find_spec("tensorflow") is None:
        raise SystemExit("ptref compare needs TensorFlow, which is not installed: pip install -e '.[compare]'")
    if not (REPO / "compare" / "checks.py").is_file():
        raise SystemExit(
            f"ptref compare runs the parity checks in the source checkout's compare/ folder, not found at "
            f"{REPO / 'compare'}: run it from a git checkout of ptref (pip install -e .)"
        )
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    sys.path.insert(0, str(REPO))
    from compare import checks, teeth, training

    return checks, teeth, training


def plan(args: argparse.Namespace, checks: Any, teeth: Any, training: Any) -> list[tuple[str, Callable[[], Any]]]:
    """``(label, thunk)`` per check; a thunk returns a Result or a list of them."""
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


def markdown(results: list[Any], seconds: float) -> str:
    lines = [
        "| level | workflow | compared | max abs diff | max rel diff | tolerance | verdict |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        tolerance = "—" if math.isinf(r.tolerance.value) else f"{r.tolerance.value:g} {r.tolerance.kind} (`{r.tolerance.name}`)"
        lines.append(f"| {r.level} | {r.workflow} | {r.what} | {r.max_abs:.3g} | {r.max_rel:.3g} | {tolerance} | "
                     f"{r.verdict} |")
    failed = [r for r in results if not r.ok]
    summary = f"{len(results) - len(failed)}/{len(results)} checks as expected in {seconds:.0f} s"
    tolerances = {r.tolerance.name: r.tolerance for r in results}
    notes = "\n".join(
        f"- `{t.name}` = {t.value:g} ({t.kind}): {t.reason}" for t in sorted(tolerances.values(), key=lambda t: t.name)
    )
    stats = [r for r in results if r.level == "statistical"][:1]
    extra = ""
    if stats:
        accuracies = stats[0].details["accuracies"]
        extra = "\n## Statistical level: test accuracies (%) per seed\n\n" + "\n".join(
            f"- {name}: " + ", ".join(f"{a:.2f}" for a in values) for name, values in accuracies.items()
        ) + "\n"
    return (
        "# ptref vs TensorFlow/Keras: parity report\n\n"
        f"{summary}. Verdicts: *pass* = within tolerance; *caught* = a deliberately wrong mapping exceeds it "
        "(the suite has teeth); *measured* = reported, no bound.\n\n" + "\n".join(lines) + "\n"
        + extra + "\n## Tolerances and their reasons\n\n" + notes + "\n"
    )


def figures(results: list[Any], out: Path) -> list[str]:
    import matplotlib
    import numpy as np

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    written = []
    runs = [r for r in results if r.level == "trajectory" and "loss per step" in r.what]
    if runs:
        figure, axes = plt.subplots(1, len(runs), figsize=(4 * len(runs), 3.2), squeeze=False)
        for axis, r in zip(axes[0], runs):
            axis.plot(r.details["keras_loss"], label="Keras / TF1", linewidth=3, alpha=0.5)
            axis.plot(r.details["ptref_loss"], label="ptref (Lightning)", linestyle="--")
            axis.set(title=r.workflow + (" (nn.Linear)" if "nn.Linear" in r.what else ""), xlabel="step", ylabel="loss")
            axis.legend()
        figure.tight_layout()
        figure.savefig(out / "loss_curves.png", dpi=90)
        written.append("loss_curves.png")
        figure, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
        floor = 1e-10  # exact agreement (0) drawn at the floor of the log scale
        for r in runs:
            label = r.workflow + (" (nn.Linear)" if "nn.Linear" in r.what else "")
            # the largest gap so far: per-step rounding flips between 0 and an ulp, the envelope shows the growth
            for axis, key in zip(axes, ("loss_rel_gap", "weight_abs_gap")):
                axis.plot(np.maximum.accumulate(np.maximum(r.details[key], floor)), label=label)
        axes[0].set(yscale="log", xlabel="step", ylabel="largest gap so far", title="loss per step, max rel gap")
        axes[1].set(xlabel="step", title="weights after each step, max abs gap")
        axis = axes[1]
        axis.legend(fontsize=7)
        figure.tight_layout()
        figure.savefig(out / "loss_gap.png", dpi=90)
        written.append("loss_gap.png")
    gradients = [r for r in results if r.level == "gradient"]
    if gradients:
        names, values, tolerances = [], [], []
        for r in gradients:
            for name, (_, rel) in r.details["per_parameter"].items():
                names.append(f"{r.workflow}: {name.split('/', 1)[-1]}")
                values.append(max(rel, 1e-12))
                tolerances.append(r.tolerance.value)
        figure, axis = plt.subplots(figsize=(7, 0.25 * len(names) + 1.2))
        axis.barh(names, values)
        axis.scatter(tolerances, names, marker="|", color="red", s=200, label="tolerance")
        axis.set(xscale="log", xlabel="max |g_keras − g_ptref| / max |g_keras|", title="Gradient error per parameter")
        axis.invert_yaxis()
        axis.legend()
        figure.tight_layout()
        figure.savefig(out / "per_layer_errors.png", dpi=90)
        written.append("per_layer_errors.png")
    plt.close("all")
    return written


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    checks, teeth, training = load_checks()
    # Each check builds its own Trainer: keep Lightning's per-Trainer banners and hints out of the progress bar.
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="lightning")
    from tqdm.auto import tqdm

    args.out.mkdir(parents=True, exist_ok=True)
    results, start = [], time.perf_counter()
    tasks = plan(args, checks, teeth, training)
    with tqdm(tasks, desc="ptref compare", unit="check") as progress:
        for label, task in progress:
            progress.set_postfix_str(label)
            outcome = task()
            results += outcome if isinstance(outcome, list) else [outcome]
    seconds = time.perf_counter() - start
    (args.out / "report.md").write_text(markdown(results, seconds))
    payload = {"seconds": seconds, "results": [r.as_dict() for r in results]}
    (args.out / "report.json").write_text(json.dumps(payload, indent=1, default=str))
    written = figures(results, args.out)
    bad = [r for r in results if not r.ok]
    print(f"{len(results) - len(bad)}/{len(results)} checks as expected in {seconds:.0f} s; wrote "
          f"{', '.join(['report.md', 'report.json', *written])} to {args.out}")
    for r in bad:
        print(f"  {r.verdict}: {r.level} {r.workflow} {r.what}: {r.metric:.3g} vs {r.tolerance.value:g}")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
