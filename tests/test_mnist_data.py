"""ptref.data.MNISTDataModule: file layouts, splits, normalization, layouts and labels, missing data."""

from __future__ import annotations

import dataclasses
import gzip

import numpy as np
import pytest
import torch
from idx_writer import write_mnist_folder
from lightning.pytorch import Trainer

from ptref.data import MNISTDataModule
from ptref.data import mnist as mnist_module
from ptref.data.idx import find_idx_pair, read_images_and_labels
from ptref.data.mnist import DATASETS


def batch_of(datamodule: MNISTDataModule, loader) -> list[torch.Tensor]:
    """The first batch of ``loader`` as a model sees it (after ``on_after_batch_transfer``)."""
    datamodule.trainer = Trainer(logger=False, enable_progress_bar=False, enable_model_summary=False)
    return datamodule.on_after_batch_transfer(next(iter(loader)), 0)


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "raw"])
@pytest.mark.parametrize("layout", ["flat", "torchvision"])
def test_reads_a_flat_folder_or_torchvision_layout(tmp_path, gz, layout):
    folder = tmp_path if layout == "flat" else tmp_path / "MNIST" / "raw"
    written = write_mnist_folder(folder, {"train": 30, "t10k": 20}, gz=gz)
    datamodule = MNISTDataModule(data_dir=str(tmp_path))
    datamodule.setup("fit")
    for dataset, file_set in ((datamodule.train_set, "train"), (datamodule.test_set, "t10k")):
        images, labels = dataset[list(range(len(dataset)))]
        assert images.dtype == torch.uint8  # held as uint8, normalized per batch
        np.testing.assert_array_equal(images.numpy(), written[file_set][0])
        np.testing.assert_array_equal(labels.numpy(), written[file_set][1])


def test_fashion_mnist_reads_its_torchvision_folder(tmp_path):
    write_mnist_folder(tmp_path / "FashionMNIST" / "raw", {"train": 5, "t10k": 3})
    datamodule = MNISTDataModule(dataset="fashion_mnist", data_dir=str(tmp_path))
    datamodule.setup("test")
    assert len(datamodule.test_set) == 3
    assert datamodule.label_name(9) == "Ankle boot"


def test_missing_files_list_every_option(tmp_path):
    datamodule = MNISTDataModule(data_dir=str(tmp_path))
    with pytest.raises(FileNotFoundError) as error:
        datamodule.setup("fit")
    message = str(error.value)
    assert "train-images-idx3-ubyte[.gz]" in message and str(tmp_path / "MNIST" / "raw") in message
    assert "--data.download true" in message and "--data.data_dir" in message and "mnist-t10k" in message


def test_download_fetches_with_torchvision_into_its_layout(tmp_path, monkeypatch):
    calls = []

    class MNIST:  # stands in for torchvision.datasets.MNIST (no network in tests); same name, same folder
        def __init__(self, root, train, download):
            calls.append((root, train, download))
            write_mnist_folder(root / "MNIST" / "raw", {"train" if train else "t10k": 4}, gz=False)

    info = dataclasses.replace(mnist_module.DATASETS["mnist"], torchvision_class=MNIST)
    monkeypatch.setitem(mnist_module.DATASETS, "mnist", info)
    datamodule = MNISTDataModule(data_dir=str(tmp_path), download=True)
    datamodule.prepare_data()
    datamodule.prepare_data()  # files present now: no second download
    assert calls == [(tmp_path, True, True), (tmp_path, False, True)]
    datamodule.setup("fit")
    assert len(datamodule.train_set) == 4


def test_a_failed_download_says_why_and_lists_the_options(tmp_path, monkeypatch):
    class MNIST:
        def __init__(self, root, train, download):
            raise RuntimeError("Error downloading train-images-idx3-ubyte.gz: [Errno -3] name resolution failed")

    info = dataclasses.replace(mnist_module.DATASETS["mnist"], torchvision_class=MNIST)
    monkeypatch.setitem(mnist_module.DATASETS, "mnist", info)
    with pytest.raises(RuntimeError) as error:
        MNISTDataModule(data_dir=str(tmp_path), download=True).prepare_data()
    message = str(error.value)
    assert message.startswith("The download failed: Error downloading train-images")
    assert "Options: (1) --data.data_dir" in message and "--data.download true" not in message


def test_t10k_splits_into_first_8000_train_and_last_2000_test(mnist_t10k_dir):
    datamodule = MNISTDataModule(data_dir=str(mnist_t10k_dir), train_files="t10k", test_size=2000)
    datamodule.setup("fit")
    assert (len(datamodule.train_set), len(datamodule.test_set)) == (8000, 2000)
    assert datamodule.val_set is None  # validates on the test set, as the course's validation_data
    # the labels file read here with NumPy (8-byte header), independently of ptref's reader
    raw = np.frombuffer(gzip.decompress((mnist_t10k_dir / "t10k-labels-idx1-ubyte.gz").read_bytes())[8:], np.uint8)
    assert datamodule.test_set[list(range(2000))][1].tolist() == raw[8000:].tolist()
    assert datamodule.train_set[list(range(8000))][1].tolist() == raw[:8000].tolist()


def test_training_on_t10k_without_a_test_split_is_refused():
    with pytest.raises(ValueError, match="would test on the training data"):
        MNISTDataModule(train_files="t10k")


def test_validation_hold_out_is_seeded_disjoint_and_sized(tmp_path):
    write_mnist_folder(tmp_path, {"train": 100, "t10k": 10})

    def split(seed, val_size):
        datamodule = MNISTDataModule(data_dir=str(tmp_path), val_size=val_size, split_seed=seed)
        datamodule.setup("fit")
        return list(datamodule.train_set.indices), list(datamodule.val_set.indices)

    train, val = split(0, 0.2)
    assert len(train) == 80 and len(val) == 20 and not set(train) & set(val)
    assert split(0, 0.2) == (train, val)
    assert split(1, 0.2)[1] != val
    assert len(split(0, 30)[1]) == 30


def test_subset_caps_every_split(tmp_path):
    write_mnist_folder(tmp_path, {"train": 50, "t10k": 40})
    datamodule = MNISTDataModule(data_dir=str(tmp_path), val_size=0.5, subset=7)
    datamodule.setup("fit")
    assert len(datamodule.train_set) == len(datamodule.val_set) == len(datamodule.test_set) == 7


@pytest.mark.parametrize(
    ("normalization", "mean", "std"),
    [("unit", 0.0, 1.0), ("symmetric", 0.5, 0.5), ("standard", DATASETS["mnist"].mean, DATASETS["mnist"].std),
     ((0.2, 0.4), 0.2, 0.4)],
)
@pytest.mark.parametrize("layout", ["image", "flat"])
def test_batches_are_normalized_on_the_fly(tmp_path, normalization, mean, std, layout):
    written = write_mnist_folder(tmp_path, {"train": 6, "t10k": 6})
    datamodule = MNISTDataModule(data_dir=str(tmp_path), normalization=normalization, layout=layout)
    datamodule.setup("test")
    x, y = batch_of(datamodule, datamodule.test_dataloader())
    expected = (written["t10k"][0].astype(np.float32) / 255 - mean) / std
    expected = expected.reshape(6, 1, 28, 28) if layout == "image" else expected.reshape(6, 784)
    np.testing.assert_allclose(x.numpy(), expected, rtol=1e-6, atol=1e-6)  # float32 rounding of 2 ops
    assert y.tolist() == written["t10k"][1].tolist()


def test_one_hot_labels_are_keras_to_categorical(tmp_path):
    written = write_mnist_folder(tmp_path, {"train": 6, "t10k": 6})
    datamodule = MNISTDataModule(data_dir=str(tmp_path), labels="one_hot")
    datamodule.setup("test")
    _, y = batch_of(datamodule, datamodule.test_dataloader())
    assert y.dtype == torch.float32
    np.testing.assert_array_equal(y.numpy(), np.eye(10, dtype=np.float32)[written["t10k"][1]])


def test_mnists_standard_statistics_are_those_of_real_digits(mnist_t10k_dir):
    """The constants are the 60,000 training digits' (not shipped offline); the 10,000 t10k digits are another sample
    of the same handwriting, so their pixel mean and std agree to about a percent (measured: 1.4% and 0.8%)."""
    images, _ = read_images_and_labels(*find_idx_pair([mnist_t10k_dir], "t10k"))
    pixels = images.double() / 255
    assert pixels.mean().item() == pytest.approx(DATASETS["mnist"].mean, rel=0.03)
    assert pixels.std().item() == pytest.approx(DATASETS["mnist"].std, rel=0.03)
