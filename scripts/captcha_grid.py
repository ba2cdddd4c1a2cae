"""The captcha chapter's comparison: optimizers (RMSprop, Adam) x losses (binary CE, MSE, Poisson), and its figure.

Each of the six runs is ``ptref fit --config experiments/captcha.yaml`` with ``--optimizer`` and ``--model.loss``
swapped (Keras's defaults: ``optimizer="rmsprop"`` / ``"adam"``, both lr 1e-3), into
``runs/captcha_grid/<optimizer>_<loss>/``. The figure (``runs/captcha_grid/comparison.png``) is drawn from the runs'
``metrics.csv``: validation accuracy per epoch, one line per run, as the course's figure, with Keras's per-element
``binary_acc`` (the course's "accuracy") in the left panel and whole-captcha accuracy in the right one, where the 0.9
floor of the left panel is seen for what it is.

    PYTHONPATH=. python scripts/captcha_grid.py                  # 5 epochs per run
    PYTHONPATH=. python scripts/captcha_grid.py --epochs 100     # the course's 100 epochs
    PYTHONPATH=. python scripts/captcha_grid.py --plot-only      # redraw from the runs already there

Extra arguments after ``--`` go to every ``ptref fit`` (e.g. ``-- --data.n_train 500``).
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
from pathlib import Path

OPTIMIZERS = {"rmsprop": "ptref.optim.RMSprop", "adam": "ptref.optim.Adam"}
LOSSES = ("binary_crossentropy", "mean_squared_error", "poisson")
PANELS = {
    "val_binary_acc": "Keras accuracy (per element of the 40-vector)",
    "val_captcha_acc": "whole-captcha accuracy",
}


def run_folder(root: Path) -> Path:
    """The newest ``version_N`` under ``root``."""
    versions = sorted(root.glob("version_*"), key=lambda path: int(path.name.split("_")[1]))
    if not versions:
        raise FileNotFoundError(f"{root}: no run yet (run the grid without --plot-only first)")
    return versions[-1]


def epoch_curves(metrics_csv: Path) -> dict[str, list[float]]:
    """Per-epoch values of each validation metric in a run's ``metrics.csv`` (rows without it skipped)."""
    curves: dict[str, list[float]] = {name: [] for name in PANELS}
    with metrics_csv.open() as file:
        for row in csv.DictReader(file):
            for name in PANELS:
                if row.get(name):
                    curves[name].append(float(row[name]))
    return curves


def fit(root: Path, optimizer: str, loss: str, epochs: int, extra: list[str]) -> None:
    subprocess.run([sys.executable, "-m", "ptref", "fit", "--config", "experiments/captcha.yaml",
                    "--optimizer", OPTIMIZERS[optimizer], "--model.loss", loss,
                    "--trainer.max_epochs", str(epochs), "--trainer.default_root_dir", str(root),
                    "--trainer.enable_progress_bar", "false", *extra], check=True)


def plot(runs: dict[str, Path], output: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(PANELS), figsize=(12, 4.5))
    for name, folder in runs.items():
        curves = epoch_curves(folder / "metrics.csv")
        for axis, metric in zip(axes, PANELS):
            axis.plot(range(1, len(curves[metric]) + 1), curves[metric], label=name)
    for axis, title in zip(axes, PANELS.values()):
        axis.set(title=title, xlabel="epoch", ylabel="validation accuracy")
        axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(output, dpi=100)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5, help="epochs per run (the course: 100)")
    parser.add_argument("--root", type=Path, default=Path("runs/captcha_grid"))
    parser.add_argument("--plot-only", action="store_true", help="draw the figure from the runs already there")
    args, extra = parser.parse_known_args()
    extra = [arg for arg in extra if arg != "--"]
    runs = {}
    for optimizer in OPTIMIZERS:
        for loss in LOSSES:
            root = args.root / f"{optimizer}_{loss}"
            if not args.plot_only:
                fit(root, optimizer, loss, args.epochs, extra)
            runs[f"{optimizer} + {loss}"] = run_folder(root)
    output = args.root / "comparison.png"
    plot(runs, output)
    for name, folder in runs.items():
        final = {metric: values[-1] for metric, values in epoch_curves(folder / "metrics.csv").items() if values}
        print(f"{name}: " + ", ".join(f"{metric} {value:.4f}" for metric, value in final.items()))
    print(f"figure: {output}")


if __name__ == "__main__":
    main()
