"""The captcha chapter's comparison: optimizers (RMSprop, Adam) x losses (binary CE, MSE, Poisson), and its figure.

Each of the six runs is ``ptref fit --config experiments/captcha.yaml`` with ``--optimizer`` and ``--model.loss``
swapped (Keras's defaults: ``optimizer="rmsprop"`` / ``"adam"``, both lr 1e-3), into
``runs/captcha_grid/<optimizer>_<loss>/``. The figure (``runs/captcha_grid/comparison.png``) is drawn from the runs'
``metrics.csv``: validation accuracy per epoch, one line per run, as the course's figure, with Keras's per-element
``binary_acc`` (the course's "accuracy") in the left panel, then per-character and whole-captcha accuracy, where the
0.9 floor of the left panel is seen for what it is. Its title states the runs' scale (epochs, training and test
set sizes, from each run's ``config.yaml``).

    PYTHONPATH=. python scripts/captcha_grid.py                  # 5 epochs per run
    PYTHONPATH=. python scripts/captcha_grid.py --epochs 100     # the course's 100 epochs
    PYTHONPATH=. python scripts/captcha_grid.py --plot-only      # redraw from the runs already there
    PYTHONPATH=. python scripts/captcha_grid.py --epochs 3 -- --data.n_train 1000 --data.n_test 300

Extra arguments after ``--`` go to every ``ptref fit``. ``--output`` also writes the figure elsewhere (the
README's copy: ``docs/figures/captcha_grid.png``).
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
    "val_char_acc": "per-character accuracy",
    "val_captcha_acc": "whole-captcha accuracy",
}
# Fixed scales, so that runs at chance look flat; each panel's chance level (10 digits) drawn dashed: 36 of 40
# elements for a model that reads nothing, 1 in 10 characters, 1 in 10^4 captchas.
LIMITS = {"val_binary_acc": (0.85, 1.0), "val_char_acc": (0.0, 1.0), "val_captcha_acc": (0.0, 1.0)}
CHANCE = {"val_binary_acc": 0.9, "val_char_acc": 0.1, "val_captcha_acc": 1e-4}


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


def scale(folder: Path) -> str:
    """A run's scale as its ``config.yaml`` records it: ``"3 epochs, 1000 / 300 captchas"``."""
    import yaml

    config = yaml.safe_load((folder / "config.yaml").read_text())
    data = config["data"]["init_args"]
    return f"{config['trainer']['max_epochs']} epochs, {data['n_train']} / {data['n_test']} captchas"


def fit(root: Path, optimizer: str, loss: str, epochs: int, extra: list[str]) -> None:
    subprocess.run([sys.executable, "-m", "ptref", "fit", "--config", "experiments/captcha.yaml",
                    "--optimizer", OPTIMIZERS[optimizer], "--model.loss", loss,
                    "--trainer.max_epochs", str(epochs), "--trainer.default_root_dir", str(root),
                    "--trainer.enable_progress_bar", "false", *extra], check=True)


def plot(runs: dict[str, Path], outputs: list[Path]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from ptref.figures import new_figure, save_figure

    figure = new_figure(15, 4.5)
    axes = figure.subplots(1, len(PANELS))
    for name, folder in runs.items():
        curves = epoch_curves(folder / "metrics.csv")
        for axis, metric in zip(axes, PANELS):
            axis.plot(range(1, len(curves[metric]) + 1), curves[metric], label=name)
    for axis, (metric, title) in zip(axes, PANELS.items()):
        axis.axhline(CHANCE[metric], color="grey", linestyle="--", linewidth=0.8)
        axis.set(title=title, xlabel="epoch", ylabel="validation accuracy", ylim=LIMITS[metric])
        axis.xaxis.get_major_locator().set_params(integer=True)
        axis.legend(fontsize=8)
    scales = sorted({scale(folder) for folder in runs.values()})
    figure.suptitle("captcha: RMSprop / Adam x binary CE / MSE / Poisson, validation accuracy per epoch\n"
                    f"{'; '.join(scales)} per run (the course: 100 epochs, 3956 / 954)")
    for output in outputs:
        save_figure(figure, output, dpi=72)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5, help="epochs per run (the course: 100)")
    parser.add_argument("--root", type=Path, default=Path("runs/captcha_grid"))
    parser.add_argument("--plot-only", action="store_true", help="draw the figure from the runs already there")
    parser.add_argument("--output", type=Path, help="another path for the figure (besides <root>/comparison.png)")
    args, extra = parser.parse_known_args()
    extra = [arg for arg in extra if arg != "--"]
    runs = {}
    for optimizer in OPTIMIZERS:
        for loss in LOSSES:
            root = args.root / f"{optimizer}_{loss}"
            if not args.plot_only:
                fit(root, optimizer, loss, args.epochs, extra)
            runs[f"{optimizer} + {loss}"] = run_folder(root)
    outputs = [args.root / "comparison.png", *([args.output] if args.output else [])]
    plot(runs, outputs)
    for name, folder in runs.items():
        final = {metric: values[-1] for metric, values in epoch_curves(folder / "metrics.csv").items() if values}
        print(f"{name}: " + ", ".join(f"{metric} {value:.4f}" for metric, value in final.items()))
    print(f"figure: {', '.join(map(str, outputs))}")


if __name__ == "__main__":
    main()
