"""Arrays from a ``.npz`` file in the ``keras.datasets`` convention: ``x_train, y_train[, x_test, y_test]``.

TensorFlow original (Keras)::

    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    model.fit(x_train, y_train, batch_size=32, epochs=5, validation_split=0.1, shuffle=True)
    model.evaluate(x_test, y_test)

PyTorch twin: ``NpzDataModule(path="data.npz", batch_size=32, validation_split=0.1)``. Write such a file with
``numpy.savez("data.npz", x_train=..., y_train=..., x_test=..., y_test=...)``.
"""

from __future__ import annotations

import math
from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from ptref.data.batches import batch_loader

REQUIRED = ("x_train", "y_train")
TEST = ("x_test", "y_test")


def keras_validation_split(count: int, validation_split: float) -> int:
    """Where Keras's ``fit(validation_split=v)`` cuts ``count`` examples: ``floor(count * (1 - v))``; the examples
    from there on (the last ones, before any shuffling) are the validation set
    (``keras/src/trainers/data_adapters/array_slicing.py``, ``train_validation_split``)."""
    split_at = math.floor(count * (1.0 - validation_split))
    if validation_split and split_at in (0, count):
        raise ValueError(f"validation_split={validation_split} leaves no training or no validation example of {count}")
    return split_at


class NpzDataModule(pl.LightningDataModule):
    """``x_train, y_train`` (and ``x_test, y_test`` for ``ptref test``) of a ``.npz`` file, batched as Keras's ``fit``.

    Args:
        path: the ``.npz`` file.
        batch_size: examples per step (Keras's default 32).
        validation_split: the last fraction of the training arrays becomes the validation set, cut before
            shuffling, as Keras's ``fit(validation_split=...)``; 0: no validation.
        shuffle: reshuffle the training examples every epoch (Keras's default); the order comes from the run's
            seed (``seed_everything``), so a seeded run repeats it.
        channels_first: give images as ``[N, C, H, W]`` (``[N, C, D, H, W]``) where the file holds Keras's
            ``[N, H, W, C]`` (``[N, D, H, W, C]``): for a torch module that takes channels first, as a ported
            convolutional model does. Only for 4-D and 5-D ``x``.
        x_dtype: the dtype inputs are given in (Keras feeds its ``Input``'s dtype, float32 by default; token ids
            for an ``Embedding`` are integers: ``int64``). Targets keep their kind: integers become int64,
            floats float32.
    """

    def __init__(
        self,
        path: str,
        batch_size: int = 32,
        validation_split: float = 0.0,
        shuffle: bool = True,
        channels_first: bool = False,
        x_dtype: str = "float32",
    ) -> None:
        super().__init__()
        if batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
        if not 0.0 <= validation_split < 1.0:
            raise ValueError(f"validation_split must be in [0, 1), got {validation_split}")
        if not isinstance(getattr(torch, x_dtype, None), torch.dtype):
            raise ValueError(f"x_dtype {x_dtype!r} is not a torch dtype (e.g. 'float32', 'int64')")  # noqa: TRY004
        self.save_hyperparameters()
        self.train_set: TensorDataset | None = None
        self.val_set: TensorDataset | None = None
        self.test_set: TensorDataset | None = None

    def setup(self, stage: str) -> None:
        arrays = self._read()
        x, y = self._pair(arrays, "x_train", "y_train")
        split_at = keras_validation_split(len(x), self.hparams.validation_split)
        self.train_set = TensorDataset(x[:split_at], y[:split_at])
        self.val_set = TensorDataset(x[split_at:], y[split_at:]) if split_at < len(x) else None
        if all(key in arrays for key in TEST):
            self.test_set = TensorDataset(*self._pair(arrays, *TEST))
        elif any(key in arrays for key in TEST):
            missing = next(key for key in TEST if key not in arrays)
            raise ValueError(f"{self.hparams.path}: has {' '.join(k for k in TEST if k in arrays)} but no {missing}")

    def _read(self) -> dict[str, np.ndarray]:
        path = Path(self.hparams.path)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such .npz file")
        try:
            with np.load(path, allow_pickle=False) as archive:
                arrays = {key: archive[key] for key in archive.files}
        except (ValueError, OSError) as error:
            raise ValueError(f"{path}: not a readable .npz file of arrays ({error})") from None
        missing = [key for key in REQUIRED if key not in arrays]
        if missing:
            raise ValueError(f"{path}: no {', '.join(missing)} (keys: {', '.join(sorted(arrays)) or 'none'}); "
                             "a .npz for ptref holds x_train, y_train[, x_test, y_test]")
        return arrays

    def _pair(self, arrays: dict[str, np.ndarray], x_key: str, y_key: str) -> tuple[torch.Tensor, torch.Tensor]:
        path, x, y = self.hparams.path, arrays[x_key], arrays[y_key]
        if x.ndim == 0 or y.ndim == 0 or len(x) != len(y):
            raise ValueError(f"{path}: {x_key} has shape {x.shape} and {y_key} {y.shape}: they need the same "
                             "number of examples along the first axis")
        if len(x) == 0:
            raise ValueError(f"{path}: {x_key} holds no examples")
        for key, array in ((x_key, x), (y_key, y)):
            if not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
                raise ValueError(f"{path}: {key} holds {array.dtype}, not numbers")
        features = torch.from_numpy(np.ascontiguousarray(x)).to(getattr(torch, self.hparams.x_dtype))
        if self.hparams.channels_first:
            if features.ndim not in (4, 5):
                raise ValueError(f"{path}: channels_first needs images [N, H, W, C] (or [N, D, H, W, C]), "
                                 f"{x_key} has shape {tuple(x.shape)}")
            features = features.movedim(-1, 1).contiguous()
        targets = torch.from_numpy(np.ascontiguousarray(y))
        targets = targets.long() if not torch.is_floating_point(targets) else targets.float()
        return features, targets

    def train_dataloader(self) -> DataLoader:
        return batch_loader(self.train_set, self.hparams.batch_size, shuffle=self.hparams.shuffle)

    def val_dataloader(self) -> DataLoader | list:
        # an empty list tells Lightning there is no validation (Keras's fit without validation_split)
        return batch_loader(self.val_set, self.hparams.batch_size) if self.val_set is not None else []

    def test_dataloader(self) -> DataLoader:
        if self.test_set is None:
            raise ValueError(f"{self.hparams.path}: no x_test/y_test to test on")
        return batch_loader(self.test_set, self.hparams.batch_size)
