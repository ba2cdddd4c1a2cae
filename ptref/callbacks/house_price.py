"""After a house-price fit: the course's final equation, the loss curve and the fitted line/plane as PNGs."""

from __future__ import annotations

from pathlib import Path

import lightning.pytorch as pl
import torch

from ptref.callbacks.run_folder import output_dir


class HousePriceReport(pl.Callback):
    """Prints ``y = w1·x1 + w2·x2 + b`` (and the same in dollars) and writes ``loss_curve.png``/``fit.png``.

    Also prints each prediction of ``ptref predict`` in dollars.
    """

    def __init__(self) -> None:
        self.losses: list[float] = []

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if "train_loss" in trainer.callback_metrics:
            self.losses.append(trainer.callback_metrics["train_loss"].item())

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        folder = output_dir(trainer)
        if not trainer.is_global_zero:
            return
        dollars = pl_module.dollar_coefficients()
        names = trainer.datamodule.column_names
        raw_terms = " + ".join(f"{dollars[f'a{i + 1}']:,.2f}·{name}" for i, name in enumerate(names[:-1]))
        print(f"\nlearned (normalized units): {pl_module.equation()}")
        print(f"learned (dollars):          price = {raw_terms} + {dollars['c']:,.2f}")
        if self.losses:
            print(f"final training loss: {self.losses[-1]:.6f} after {len(self.losses)} epochs")
        if folder is None:
            print("figures: not written (the run has no logger, hence no run folder)")
            return
        folder.mkdir(parents=True, exist_ok=True)
        self._plot(folder, trainer.datamodule, pl_module)
        print(f"figures: {folder / 'loss_curve.png'}, {folder / 'fit.png'}")

    def on_predict_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        names = trainer.datamodule.column_names[:-1]
        for row, price in zip(batch[0].tolist(), outputs.view(-1).tolist()):
            inputs = ", ".join(f"{name}={value:g}" for name, value in zip(names, row))
            print(f"{inputs} → price ${price:,.0f}")

    def _plot(self, folder: Path, datamodule: pl.LightningDataModule, model: pl.LightningModule) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        figure, axis = plt.subplots(figsize=(6, 4))
        axis.plot(range(1, len(self.losses) + 1), self.losses)
        axis.set(xlabel="epoch", ylabel="training loss", title="House price: loss per epoch", yscale="log")
        figure.tight_layout()
        figure.savefig(folder / "loss_curve.png", dpi=100)
        plt.close(figure)

        stats = datamodule.stats
        raw = torch.cat([datamodule.features, datamodule.targets], dim=1).double() * stats.std + stats.mean
        with torch.no_grad():
            fitted = model.predict_step((raw[:, :-1].float(),), 0).view(-1).double()
        names = datamodule.column_names
        if raw.shape[1] == 2:
            figure, axis = plt.subplots(figsize=(6, 4))
            order = raw[:, 0].argsort()
            axis.scatter(raw[:, 0], raw[:, 1], s=12, label="houses")
            axis.plot(raw[order, 0], fitted[order], color="C1", label="fitted line")
            axis.set(xlabel=names[0], ylabel="price ($)")
            axis.legend()
        else:
            figure = plt.figure(figsize=(7, 5))
            axis = figure.add_subplot(projection="3d")
            axis.scatter(raw[:, 0], raw[:, 1], raw[:, 2], s=12, label="houses")
            grid_a, grid_b = torch.meshgrid(
                torch.linspace(raw[:, 0].min(), raw[:, 0].max(), 10),
                torch.linspace(raw[:, 1].min(), raw[:, 1].max(), 10),
                indexing="ij",
            )
            with torch.no_grad():
                plane = model.predict_step((torch.stack([grid_a, grid_b], -1).view(-1, 2),), 0).view(10, 10)
            axis.plot_surface(grid_a.numpy(), grid_b.numpy(), plane.numpy(), alpha=0.3, color="C1")
            axis.set(xlabel=names[0], ylabel=names[1], zlabel="price ($)")
        axis.set_title("House price: data and fitted model")
        figure.tight_layout()
        figure.savefig(folder / "fit.png", dpi=100)
        plt.close(figure)
