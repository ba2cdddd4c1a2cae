"""The figures show what happened: the numbers plotted are the ones logged, every epoch, at its true number.

Each test captures the matplotlib figures as the callbacks save them and reads the plotted data back from
their artists, against ``metrics.csv`` of the same run.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
from lightning.pytorch import Trainer, seed_everything
from lightning.pytorch.callbacks import ModelCheckpoint, TQDMProgressBar
from lightning.pytorch.loggers import CSVLogger
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from helpers import QUIET, experiment
from ptref.callbacks.classifier import ClassifierFigures
from ptref.callbacks.house_price import HousePriceReport
from ptref.cli import main
from ptref.data import HousePriceDataModule, MNISTDataModule
from ptref.models import LinearRegression, SoftmaxRegression

THOUSANDS = re.compile(r"[-−]?\d{1,3}(,\d{3})*")  # 250,000 and 1,500 (matplotlib may write a unicode minus)


def same(values: list[float]) -> pytest.approx:
    """The same float32 values: plotted from ``.item()``, written to metrics.csv from ``.item()`` as text."""
    return pytest.approx(values, rel=1e-7, abs=1e-12)  # only the CSV's decimal round trip may differ


@contextmanager
def capturing_figures() -> Iterator[dict[Path, Figure]]:
    """Every figure saved inside the block, by the path it was saved to."""
    saved: dict[Path, Figure] = {}
    savefig = Figure.savefig

    def recording_savefig(figure: Figure, fname, *args, **kwargs):
        saved[Path(fname)] = figure
        return savefig(figure, fname, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Figure, "savefig", recording_savefig)
        yield saved


def plotted(axis: Axes, label: str) -> tuple[list[float], list[float]]:
    """x and y of the line called ``label`` (its legend entry)."""
    labels = [line.get_label() for line in axis.get_lines()]
    assert label in labels, f"no line {label!r} in {labels}"
    x, y = axis.get_lines()[labels.index(label)].get_data()
    return [float(value) for value in x], [float(value) for value in y]


def logged(run: Path, key: str) -> tuple[list[int], list[float]]:
    """Epoch numbers (from 1) and values of the rows of ``run/metrics.csv`` that hold ``key``."""
    with (run / "metrics.csv").open() as handle:
        rows = [row for row in csv.DictReader(handle) if row.get(key)]
    return [int(row["epoch"]) + 1 for row in rows], [float(row[key]) for row in rows]


def logged_over(runs: list[Path], key: str) -> tuple[list[int], list[float]]:
    """:func:`logged` over a run and its resumed continuations, in order."""
    epochs, values = [], []
    for run in runs:
        run_epochs, run_values = logged(run, key)
        epochs += run_epochs
        values += run_values
    return epochs, values


# --- MNIST: training_curves.png, the progress bar, confusion_matrix.png ---------------------------------------


class BarRecorder(TQDMProgressBar):
    """Lightning's progress bar, keeping the ``train_loss_epoch`` it shows when each epoch ends."""

    def __init__(self) -> None:
        super().__init__()
        self.shown: list[float] = []

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        super().on_train_epoch_end(trainer, pl_module)
        self.shown.append(float(self.get_metrics(trainer, pl_module).get("train_loss_epoch", math.nan)))


def fit_mnist(root: Path, mnist_dir: Path, max_epochs: int, version: int, ckpt_path: Path | None = None,
              bar: BarRecorder | None = None) -> Trainer:
    """Softmax regression on 200 digits (4 batches), validated on 200 others, logged to ``root/version_N``."""
    seed_everything(0)
    datamodule = MNISTDataModule(data_dir=str(mnist_dir), train_files="t10k", test_size=2000, subset=200,
                                 layout="flat", labels="one_hot", batch_size=64)
    trainer = Trainer(
        max_epochs=max_epochs, default_root_dir=root, logger=CSVLogger(root, name="", version=version),
        callbacks=[ModelCheckpoint(save_last=True), ClassifierFigures(), *([bar] if bar else [])], log_every_n_steps=3,
        enable_progress_bar=bar is not None, enable_model_summary=False,
    )
    trainer.fit(SoftmaxRegression(learning_rate=0.01), datamodule=datamodule, ckpt_path=ckpt_path,
                weights_only=True)
    return trainer


@pytest.fixture(scope="module")
def mnist_run(tmp_path_factory, mnist_t10k_dir) -> tuple[Path, dict[Path, Figure], BarRecorder]:
    """Three epochs; returns the run folder, its saved figures, and what the progress bar showed."""
    root = tmp_path_factory.mktemp("mnist")
    bar = BarRecorder()
    with capturing_figures() as figures:
        fit_mnist(root, mnist_t10k_dir, max_epochs=3, version=0, bar=bar)
    return root / "version_0", figures, bar


CURVES = [("train", "train_{}_epoch"), ("validation", "val_{}")]


def assert_curves_match_the_logs(figure: Figure, runs: list[Path], epochs: list[int]) -> None:
    accuracy, loss = figure.axes
    for axis, quantity in ((accuracy, "acc"), (loss, "loss")):
        for label, key in CURVES:
            logged_epochs, logged_values = logged_over(runs, key.format(quantity))
            assert logged_epochs == epochs
            x, y = plotted(axis, label)
            assert x == epochs, (quantity, label)
            assert y == same(logged_values), (quantity, label)


def test_training_curves_plot_each_epochs_own_train_and_validation_values(mnist_run):
    run, figures, _ = mnist_run
    assert_curves_match_the_logs(figures[run / "training_curves.png"], [run], [1, 2, 3])


def test_a_one_epoch_run_has_its_training_point(tmp_path, mnist_t10k_dir):
    with capturing_figures() as figures:
        fit_mnist(tmp_path, mnist_t10k_dir, max_epochs=1, version=0)
    assert_curves_match_the_logs(figures[tmp_path / "version_0" / "training_curves.png"], [tmp_path / "version_0"], [1])


def test_progress_bar_ends_each_epoch_on_that_epochs_train_loss(mnist_run):
    run, _, bar = mnist_run
    assert bar.shown == same(logged(run, "train_loss_epoch")[1])


def test_resumed_run_plots_the_whole_run_with_true_epoch_numbers(tmp_path, mnist_t10k_dir):
    runs = [tmp_path / "version_0", tmp_path / "version_1"]
    with capturing_figures() as figures:
        fit_mnist(tmp_path, mnist_t10k_dir, max_epochs=2, version=0)
        # weights_only=True: the figures' history in the checkpoint is plain data
        fit_mnist(tmp_path, mnist_t10k_dir, max_epochs=4, version=1, ckpt_path=runs[0] / "checkpoints" / "last.ckpt")
    assert_curves_match_the_logs(figures[runs[1] / "training_curves.png"], runs, [1, 2, 3, 4])


def test_confusion_matrix_digit_labels_are_horizontal(tmp_path, mnist_t10k_dir):
    trainer = fit_mnist(tmp_path, mnist_t10k_dir, max_epochs=1, version=0)
    with capturing_figures() as figures:
        trainer.test(trainer.lightning_module, datamodule=trainer.datamodule, verbose=False)
    axis = figures[tmp_path / "version_0" / "confusion_matrix.png"].axes[0]
    labels = axis.get_xticklabels() + axis.get_yticklabels()
    assert sorted(label.get_text() for label in axis.get_xticklabels()) == [str(digit) for digit in range(10)]
    assert [label.get_rotation() for label in labels] == [0.0] * 20


# --- house price: loss_curve.png, fit.png, the printed equations ----------------------------------------------


def fit_house(root: Path, csv_path: Path, *extra: str, config: str = "house_price.yaml") -> None:
    assert main(["fit", "--config", experiment(config), "--trainer.default_root_dir", str(root),
                 "--data.csv_path", str(csv_path), *QUIET, *extra]) is None


def test_resumed_house_price_loss_curve_covers_the_whole_run(tmp_path, house_price_csv, capsys):
    runs = [tmp_path / "version_0", tmp_path / "version_1"]
    with capturing_figures() as figures:
        fit_house(tmp_path, house_price_csv, "--trainer.max_epochs", "20")
        fit_house(tmp_path, house_price_csv, "--trainer.max_epochs", "40",
                  "--ckpt_path", str(runs[0] / "checkpoints" / "last.ckpt"))
    epochs, losses = logged_over(runs, "train_loss")
    assert epochs == list(range(1, 41))
    x, y = plotted(figures[runs[1] / "loss_curve.png"].axes[0], "training loss")
    assert x == epochs
    assert y == same(losses)
    assert capsys.readouterr().out.count("after 40 epochs") == 1


def test_loss_curve_shows_the_final_loss_as_a_number(tmp_path, house_price_csv):
    with capturing_figures() as figures:
        fit_house(tmp_path, house_price_csv, "--trainer.max_epochs", "50")
    axis = figures[tmp_path / "version_0" / "loss_curve.png"].axes[0]
    final = plotted(axis, "training loss")[1][-1]
    numbers = [float(number) for text in axis.texts for number in re.findall(r"\d+\.\d+", text.get_text())]
    assert final == pytest.approx(logged(tmp_path / "version_0", "train_loss")[1][-1], rel=1e-7, abs=1e-12)
    assert any(number == pytest.approx(final, rel=5e-4, abs=1e-12) for number in numbers), numbers  # 4 digits


FIT_PLOTS = {"plane": ("house_price.yaml", "data1.csv"), "line": ("house_price_1d.yaml", "data0.csv")}


@pytest.mark.parametrize(("config", "csv_name"), FIT_PLOTS.values(), ids=FIT_PLOTS.keys())
def test_fit_plot_has_separated_prices_whole_bedrooms_and_labels_clear_of_ticks(tmp_path, house_price_csv, config,
                                                                                   csv_name):
    with capturing_figures() as figures:
        fit_house(tmp_path, house_price_csv.parent / csv_name, "--trainer.max_epochs", "20", config=config)
    figure = figures[tmp_path / "version_0" / "fit.png"]
    axis = figure.axes[0]
    axes = {"area": axis.xaxis, "price": axis.zaxis if hasattr(axis, "zaxis") else axis.yaxis}
    if hasattr(axis, "zaxis"):
        axes["bedrooms"] = axis.yaxis
    canvas = FigureCanvasAgg(figure)  # drawn once more, to measure where its texts landed
    canvas.draw()
    renderer = canvas.get_renderer()
    for name, xyz_axis in axes.items():
        label_box = xyz_axis.label.get_window_extent(renderer)
        # The tick labels as drawn (get_ticklabels() would place them anew, in 2-D, for a 3-D axis);
        # ticks outside the view are not drawn and keep no position on the figure.
        drawn = [tick.label1 for tick in xyz_axis.majorTicks if tick.label1.get_visible() and tick.label1.get_text()]
        boxes = {label.get_text(): label.get_window_extent(renderer) for label in drawn}
        boxes = {text: box for text, box in boxes.items() if figure.bbox.overlaps(box)}
        assert boxes, name
        assert [text for text, box in boxes.items() if label_box.overlaps(box)] == [], name
    for name in ("area", "price"):
        texts = [label.get_text() for label in axes[name].get_ticklabels() if label.get_text()]
        assert texts and all(THOUSANDS.fullmatch(text) for text in texts), (name, texts)
    if "bedrooms" in axes:
        low, high = sorted(axis.get_ylim())
        assert all(float(tick).is_integer() for tick in axis.get_yticks() if low <= tick <= high)


def test_a_fit_without_epochs_writes_no_empty_plots(tmp_path, house_price_csv, mnist_t10k_dir):
    with capturing_figures() as figures:
        # The CLI refuses max_epochs 0; a Trainer built in Python takes it, and the report must draw nothing.
        Trainer(max_epochs=0, logger=CSVLogger(tmp_path / "house", name="", version=0), enable_progress_bar=False,
                enable_model_summary=False, callbacks=[HousePriceReport()]).fit(
            LinearRegression(n_features=2), datamodule=HousePriceDataModule(csv_path=str(house_price_csv)))
        fit_mnist(tmp_path / "mnist", mnist_t10k_dir, max_epochs=0, version=0)
    assert sorted(path.name for path in figures) == ["label_distribution.png"]  # the data, drawn before training


def test_equations_write_negative_coefficients_with_a_minus_sign(capsys):
    model = LinearRegression(n_features=2)
    with torch.no_grad():
        # b (negative, but zero to the digits printed), w1, w2; unit statistics, so dollars = weights
        model.W.copy_(torch.tensor([[-1e-9], [0.8304], [-0.057]]))
    stub = SimpleNamespace(loggers=[], is_global_zero=True, datamodule=SimpleNamespace(
        column_names=("area", "bedrooms", "price")))
    HousePriceReport().on_fit_end(stub, model)
    printed = capsys.readouterr().out
    assert "y = 0.8304·x1 - 0.0570·x2 + 0.0000" in printed
    assert "price = 0.83·area - 0.06·bedrooms + 0.00" in printed
