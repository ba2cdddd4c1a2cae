"""Points on a line, y = slope·x + intercept (+ noise), for the book's first Keras model.

TensorFlow book original (Keras)::

    model = Sequential([Dense(1, input_shape=(1,))])
    model.compile(optimizer="sgd", loss="mse")       # SGD(learning_rate=0.01), no momentum
    model.fit(x, y, epochs=100)                       # batch_size 32, shuffled every epoch

Trained with :class:`ptref.models.LinearRegression` (``n_features: 1, bias_column: false``). The data are not
scaled: the identity statistics make the model's learned weight the slope itself.
"""

from __future__ import annotations

import lightning.pytorch as pl
import torch
from torch.utils.data import DataLoader, TensorDataset

from ptref.data.batches import batch_loader
from ptref.data.house_price import ColumnStats


class LineDataModule(pl.LightningDataModule):
    """``n`` points with x ~ U(low, high) and y = slope·x + intercept + N(0, noise_std²), drawn with ``seed``.

    Trains on all of them (shuffled, as Keras's ``fit``) and tests on the same points; no validation set.

    Args:
        n: number of points.
        slope, intercept: the line (the book: y = 2x).
        low, high: range of x.
        noise_std: standard deviation of the noise added to y (0: exactly on the line).
        batch_size: points per step (Keras's default 32); ``None``: all of them.
        seed: seed of the points (the batch order follows the run's ``seed_everything``).
        predict_inputs: x values for ``ptref predict``, e.g. ``[[3.0]]``.
    """

    column_names = ("x", "y")
    units = "raw units"  # what the fit report calls the unscaled equation

    def __init__(
        self,
        n: int = 1000,
        slope: float = 2.0,
        intercept: float = 0.0,
        low: float = -1.0,
        high: float = 1.0,
        noise_std: float = 0.0,
        batch_size: int | None = 32,
        seed: int = 0,
        predict_inputs: list[list[float]] | None = None,
    ) -> None:
        super().__init__()
        if n < 2:
            raise ValueError(f"n must be at least 2 points, got {n}")
        if not low < high:
            raise ValueError(f"low must be below high, got low={low}, high={high}")
        if batch_size is not None and batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer or null (all points), got {batch_size}")
        self.save_hyperparameters()
        self.source = f"{n} points of y = {slope:g}·x + {intercept:g}"
        generator = torch.Generator().manual_seed(seed)
        x = torch.empty(n, 1).uniform_(low, high, generator=generator)
        noise = torch.randn(n, 1, generator=generator) * noise_std
        self.features, self.targets = x, slope * x + intercept + noise
        # identity statistics: LinearRegression then trains and reports in the data's own units
        self.stats = ColumnStats(mean=torch.zeros(2, dtype=torch.float64), std=torch.ones(2, dtype=torch.float64))

    @property
    def n_features(self) -> int:
        """One input: x."""
        return 1

    def setup(self, stage: str) -> None:
        self.train_set = TensorDataset(self.features, self.targets)

    def train_dataloader(self) -> DataLoader:
        return batch_loader(self.train_set, self.hparams.batch_size or self.hparams.n, shuffle=True)

    def test_dataloader(self) -> DataLoader:
        return batch_loader(self.train_set, self.hparams.batch_size or self.hparams.n)

    def predict_dataloader(self) -> DataLoader:
        """Raw x values as rows of one."""
        if not self.hparams.predict_inputs:
            raise ValueError("nothing to predict: pass x values, e.g. --data.predict_inputs '[[3.0]]'")
        return DataLoader(TensorDataset(torch.tensor(self.hparams.predict_inputs, dtype=torch.float32)))
