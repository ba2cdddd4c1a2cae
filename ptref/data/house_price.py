"""The course's house-price data (chapter 房价预测模型) as a LightningDataModule.

TensorFlow course original (TF1)::

    df = pd.read_csv("data1.csv", names=["square", "bedrooms", "price"])
    df = df.apply(lambda column: (column - column.mean()) / column.std())   # pandas std: ddof=1
    X = np.concatenate((np.ones((len(df), 1)), df[["square", "bedrooms"]]), axis=1)
    sess.run(train_op, feed_dict={X_placeholder: X, y_placeholder: y})      # the whole set each step

Here the same: every column is z-scored with the *sample* standard deviation, the statistics are kept
(``stats``) so a model can turn predictions back into dollars, and one batch is the whole set by default.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import lightning.pytorch as pl
import torch
from lightning.pytorch.utilities import rank_zero_warn
from torch.utils.data import DataLoader, TensorDataset

from ptref.data.batches import batch_loader

COLUMN_NAMES = {2: ("area", "price"), 3: ("area", "bedrooms", "price")}

# The offline default: 100 houses drawn from price = 140·area + 5000·bedrooms + 50000 + N(0, 20000²) $,
# area ~ U(800, 4500) sq ft, bedrooms ~ {1..5}. Close to the course's Portland data, with known truth.
SYNTHETIC_COEFFICIENTS = {"area": 140.0, "bedrooms": 5000.0, "intercept": 50_000.0, "noise_std": 20_000.0}

# Separators of spreadsheet exports in locales with a decimal comma; no course number contains them.
FOREIGN_SEPARATORS = {";": "';'", "\t": "tab"}

FLOAT32_MAX = torch.finfo(torch.float32).max

# A value is suspect when |x - median| > OUTLIER_DISTANCE · 1.4826 · MAD. 1.4826 · MAD (median absolute
# deviation) estimates a normal column's standard deviation without being moved by the outlier itself; normal
# data go past 10 of them with probability ~1e-23, while the course's skewed prices reach 4.7 (the textbook
# 3.5 of Iglewicz & Hoaglin would flag them) and an extra zero typed into a course price or area reaches ~25-32.
OUTLIER_DISTANCE = 10.0
# Suspects are reported only when they set the z-scaling: with them the column's std is over twice the std of
# the other rows, i.e. z-scoring squeezes every other row into under half of its spread.
OUTLIER_STD_RATIO = 2.0


@dataclass
class ColumnStats:
    """Mean and sample standard deviation (ddof=1) of every column: features first, price last.

    The one place where z-scores and raw units meet: per column ``z = (x − mean) / std`` and back
    ``x = z·std + mean``. A line fitted on z-scores, ``z_y = Σ w_i·z_i + b``, is in raw units
    ``y = Σ a_i·x_i + c`` with ``a_i = w_i·std_y / std_i`` and ``c = mean_y + std_y·b − Σ a_i·mean_i``.
    """

    mean: torch.Tensor
    std: torch.Tensor

    def standardize_features(self, raw: torch.Tensor) -> torch.Tensor:
        """Raw feature rows ``[m, n]`` → their z-scores."""
        return (raw - self.mean[:-1]) / self.std[:-1]

    def raw(self, z: torch.Tensor) -> torch.Tensor:
        """z-scored rows of the first ``z.shape[1]`` columns (the features, or the whole table) → raw units."""
        width = z.shape[1]
        return z * self.std[:width] + self.mean[:width]

    def raw_price(self, z: torch.Tensor) -> torch.Tensor:
        """z-scored prices (the last column) → raw units."""
        return z * self.std[-1:] + self.mean[-1:]

    def raw_line(self, kernel: torch.Tensor, bias: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The line ``z_y = kernel·z + bias`` in raw units: ``(a [n], c [1])`` (the class docstring's formula)."""
        a = kernel * self.std[-1] / self.std[:-1]
        return a, self.mean[-1:] + self.std[-1] * bias - (a * self.mean[:-1]).sum()


def read_house_csv(path: str | Path) -> torch.Tensor:
    """Read a headerless course CSV (``area[, bedrooms], price``) into a float64 ``[rows, columns]`` tensor.

    Excel's export (a UTF-8 byte-order mark, CRLF line ends) reads like a plain file. Raises ``ValueError``
    naming the file and line for: an empty file, a file that is not UTF-8 text, ';' or tab separators, a
    non-numeric cell (a header line included), a value beyond float32's range (ptref trains in float32), a row
    whose column count differs from the first row's, or an unsupported column count. Warns (see
    :func:`warn_about_outliers`) about a value so far out that it alone sets a column's z-scaling.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such CSV file (expected columns area[, bedrooms], price; no header)")
    rows: list[list[float]] = []
    lines: list[int] = []
    # utf-8-sig drops the byte-order mark Excel puts first; newline="" leaves CRLF line ends to the csv module.
    with path.open(encoding="utf-8-sig", newline="") as handle:
        try:
            for line_number, cells in enumerate(csv.reader(handle), start=1):
                if not cells or all(not cell.strip() for cell in cells):
                    continue
                _check_separator(cells, path, line_number)
                if rows and len(cells) != len(rows[0]):
                    raise ValueError(
                        f"{path}, line {line_number}: {len(cells)} columns, but the rows before have {len(rows[0])}"
                    )
                rows.append([_number(cell, path, line_number, column) for column, cell in enumerate(cells, start=1)])
                lines.append(line_number)
        except UnicodeDecodeError as error:
            raise ValueError(
                f"{path}: not UTF-8 text (byte {error.start}: {error.reason}); save it as CSV (comma-separated)"
            ) from None
    if not rows:
        raise ValueError(f"{path}: the file has no data rows (expected columns area[, bedrooms], price)")
    if len(rows[0]) not in COLUMN_NAMES:
        raise ValueError(
            f"{path}, line {lines[0]}: {len(rows[0])} columns; the course format has 2 (area, price) "
            "or 3 (area, bedrooms, price)"
        )
    if len(rows) < 2:
        raise ValueError(f"{path}: only one data row; a standard deviation needs at least two")
    table = torch.tensor(rows, dtype=torch.float64)
    warn_about_outliers(table, lines, path)
    return table


def _check_separator(cells: list[str], path: Path, line_number: int) -> None:
    for separator, name in FOREIGN_SEPARATORS.items():
        # a cell it splits into several values; a stray trailing tab is only whitespace to float()
        if any(sum(bool(part.strip()) for part in cell.split(separator)) > 1 for cell in cells):
            raise ValueError(
                f"{path}, line {line_number}: uses {name} as separator; ptref expects commas "
                "(area[, bedrooms], price)"
            )


def _number(cell: str, path: Path, line_number: int, column: int) -> float:
    try:
        value = float(cell)
    except ValueError:
        hint = " (the course CSVs have no header line: remove it)" if line_number == 1 else ""
        raise ValueError(f"{path}, line {line_number}, column {column}: {cell!r} is not a number{hint}") from None
    if not math.isfinite(value):
        raise ValueError(f"{path}, line {line_number}, column {column}: {cell!r} is not a finite number")
    if abs(value) > FLOAT32_MAX:
        raise ValueError(
            f"{path}, line {line_number}, column {column}: {cell!r} is beyond float32's range "
            f"(±{FLOAT32_MAX:.4g}), the precision ptref trains in"
        )
    return value


def warn_about_outliers(table: torch.Tensor, lines: list[int], source: str | Path) -> None:
    """Warn, one line per column, about values far enough out to dominate that column's z-scaling.

    With ``d_i = |x_i - median(x)| / (1.4826 · MAD)`` (``MAD = median|x - median(x)|``; when over half the rows
    share one value, MAD is 0 and ``sqrt(pi/2) · mean|x - median(x)|`` takes its place), rows with
    ``d_i > OUTLIER_DISTANCE`` are suspects, reported when ``std(x) > OUTLIER_STD_RATIO · std(x without them)``.
    Training may go on: the z-scores stay finite, only squeezed. ``lines[i]`` is row ``i``'s line in ``source``.
    """
    for column, name in enumerate(COLUMN_NAMES[table.shape[1]]):
        x = table[:, column]
        median = torch.quantile(x, 0.5)
        deviation = (x - median).abs()
        scale = 1.4826 * torch.quantile(deviation, 0.5)
        if scale == 0:
            scale = math.sqrt(math.pi / 2) * deviation.mean()
        distance = deviation / scale
        suspect = distance > OUTLIER_DISTANCE
        if not suspect.any():
            continue
        ratio = (x.std() / x[~suspect].std()).item()
        if ratio <= OUTLIER_STD_RATIO:
            continue
        worst = int(distance.argmax())
        others = [str(lines[i]) for i in suspect.nonzero().view(-1).tolist() if i != worst]
        also = f" (also suspect: line(s) {', '.join(others[:10])}{', ...' * (len(others) > 10)})" if others else ""
        rank_zero_warn(
            f"{source}, line {lines[worst]}, column {column + 1} ({name}): {x[worst].item():g} lies "
            f"{distance[worst].item():.3g} robust standard deviations (1.4826 x median absolute deviation) from the "
            f"column's median {median.item():g}; it makes the column's std {ratio:.3g}x that of the other rows, so "
            f"z-scoring squeezes them together: check the value{also}"
        )


def synthetic_houses(n: int = 100, seed: int = 0, n_features: int = 2) -> torch.Tensor:
    """A house-price table like the course's, from :data:`SYNTHETIC_COEFFICIENTS` (``n_features`` 1 or 2)."""
    generator = torch.Generator().manual_seed(seed)
    area = torch.empty(n, dtype=torch.float64).uniform_(800, 4500, generator=generator).round()
    bedrooms = torch.randint(1, 6, (n,), generator=generator).double()
    noise = torch.randn(n, dtype=torch.float64, generator=generator) * SYNTHETIC_COEFFICIENTS["noise_std"]
    price = (
        SYNTHETIC_COEFFICIENTS["area"] * area
        + SYNTHETIC_COEFFICIENTS["bedrooms"] * bedrooms
        + SYNTHETIC_COEFFICIENTS["intercept"]
        + noise
    ).round()
    columns = [area, bedrooms, price] if n_features == 2 else [area, price]
    return torch.stack(columns, dim=1)


def standardize(table: torch.Tensor, names: tuple[str, ...], source: str) -> tuple[torch.Tensor, ColumnStats]:
    """``z = (x - mean) / std`` per column, std with ddof=1 (as pandas); refuse constant or non-finite columns."""
    mean = table.mean(dim=0)
    std = table.std(dim=0, correction=1)
    normalized = (table - mean) / std
    for column, name in enumerate(names):
        if std[column] == 0.0:
            raise ValueError(f"{source}: column '{name}' is constant; it cannot be standardized (std = 0)")
        finite = torch.isfinite(normalized[:, column].float())
        if not finite.all():
            row = int((~finite).nonzero()[0])
            raise ValueError(
                f"{source}: column '{name}' has no finite z-scores (data row {row + 1}: "
                f"mean {mean[column].item():g}, std {std[column].item():g}); its values are too large to train on"
            )
    return normalized, ColumnStats(mean=mean, std=std)


class HousePriceDataModule(pl.LightningDataModule):
    """House prices from the course CSV (or synthetic, offline), z-scored, full batch by default.

    Args:
        csv_path: headerless CSV ``area[, bedrooms], price``. ``None`` uses :func:`synthetic_houses`.
        n_synthetic_features: with no ``csv_path``, how many features the synthetic set has (1: area,
            2: + bedrooms). With one, the file's columns decide (``n_features``).
        batch_size: ``None`` = the whole training set per step (the course's full-batch gradient descent);
            ``1`` = single-sample SGD; anything else = mini-batch.
        val_fraction: share of rows held out for validation (taken at random with ``split_seed``).
        shuffle: shuffle training rows every epoch (irrelevant for full batch).
        split_seed: seed of the train/val split and of the synthetic data.
        predict_inputs: raw feature rows (e.g. ``[[2104, 3]]``: area, bedrooms) for ``ptref predict``.
    """

    def __init__(
        self,
        csv_path: str | None = None,
        n_synthetic_features: int = 2,
        batch_size: int | None = None,
        val_fraction: float = 0.0,
        shuffle: bool = False,
        split_seed: int = 0,
        predict_inputs: list[list[float]] | None = None,
    ) -> None:
        super().__init__()
        if n_synthetic_features not in (1, 2):
            raise ValueError(
                f"n_synthetic_features must be 1 (area) or 2 (area, bedrooms), got {n_synthetic_features}"
            )
        if batch_size is not None and batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer or null (full batch), got {batch_size}")
        if not 0.0 <= val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
        self.save_hyperparameters()
        self.source = csv_path or f"synthetic house prices ({n_synthetic_features} feature(s))"
        if csv_path:
            table = read_house_csv(csv_path)
        else:
            table = synthetic_houses(seed=split_seed, n_features=n_synthetic_features)
        self.column_names = COLUMN_NAMES[table.shape[1]]
        normalized, self.stats = standardize(table, self.column_names, self.source)
        # float32 from here on, as the course's tf.float32 placeholders (and MPS/XLA-friendly).
        self.features = normalized[:, :-1].float()
        self.targets = normalized[:, -1:].float()

    @property
    def n_features(self) -> int:
        """Number of input features (1 or 2)."""
        return self.features.shape[1]

    def setup(self, stage: str) -> None:
        n = len(self.features)
        n_val = round(n * self.hparams.val_fraction)
        order = torch.randperm(n, generator=torch.Generator().manual_seed(self.hparams.split_seed))
        train_rows = order[n_val:].sort().values if n_val else torch.arange(n)
        val_rows = order[:n_val].sort().values
        self.train_set = TensorDataset(self.features[train_rows], self.targets[train_rows])
        self.val_set = TensorDataset(self.features[val_rows], self.targets[val_rows])

    def _loader(self, dataset: TensorDataset, shuffle: bool) -> DataLoader:
        return batch_loader(dataset, batch_size=self.hparams.batch_size or max(len(dataset), 1), shuffle=shuffle)

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_set, shuffle=self.hparams.shuffle)

    def val_dataloader(self) -> DataLoader | list:
        return self._loader(self.val_set, shuffle=False) if len(self.val_set) else []

    def test_dataloader(self) -> DataLoader:
        return self.val_dataloader() if len(self.val_set) else self._loader(self.train_set, shuffle=False)

    def predict_dataloader(self) -> DataLoader:
        """Raw (un-normalized) feature rows; the model converts units itself."""
        if not self.hparams.predict_inputs:
            raise ValueError("nothing to predict: pass raw features, e.g. --data.predict_inputs '[[2104, 3]]'")
        raw = torch.tensor(self.hparams.predict_inputs, dtype=torch.float32)
        if raw.ndim != 2 or raw.shape[1] != self.n_features:
            raise ValueError(
                f"predict_inputs must be rows of {self.n_features} value(s) "
                f"({', '.join(self.column_names[:-1])}), got shape {tuple(raw.shape)}"
            )
        return DataLoader(TensorDataset(raw), batch_size=len(raw))
