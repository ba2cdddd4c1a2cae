"""What the course shows around an MNIST classifier: figures and predictions.

Figures are PNG files in the run's folder (the logger's ``version_N``; a run without a logger writes none):

- ``label_distribution.png`` (fit start): examples per class in the training set;
- ``training_curves.png`` (fit end): the course's two panels, accuracy and loss per epoch, train and
  validation (Keras: ``plt.plot(history.history["accuracy"])`` ...);
- ``confusion_matrix.png`` and ``misclassified.png`` (test end): torchmetrics' confusion matrix on the
  test set, and the first misclassified images with their true and predicted labels.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.trainer.states import TrainerFn
from lightning.pytorch.utilities import rank_zero_info, rank_zero_only
from torchmetrics.classification import MulticlassConfusionMatrix

from ptref.callbacks.run_folder import output_dir
from ptref.figures import new_figure, save_figure

# What each curve of training_curves.png plots: quantity → the logged metric.
CURVES = {
    "train": {"acc": "train_acc_epoch", "loss": "train_loss_epoch"},
    "validation": {"acc": "val_acc", "loss": "val_loss"},
}
GRID = 5  # misclassified.png shows up to GRID × GRID images


def _label_rotation(labels: Sequence[str]) -> float:
    """Digits read best upright; longer class names (Fashion-MNIST's ``T-shirt/top``) need slanting."""
    return 45 if len(max(labels, key=len)) > 2 else 0


def _save(figure: Any, trainer: pl.Trainer, name: str) -> Path | None:
    """Write ``figure`` into the run's folder; a run without a logger has no folder, so nothing is written."""
    folder = output_dir(trainer)
    if folder is None:
        return None
    rank_zero_info(f"figure: {save_figure(figure, folder / name)}")
    return folder / name


class ClassifierFigures(pl.Callback):
    """Writes the label distribution, training curves, confusion matrix and misclassified digits as PNGs.

    The curves' values are kept per epoch, numbered from 1, in ``self.curves`` and in the checkpoint, so the
    figure of a resumed run shows the whole run.
    """

    def __init__(self) -> None:
        self.curves: dict[str, dict[str, list[float]]] = {
            split: {"epoch": [], **{quantity: [] for quantity in metrics}} for split, metrics in CURVES.items()
        }

    def state_dict(self) -> dict[str, dict[str, list[float]]]:
        return copy.deepcopy(self.curves)  # plain lists and numbers: loadable with weights_only=True

    def load_state_dict(self, state_dict: dict[str, dict[str, list[float]]]) -> None:
        self.curves = copy.deepcopy(state_dict)

    @rank_zero_only
    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        datamodule = trainer.datamodule
        counts = torch.bincount(datamodule.train_labels, minlength=len(datamodule.classes))
        figure = new_figure(7, 3.5)
        axis = figure.subplots()
        axis.bar(datamodule.classes, counts.tolist())
        axis.set(title=f"Training labels ({counts.sum():,} examples)", xlabel="class", ylabel="examples")
        axis.tick_params(axis="x", labelrotation=_label_rotation(datamodule.classes))
        _save(figure, trainer, "label_distribution.png")

    def _record(self, trainer: pl.Trainer, split: str) -> None:
        curve = self.curves[split]
        curve["epoch"].append(trainer.current_epoch + 1)
        for quantity, name in CURVES[split].items():
            value = trainer.callback_metrics.get(name)
            curve[quantity].append(float("nan") if value is None else value.item())

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        # Recorded when validation runs, not at every training epoch's end: with check_val_every_n_epoch > 1
        # the callback metrics would still hold an earlier epoch's validation values.
        if trainer.state.fn == TrainerFn.FITTING and not trainer.sanity_checking:
            self._record(trainer, "validation")

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._record(trainer, "train")

    @rank_zero_only
    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not self.curves["train"]["epoch"]:
            return  # no epoch trained (max_epochs 0): nothing to draw
        figure = new_figure(6, 7)
        axes = figure.subplots(2, 1, sharex=True)
        for axis, quantity in zip(axes, ("acc", "loss")):
            for split, curve in self.curves.items():
                if curve["epoch"]:
                    axis.plot(curve["epoch"], curve[quantity], marker="o", label=split)
            axis.set(title=f"Model {'accuracy' if quantity == 'acc' else 'loss'}", ylabel=quantity)
            axis.legend()
        axes[1].set_xlabel("epoch")
        axes[1].xaxis.get_major_locator().set_params(integer=True)
        _save(figure, trainer, "training_curves.png")

    def on_test_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.confusion = MulticlassConfusionMatrix(len(trainer.datamodule.classes)).to(pl_module.device)
        self.misclassified: list[tuple[torch.Tensor, int, int]] = []

    def on_test_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        prediction, target = outputs["prediction"], outputs["target"]
        self.confusion.update(prediction, target)
        wrong = (prediction != target).nonzero().flatten().tolist()
        for i in wrong[: GRID * GRID - len(self.misclassified)]:
            self.misclassified.append((batch[0][i].reshape(28, 28).cpu(), int(target[i]), int(prediction[i])))

    @rank_zero_only
    def on_test_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        classes = list(trainer.datamodule.classes)
        figure = new_figure(8, 8)
        axis = figure.subplots()
        self.confusion.plot(ax=axis, labels=classes)
        axis.tick_params(axis="x", labelrotation=_label_rotation(classes))
        axis.tick_params(axis="y", labelrotation=0)
        axis.set(title="Confusion matrix (test set)", xlabel="predicted", ylabel="true")
        _save(figure, trainer, "confusion_matrix.png")

        figure = new_figure(8, 9)
        axes = figure.subplots(GRID, GRID)
        for axis in axes.flat:
            axis.axis("off")
        for axis, (image, true, predicted) in zip(axes.flat, self.misclassified):
            axis.imshow(image, cmap="gray")
            axis.set_title(f"true {classes[true]}\npred {classes[predicted]}", fontsize=8)
        confusion = self.confusion.compute()
        wrong = int(confusion.sum() - confusion.trace())
        figure.suptitle(f"Misclassified test images: {len(self.misclassified)} of {wrong} shown")
        _save(figure, trainer, "misclassified.png")


class PredictionPrinter(pl.Callback):
    """Prints one line per file of ``ptref predict``: ``digit.png: digit 7 (probability 0.9981)``."""

    def on_predict_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        datamodule = trainer.datamodule
        for file_id, label, probability in zip(
            outputs["id"].tolist(), outputs["label"].tolist(), outputs["probability"].tolist()
        ):
            print(f"{datamodule.hparams.predict_files[file_id]}: {datamodule.label_name(label)} "
                  f"(probability {probability:.4f})")

