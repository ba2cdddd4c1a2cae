"""Train, then test, MNIST experiments from the command line and print their figures as README table rows.

For each experiment: ``ptref fit --config <yaml>`` (its seed, its epochs), then ``ptref test`` with the
run's ``last.ckpt``; the test accuracy comes from the test run's ``metrics.csv``, the time per epoch from
the wall-clock stamps TensorBoard keeps on each epoch's ``val_acc`` (training + validation).

    PYTHONPATH=. python scripts/measure_mnist.py experiments/mnist_softmax_t10k.yaml experiments/mnist_cnn_t10k.yaml

Runs one experiment at a time; extra arguments after ``--`` go to ``ptref fit`` (e.g. ``-- --trainer.max_epochs 1``).
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def ptref(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "ptref", *args, "--trainer.enable_progress_bar", "false"], check=True)


def newest_version(root: Path) -> Path:
    return max(root.glob("version_*"), key=lambda path: int(path.name.split("_")[1]))


def measure(experiment: Path, root: Path, fit_args: list[str]) -> dict[str, float | str]:
    root = root / experiment.stem
    start = time.perf_counter()
    ptref("fit", "--config", str(experiment), "--trainer.default_root_dir", str(root), *fit_args)
    fit_seconds = time.perf_counter() - start
    run = newest_version(root)
    config = yaml.safe_load((run / "config.yaml").read_text())  # as run, flags included
    ptref("test", "--config", str(run / "config.yaml"), "--ckpt_path", str(run / "checkpoints" / "last.ckpt"))
    rows = list(csv.DictReader((newest_version(root) / "metrics.csv").open()))
    test_acc = float(next(row["test_acc"] for row in rows if row.get("test_acc")))

    events = EventAccumulator(str(run))
    events.Reload()
    stamps = [event.wall_time for event in events.Scalars("val_acc")]
    per_epoch = (stamps[-1] - stamps[0]) / (len(stamps) - 1) if len(stamps) > 1 else float("nan")
    return {
        "experiment": experiment.name, "seed": config.get("seed_everything"), "epochs": len(stamps),
        "test_acc": test_acc, "s_per_epoch": per_epoch, "fit_s": fit_seconds, "run": str(run),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("experiments", nargs="+", type=Path)
    parser.add_argument("--root", type=Path, default=Path(tempfile.gettempdir()) / "ptref-measure")
    args, fit_args = parser.parse_known_args()
    fit_args = [arg for arg in fit_args if arg != "--"]
    threads = os.environ.get("OMP_NUM_THREADS", "default")
    print("| experiment | seed | epochs | test accuracy | s/epoch | fit wall s | threads |")
    print("|---|---|---|---|---|---|---|")
    for experiment in args.experiments:
        result = measure(experiment, args.root, fit_args)
        print(f"| `{result['experiment']}` | {result['seed']} | {result['epochs']} | {100 * result['test_acc']:.2f}% "
              f"| {result['s_per_epoch']:.1f} | {result['fit_s']:.0f} | {threads} |", flush=True)


if __name__ == "__main__":
    main()
