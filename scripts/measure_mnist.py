"""Train, then test, MNIST experiments from the command line and print their figures as README table rows.

For each experiment: ``ptref fit --config <yaml>`` (its seed, its epochs), then ``ptref test`` with the
run's ``last.ckpt``; the test accuracy comes from ``version_N/test/metrics.csv``, the time per epoch from
the wall-clock stamps TensorBoard keeps on each epoch's ``val_acc`` (training + validation).

    PYTHONPATH=. python scripts/measure_mnist.py experiments/mnist_softmax_t10k.yaml experiments/mnist_cnn_t10k.yaml
    PYTHONPATH=. python scripts/measure_mnist.py experiments/texts/mnist_*.yaml      # the texts' own workflows

Runs one experiment at a time; extra arguments after ``--`` go to ``ptref fit`` (e.g. ``-- --trainer.max_epochs 1``).

CPU results depend on the machine's kernels (instruction set, oneDNN code paths), so the same seed gives a slightly
different accuracy on another CPU; each row names the CPU it was measured on, and the claim is the acceptance
bound (``ACCEPTANCE``), which the script checks: it exits 1 when an experiment falls below its bound.
"""

from __future__ import annotations

import argparse
import csv
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from ptref.runs import free_folder, run_versions


def ptref(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "ptref", *args, "--trainer.enable_progress_bar", "false"], check=True)


# The README's claims: test accuracy an experiment must reach with its config's seed on any CPU.
ACCEPTANCE = {
    "mnist_softmax_t10k": 0.915,
    "mnist_mlp_t10k": 0.955,
    "mnist_cnn_t10k": 0.980,
    "mnist_deeper_cnn_momentum_t10k": 0.975,
    # the texts' own workflows (experiments/texts/): bounds the texts' own code also meets on the same split
    # (compare/texts_own_code.py: 93.90%, 94.05%, 97.70%, 96.45%)
    "mnist_pytorch_mlp_t10k": 0.925,
    "mnist_keras_simplenet_t10k": 0.935,
    "mnist_keras_convnet_t10k": 0.975,
    "mnist_deeper_cnn_sgd_t10k": 0.96,
    "fashion_mnist_mlp": 0.88,
    "fashion_mnist_cnn": 0.91,
}


def cpu_name() -> str:
    """The CPU's model name as the kernel reports it (``platform.processor()`` is often empty on Linux)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()}, {os.cpu_count()} cores"
    except OSError:
        pass
    return platform.processor() or platform.machine()


def measure(experiment: Path, root: Path, fit_args: list[str]) -> dict[str, float | str]:
    root = root / experiment.stem
    start = time.perf_counter()
    ptref("fit", "--config", str(experiment), "--trainer.default_root_dir", str(root), *fit_args)
    fit_seconds = time.perf_counter() - start
    run = run_versions(root)[0]  # the fit just made: the highest version_N
    config = yaml.safe_load((run / "config.yaml").read_text())  # as run, flags included
    test_dir = free_folder(run, "test")  # where `ptref test` writes, beside the checkpoint's run
    ptref("test", "--config", str(run / "config.yaml"), "--ckpt_path", str(run / "checkpoints" / "last.ckpt"))
    rows = list(csv.DictReader((test_dir / "metrics.csv").open()))
    test_acc = float(next(row["test_acc"] for row in rows if row.get("test_acc")))

    events = EventAccumulator(str(run))
    events.Reload()
    stamps = [event.wall_time for event in events.Scalars("val_acc")]
    per_epoch = (stamps[-1] - stamps[0]) / (len(stamps) - 1) if len(stamps) > 1 else float("nan")
    return {
        "experiment": experiment.name, "seed": config.get("seed_everything"), "epochs": len(stamps),
        "test_acc": test_acc, "s_per_epoch": per_epoch, "fit_s": fit_seconds, "run": str(run),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("experiments", nargs="+", type=Path)
    parser.add_argument("--root", type=Path, default=Path(tempfile.gettempdir()) / "ptref-measure")
    args, fit_args = parser.parse_known_args()
    fit_args = [arg for arg in fit_args if arg != "--"]
    threads = os.environ.get("OMP_NUM_THREADS", "default")
    print(f"measured on {cpu_name()}, torch threads: {threads}")
    print("| experiment | seed | epochs | test accuracy | bound | s/epoch | fit wall s |")
    print("|---|---|---|---|---|---|---|")
    failed = []
    for experiment in args.experiments:
        result = measure(experiment, args.root, fit_args)
        bound = ACCEPTANCE.get(experiment.stem)
        met = bound is not None and result["test_acc"] >= bound
        verdict = "—" if bound is None else f"≥ {100 * bound:.1f}%: {'met' if met else 'MISSED'}"
        if bound is not None and result["test_acc"] < bound:
            failed.append(experiment.stem)
        print(f"| `{result['experiment']}` | {result['seed']} | {result['epochs']} | {100 * result['test_acc']:.2f}% "
              f"| {verdict} | {result['s_per_epoch']:.1f} | {result['fit_s']:.0f} |", flush=True)
    if failed:
        print(f"below the acceptance bound: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
