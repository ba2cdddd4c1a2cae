"""MNIST and Fashion-MNIST as a LightningDataModule, read from the IDX files (download only when asked).

TensorFlow course original (Keras)::

    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    x_train = x_train.reshape(60000, 784).astype("float32") / 255          # or (60000, 28, 28, 1) for the CNN
    y_train = keras.utils.to_categorical(y_train, 10)                     # one-hot
    model.fit(x_train, y_train, batch_size=128, epochs=5, validation_data=(x_test, y_test))

Here the images stay uint8 in memory (47 MB for the 60,000 training digits, a quarter of float32) and
are normalized on the fly, per batch, after the batch reaches the device
(:meth:`MNISTDataModule.on_after_batch_transfer`). ``layout`` gives the MLP's ``[B, 784]`` or the CNN's
``[B, 1, 28, 28]`` (channels first: PyTorch's NCHW where Keras has NHWC), ``labels`` gives class
indices or one-hot rows; ``F.cross_entropy`` accepts both.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import lightning.pytorch as pl
import torch
from torch.nn import functional as F
from torch.utils.data import DataLoader, Dataset, Subset, TensorDataset
from torchvision import datasets

from ptref.data.batches import batch_loader
from ptref.data.idx import expected_names, find_idx_pair, read_images_and_labels
from ptref.data.images import image_files_dataset, load_as_mnist


@dataclass(frozen=True)
class DatasetInfo:
    """What differs between MNIST and Fashion-MNIST: torchvision class, folder, class names, pixel stats."""

    torchvision_class: type[datasets.MNIST]
    classes: tuple[str, ...]
    label_noun: str  # how a prediction is printed: "digit 7" or "Sneaker"
    mean: float  # mean and std of the training pixels scaled to [0, 1] ("standard" normalization)
    std: float
    apt_hint: str


DATASETS = {
    "mnist": DatasetInfo(
        datasets.MNIST, tuple(str(d) for d in range(10)), "digit ", 0.1307, 0.3081,
        "the 10,000 t10k digits alone are in ../shared/datasets/mnist-t10k (use train_files: t10k, test_size: 2000)",
    ),
    "fashion_mnist": DatasetInfo(
        datasets.FashionMNIST, tuple(datasets.FashionMNIST.classes), "", 0.2860, 0.3530,
        "`apt-get install dataset-fashion-mnist` puts all four files in /usr/share/datasets/fashion-mnist",
    ),
}
NORMALIZATIONS = {"unit": (0.0, 1.0), "symmetric": (0.5, 0.5)}  # plus "standard": the dataset's own stats


class MNISTDataModule(pl.LightningDataModule):
    """MNIST or Fashion-MNIST from IDX files, uint8 in memory, normalized per batch.

    Args:
        dataset: ``"mnist"`` or ``"fashion_mnist"``.
        data_dir: a folder with the IDX files (``.gz`` or raw), either flat (``train-images-idx3-ubyte.gz``
            ... directly inside) or in torchvision's layout (``<data_dir>/MNIST/raw/``).
        download: fetch missing files with torchvision into ``<data_dir>/<MNIST|FashionMNIST>/raw``.
            Off by default: without the files you get an error listing the options.
        train_files: which file set trains: ``"train"`` (60,000) or ``"t10k"`` (10,000).
        test_size: ``None``: test on the t10k files. ``N``: test on the *last* N examples of the
            ``train_files`` set and train on the rest (``train_files: t10k, test_size: 2000`` trains on the
            first 8,000 real t10k digits and tests on the last 2,000, offline).
        val_size: ``None``: validate on the test set, as the course's ``validation_data=(x_test, y_test)``;
            ``0``: no validation; a fraction in (0, 1) or a count: hold out that many training examples,
            chosen at random with ``split_seed``.
        split_seed: seed of the validation hold-out.
        subset: keep only the first ``subset`` examples of each of train/val/test (quick runs).
        normalization: ``"unit"``: x/255 in [0, 1] (the course); ``"symmetric"``: (x/255 − 0.5)/0.5 in
            [−1, 1] (``Normalize((0.5,), (0.5,))``, the PyTorch seed); ``"standard"``: (x/255 − mean)/std
            with the dataset's training statistics; or an explicit ``[mean, std]``.
        layout: ``"image"``: ``[B, 1, 28, 28]`` (CNNs); ``"flat"``: ``[B, 784]`` (MLPs, softmax regression).
        labels: ``"index"``: class indices ``[B]``; ``"one_hot"``: float rows ``[B, 10]`` (Keras
            ``to_categorical`` + ``categorical_crossentropy``).
        batch_size: examples per batch (the course: 128).
        num_workers: DataLoader worker processes.
        predict_files: image files (PNG/JPEG, any size) for ``ptref predict``; see :mod:`ptref.data.images`.
    """

    def __init__(
        self,
        dataset: Literal["mnist", "fashion_mnist"] = "mnist",
        data_dir: str = "data",
        download: bool = False,
        train_files: Literal["train", "t10k"] = "train",
        test_size: int | None = None,
        val_size: float | int | None = None,
        split_seed: int = 0,
        subset: int | None = None,
        normalization: Literal["unit", "symmetric", "standard"] | tuple[float, float] = "unit",
        layout: Literal["image", "flat"] = "image",
        labels: Literal["index", "one_hot"] = "index",
        batch_size: int = 128,
        num_workers: int = 0,
        predict_files: list[str] | None = None,
    ) -> None:
        super().__init__()
        if dataset not in DATASETS:
            raise ValueError(f"dataset must be one of {sorted(DATASETS)}, got {dataset!r}")
        if train_files == "t10k" and test_size is None:
            raise ValueError("train_files: t10k with test_size: null would test on the training data; set test_size")
        if isinstance(normalization, str) and normalization not in (*NORMALIZATIONS, "standard"):
            raise ValueError(f"normalization must be unit, symmetric, standard or [mean, std], got {normalization!r}")
        self.save_hyperparameters()
        self.info = DATASETS[dataset]
        self.data_dir = Path(data_dir)
        if normalization == "standard":
            self.mean, self.std = self.info.mean, self.info.std
        else:
            self.mean, self.std = NORMALIZATIONS.get(normalization, normalization)  # type: ignore[arg-type]

    @property
    def classes(self) -> tuple[str, ...]:
        """Class names, index order."""
        return self.info.classes

    def label_name(self, index: int) -> str:
        """How a class is printed: ``"digit 7"`` (MNIST) or ``"Sneaker"`` (Fashion-MNIST)."""
        return self.info.label_noun + self.classes[index]

    @property
    def _folders(self) -> list[Path]:
        return [self.data_dir, self.data_dir / self.info.torchvision_class.__name__ / "raw"]

    def prepare_data(self) -> None:
        """Download the files with torchvision when ``download`` is on and they are not there yet."""
        if not self.hparams.download:
            return
        for file_set in self._file_sets():
            if find_idx_pair(self._folders, file_set) is None:
                try:
                    self.info.torchvision_class(self.data_dir, train=file_set == "train", download=True)
                except Exception as error:  # torchvision raises RuntimeError/URLError/OSError per mirror
                    raise RuntimeError(f"The download failed: {error}\n{self._missing(file_set)}") from error

    def _file_sets(self) -> list[str]:
        return [self.hparams.train_files] + (["t10k"] if self.hparams.test_size is None else [])

    def _missing(self, file_set: str) -> str:
        folders = " and ".join(f"{folder}/" for folder in self._folders)
        name = self.info.torchvision_class.__name__
        options = [
            f"--data.data_dir pointing at a folder that holds them (flat, or torchvision's {name}/raw/)",
            self.info.apt_hint,
        ]
        if not self.hparams.download:
            options.insert(0, f"--data.download true fetches them with torchvision into {self._folders[1]}/")
        listed = "; ".join(f"({i}) {option}" for i, option in enumerate(options, start=1))
        wanted = expected_names(file_set)
        return f"{name} '{file_set}' files not found: looked for {wanted} in {folders}.\nOptions: {listed}."

    def _read(self, file_set: str) -> TensorDataset:
        paths = find_idx_pair(self._folders, file_set)
        if paths is None:
            raise FileNotFoundError(self._missing(file_set))
        return TensorDataset(*read_images_and_labels(*paths))

    def setup(self, stage: str) -> None:
        if stage == "predict":
            return
        data = self._read(self.hparams.train_files)
        n = len(data)
        test_size = self.hparams.test_size
        if test_size is not None:
            if not 0 < test_size < n:
                raise ValueError(f"test_size must be between 1 and {n - 1} for {n:,} examples, got {test_size}")
            self.test_set: Dataset = Subset(data, range(n - test_size, n))
            data, n = Subset(data, range(n - test_size)), n - test_size
        else:
            self.test_set = self._read("t10k")
        self.train_set, self.val_set = self._hold_out(data, n)
        if self.hparams.subset is not None:
            self.train_set, self.test_set = self._first(self.train_set), self._first(self.test_set)
            self.val_set = self.val_set if self.val_set is None else self._first(self.val_set)

    def _first(self, dataset: Dataset) -> Dataset:
        return Subset(dataset, range(min(self.hparams.subset, len(dataset))))

    def _hold_out(self, data: Dataset, n: int) -> tuple[Dataset, Dataset | None]:
        val_size = self.hparams.val_size
        if val_size is None:
            return data, None
        n_val = round(val_size * n) if isinstance(val_size, float) and val_size < 1 else int(val_size)
        if not 0 <= n_val < n:
            raise ValueError(f"val_size {val_size} leaves no training examples out of {n:,}")
        if n_val == 0:
            return data, Subset(data, [])
        order = torch.randperm(n, generator=torch.Generator().manual_seed(self.hparams.split_seed)).tolist()
        return Subset(data, sorted(order[n_val:])), Subset(data, sorted(order[:n_val]))

    @property
    def train_labels(self) -> torch.Tensor:
        """Labels of the training set (after all splits), for the label-distribution chart."""
        return self.train_set[list(range(len(self.train_set)))][1]  # one fancy-index, not 60,000 lookups

    def _loader(self, dataset: Dataset, shuffle: bool = False) -> DataLoader:
        # Whole batches per read (one index into the uint8 tensors), as Keras slices its arrays.
        return batch_loader(dataset, self.hparams.batch_size, shuffle=shuffle, num_workers=self.hparams.num_workers)

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_set, shuffle=True)

    def val_dataloader(self) -> DataLoader | list:
        val_set = self.test_set if self.val_set is None else self.val_set
        return self._loader(val_set) if len(val_set) else []

    def test_dataloader(self) -> DataLoader:
        return self._loader(self.test_set)

    def predict_dataloader(self) -> DataLoader:
        """Batches of ``(image, file index)`` from ``predict_files``, each read by :func:`load_as_mnist`."""
        return self._loader(image_files_dataset(self.hparams.predict_files, self.load_image, "digit.png"))

    def load_image(self, path: str | Path) -> torch.Tensor:
        """One picture as ``predict`` (and ``ptref serve``) reads it: :func:`load_as_mnist`, uint8 ``[28, 28]``."""
        return load_as_mnist(path)

    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 ``[B, 28, 28]`` → float ``[B, 1, 28, 28]`` or ``[B, 784]``: ``(x/255 − mean) / std``."""
        x = images.float() / 255  # a new tensor whatever the input, so the in-place steps below never touch it
        # "unit" (mean 0, std 1) skips the two passes that would leave every value as it is: on a tiny model each
        # pass over the batch costs as much as the layer it feeds.
        if self.mean != 0:
            x.sub_(self.mean)
        if self.std != 1:
            x.div_(self.std)
        return x.unsqueeze(1) if self.hparams.layout == "image" else x.flatten(1)

    def on_after_batch_transfer(
        self, batch: list[torch.Tensor] | torch.Tensor, dataloader_idx: int
    ) -> list[torch.Tensor] | torch.Tensor:
        if isinstance(batch, torch.Tensor):  # the model summary's example_input_array, already a float image
            return batch
        images, targets = batch
        if self.hparams.labels == "one_hot" and not self.trainer.predicting:  # predict: targets = file indices
            targets = F.one_hot(targets, len(self.classes)).float()
        return [self.normalize(images), targets]
