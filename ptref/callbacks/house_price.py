"""After a house-price fit: the course's final equation, the loss curve and the fitted line/plane as PNGs."""

from __future__ import annotations

from pathlib import Path

import lightning.pytorch as pl
import torch

from ptref.callbacks.run_folder import output_dir
from ptref.figures import new_figure, save_figure


class HousePriceReport(pl.Callback):
    """Prints ``y = w1·x1 + w2·x2 + b`` (and the same in dollars) and writes ``loss_curve.png``/``fit.png``.

    The loss per epoch (epochs numbered from 1) is kept in the checkpoint, so the loss curve of a resumed run
    shows the whole run. Also prints each prediction of ``ptref predict`` in dollars.
    """

    def __init__(self) -> None:
        self.epochs: list[int] = []
        self.losses: list[float] = []

    def state_dict(self) -> dict[str, list]:
        return {"epochs": list(self.epochs), "losses": list(self.losses)}

    def load_state_dict(self, state_dict: dict[str, list]) -> None:
        self.epochs, self.losses = list(state_dict["epochs"]), list(state_dict["losses"])

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if "train_loss" in trainer.callback_metrics:
            self.epochs.append(trainer.current_epoch + 1)
            self.losses.append(trainer.callback_metrics["train_loss"].item())

    def on_fit_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        folder = output_dir(trainer)
        if not trainer.is_global_zero:
            return
        print(f"\nlearned (normalized units): {pl_module.equation()}")
        units = getattr(trainer.datamodule, "units", "dollars")  # a data module in other units names them
        raw_equation = pl_module.dollar_equation(trainer.datamodule.column_names)
        print(f"{f'learned ({units}):':<28}{raw_equation}")
        if not self.losses:
            print("figures: not written (no epoch was trained)")
            return
        print(f"final training loss: {self.losses[-1]:.6f} after {self.epochs[-1]} epochs")
        if folder is None:
            print("figures: not written (the run has no logger, hence no run folder)")
            return
        self._plot_loss(folder)
        self._plot_fit(folder, trainer.datamodule, pl_module)
        print(f"figures: {folder / 'loss_curve.png'}, {folder / 'fit.png'}")

    def on_predict_batch_end(
        self,
        trainer: pl.Trainer,
        pl_module: pl.LightningModule,
        outputs: torch.Tensor,
        batch: list[torch.Tensor],
        batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        names = trainer.datamodule.column_names[:-1]
        for row, price in zip(batch[0].tolist(), outputs.view(-1).tolist()):
            inputs = ", ".join(f"{name}={value:g}" for name, value in zip(names, row))
            print(f"{inputs} → price ${price:,.0f}")

    def _plot_loss(self, folder: Path) -> None:
        figure = new_figure(6, 4)
        axis = figure.subplots()
        axis.plot(self.epochs, self.losses, label="training loss")
        axis.set(xlabel="epoch", ylabel="training loss", title="House price: loss per epoch", yscale="log")
        # A loss curve is read for where it ends, which on a log axis often lies between two labelled ticks.
        axis.annotate(f"final: {self.losses[-1]:.4g}", xy=(self.epochs[-1], self.losses[-1]), xytext=(0, 8),
                      textcoords="offset points", ha="right")
        save_figure(figure, folder / "loss_curve.png")

    def _plot_fit(self, folder: Path, datamodule: pl.LightningDataModule, model: pl.LightningModule) -> None:
        from matplotlib.ticker import MaxNLocator, StrMethodFormatter

        raw = datamodule.stats.raw(torch.cat([datamodule.features, datamodule.targets], dim=1).double())
        with torch.no_grad():
            fitted = model.predict_step((raw[:, :-1].float(),), 0).view(-1).double()
        names = datamodule.column_names
        if raw.shape[1] == 2:
            figure = new_figure(6, 4)
            axis = figure.subplots()
            order = raw[:, 0].argsort()
            axis.scatter(raw[:, 0], raw[:, 1], s=12, label="houses")
            axis.plot(raw[order, 0], fitted[order], color="C1", label="fitted line")
            axis.set(xlabel=names[0], ylabel="price ($)" if names[-1] == "price" else names[-1])
            axis.legend()
            area, price = axis.xaxis, axis.yaxis
        else:
            figure = new_figure(7, 5)
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
            # A 3-D axis puts its label where the tick labels are unless pushed out.
            axis.set_xlabel(names[0], labelpad=10)
            axis.set_ylabel(names[1], labelpad=14)
            axis.set_zlabel("price ($)", labelpad=18)
            axis.yaxis.set_major_locator(MaxNLocator(integer=True))  # a count of rooms
            area, price = axis.xaxis, axis.zaxis
        for xyz_axis in (area, price):
            xyz_axis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        axis.set_title("House price: data and fitted model" if names[-1] == "price" else "Data and fitted model")
        save_figure(figure, folder / "fit.png")
