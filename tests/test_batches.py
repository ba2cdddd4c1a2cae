"""Whole-batch reads give exactly the batches a per-example DataLoader gives, in the same seeded order."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader, Subset, TensorDataset

from ptref.data.batches import BatchReads, batch_loader


def data() -> TensorDataset:
    images = torch.randint(0, 256, (50, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    return TensorDataset(images, torch.arange(50) % 10)


@pytest.mark.parametrize("shuffle", [False, True])
@pytest.mark.parametrize("view", ["whole", "subset", "subset_of_subset"])
def test_same_batches_as_a_per_example_loader(shuffle, view):
    dataset = data()
    if view != "whole":
        dataset = Subset(dataset, list(range(45, 2, -1)))  # reversed, so positions != rows
    if view == "subset_of_subset":
        dataset = Subset(dataset, [0, 5, 7, 11, 30, 31, 32, 40, 41])
    torch.manual_seed(3)
    expected = list(DataLoader(dataset, batch_size=4, shuffle=shuffle))
    torch.manual_seed(3)
    got = list(batch_loader(dataset, batch_size=4, shuffle=shuffle))
    assert len(got) == len(expected)
    for (x, y), (x_expected, y_expected) in zip(got, expected):
        assert torch.equal(x, x_expected) and torch.equal(y, y_expected)
        assert x.dtype == torch.uint8 and y.dtype == torch.int64


def test_the_datasets_stay_usable_with_a_plain_dataloader():
    dataset = Subset(data(), range(10))
    batch_loader(dataset, batch_size=4)  # wraps, does not change the dataset
    x, y = next(iter(DataLoader(dataset, batch_size=10)))
    assert x.shape == (10, 28, 28) and torch.equal(y, torch.arange(10))


def test_only_tensor_datasets_can_be_read_by_the_batch():
    with pytest.raises(TypeError, match="TensorDataset"):
        BatchReads([1, 2, 3])
