"""NpzDataModule: the keras.datasets convention in a .npz, split and batched as Keras's fit does."""

from __future__ import annotations

import math
from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import pytest
import torch

from ptref.data.npz import NpzDataModule


def write(path: Path, **arrays: np.ndarray) -> str:
    np.savez(path, **arrays)
    return str(path)


@pytest.fixture
def images(tmp_path: Path) -> tuple[str, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (50, 6, 5, 3), dtype=np.uint8)  # NHWC, as keras.datasets gives images
    y = rng.integers(0, 10, 50).astype(np.uint8)
    return write(tmp_path / "d.npz", x_train=x, y_train=y, x_test=x[:7], y_test=y[:7]), x, y


def batches(loader) -> list[list[torch.Tensor]]:
    return list(loader)


def test_validation_split_is_the_last_fraction_unshuffled_as_keras(images) -> None:
    path, x, y = images
    data = NpzDataModule(path, batch_size=8, validation_split=0.3)
    data.setup("fit")
    cut = math.floor(len(x) * (1 - 0.3))  # Keras: split_at = floor(n * (1 - validation_split))
    val = batches(data.val_dataloader())
    val_x, val_y = torch.cat([b[0] for b in val]), torch.cat([b[1] for b in val])
    np.testing.assert_array_equal(val_x.numpy(), x[cut:].astype(np.float32))
    np.testing.assert_array_equal(val_y.numpy(), y[cut:])
    assert len(data.train_set) == cut


def test_without_validation_split_there_is_no_validation_loader(images) -> None:
    data = NpzDataModule(images[0])
    data.setup("fit")
    assert data.val_dataloader() == []


def test_unshuffled_batches_are_the_arrays_in_order(images) -> None:
    path, x, _ = images
    data = NpzDataModule(path, batch_size=16, shuffle=False)
    data.setup("fit")
    got = batches(data.train_dataloader())
    assert [len(b[0]) for b in got] == [16, 16, 16, 2]
    np.testing.assert_array_equal(torch.cat([b[0] for b in got]).numpy(), x.astype(np.float32))
    assert got[0][0].dtype == torch.float32 and got[0][1].dtype == torch.int64


def test_shuffled_order_repeats_with_the_seed_and_changes_without(images) -> None:
    path, _, y = images
    data = NpzDataModule(path, batch_size=50)
    data.setup("fit")

    def order(seed: int) -> np.ndarray:
        pl.seed_everything(seed, verbose=False)
        return next(iter(data.train_dataloader()))[1].numpy()

    first, again, other = order(1), order(1), order(2)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    np.testing.assert_array_equal(np.sort(first), np.sort(y))  # a permutation of the examples


def test_channels_first_moves_the_channel_axis(images) -> None:
    path, x, _ = images
    data = NpzDataModule(path, batch_size=50, shuffle=False, channels_first=True)
    data.setup("fit")
    features = next(iter(data.train_dataloader()))[0]
    np.testing.assert_array_equal(features.numpy(), np.transpose(x, (0, 3, 1, 2)).astype(np.float32))


def test_channels_first_refuses_arrays_that_are_not_images(tmp_path: Path) -> None:
    path = write(tmp_path / "flat.npz", x_train=np.zeros((4, 3)), y_train=np.zeros(4))
    data = NpzDataModule(path, channels_first=True)
    with pytest.raises(ValueError, match=r"channels_first needs images .* shape \(4, 3\)"):
        data.setup("fit")


def test_test_arrays_feed_the_test_loader(images) -> None:
    path, x, y = images
    data = NpzDataModule(path, batch_size=50)
    data.setup("test")
    features, targets = next(iter(data.test_dataloader()))
    np.testing.assert_array_equal(features.numpy(), x[:7].astype(np.float32))
    np.testing.assert_array_equal(targets.numpy(), y[:7])


def test_integer_inputs_for_an_embedding_keep_integers(tmp_path: Path) -> None:
    path = write(tmp_path / "tokens.npz", x_train=np.arange(12).reshape(4, 3), y_train=np.ones((4, 1), np.float64))
    data = NpzDataModule(path, x_dtype="int64", shuffle=False)
    data.setup("fit")
    features, targets = next(iter(data.train_dataloader()))
    assert features.dtype == torch.int64 and targets.dtype == torch.float32


@pytest.mark.parametrize(("arrays", "message"), [
    ({"x_train": np.zeros((3, 2))}, r"no y_train \(keys: x_train\)"),
    ({"x_train": np.zeros((3, 2)), "y_train": np.zeros(4)}, r"x_train has shape \(3, 2\) and y_train \(4,\)"),
    ({"x_train": np.zeros((3, 2)), "y_train": np.zeros(3), "x_test": np.zeros((1, 2))}, "has x_test but no y_test"),
    ({"x_train": np.zeros((3, 2)), "y_train": np.array(["a", "b", "c"])}, "y_train holds <U1, not numbers"),
])
def test_bad_files_get_a_message_naming_the_file_and_keys(tmp_path: Path, arrays: dict, message: str) -> None:
    path = write(tmp_path / "bad.npz", **arrays)
    with pytest.raises(ValueError, match=message) as error:
        NpzDataModule(path).setup("fit")
    assert str(error.value).startswith(path) and "\n" not in str(error.value)


def test_a_missing_file_and_a_split_that_leaves_nothing_are_refused(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such .npz file"):
        NpzDataModule(str(tmp_path / "none.npz")).setup("fit")
    path = write(tmp_path / "two.npz", x_train=np.zeros((2, 1)), y_train=np.zeros(2))
    with pytest.raises(ValueError, match="leaves no training or no validation example of 2"):
        NpzDataModule(path, validation_split=0.6).setup("fit")  # floor(2 * 0.4) = 0 training examples
