"""Tensors in memory, read a whole batch at a time (what ``model.fit`` does with NumPy arrays).

TensorFlow course original (Keras)::

    model.fit(x_train, y_train, batch_size=128, shuffle=True)   # slices the arrays: x_train[indices]

A ``DataLoader`` over a ``TensorDataset`` does it per example: 128 ``dataset[i]`` calls, then
``default_collate`` stacks them. For MNIST's tiny examples that is a third of a softmax step, and for the
47-row house-price set most of a data fetch. :func:`batch_loader` wraps a ``TensorDataset`` (or
``Subset`` objects of one) in :class:`BatchReads`, which implements torch's batched-read protocol
(``Dataset.__getitems__``): one fancy-index per tensor, the same values in the same order as the
per-example path (``tests/test_batches.py``). The data modules' ``train_set``/``val_set``/``test_set`` stay
plain datasets, so a ``DataLoader`` of your own over them works as usual. Lightning can still re-create the
loader with a ``DistributedSampler`` for DDP: sampler, batch size and collate function stay ordinary
``DataLoader`` arguments.
"""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader, Dataset, Subset, TensorDataset

from ptref.data.resumable import ResumableDataLoader


class BatchReads(Dataset):
    """A ``TensorDataset`` (or ``Subset``\\ s of one) that a ``DataLoader`` reads a whole batch at a time."""

    def __init__(self, dataset: Dataset) -> None:
        self.dataset = dataset
        rows: torch.Tensor | None = None  # position in `dataset` -> row of the underlying tensors
        base = dataset
        while isinstance(base, Subset):  # Subset(Subset(t, a), b)[i] is t[a[b[i]]]
            index = torch.as_tensor(base.indices, dtype=torch.long)
            rows = index if rows is None else index[rows]
            base = base.dataset
        if not isinstance(base, TensorDataset):
            raise TypeError(f"BatchReads needs a TensorDataset (or a Subset of one), got {type(base).__name__}")
        self.tensors, self.rows = base.tensors, rows

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, ...]:
        return self.dataset[index]

    def __getitems__(self, indices: list[int]) -> list[torch.Tensor]:
        """The batch at ``indices``, already stacked: ``tensor[rows]`` for each tensor."""
        rows = torch.as_tensor(indices, dtype=torch.long)
        if self.rows is not None:
            rows = self.rows[rows]
        # index_select copies whole rows; tensor[rows] (advanced indexing) goes element by element, several
        # times slower for a batch of images.
        return [tensor.index_select(0, rows) for tensor in self.tensors]


def stacked(batch: list[torch.Tensor]) -> list[torch.Tensor]:
    """The ``collate_fn`` of a :class:`BatchReads` loader: the batch arrives stacked, nothing to do."""
    return batch


def batch_loader(dataset: Dataset, batch_size: int, shuffle: bool = False, num_workers: int = 0) -> DataLoader:
    """A ``DataLoader`` that reads whole batches of a ``TensorDataset`` (or ``Subset``\\ s of one).

    Same samplers (``shuffle`` draws its permutation from torch's global RNG, as ``DataLoader`` always does),
    so a seeded run visits the examples in the same order as a per-example loader would. A
    :class:`~ptref.data.resumable.ResumableDataLoader`, so a run stopped mid-epoch resumes exactly.
    """
    return ResumableDataLoader(
        BatchReads(dataset),
        batch_size=batch_size,
        shuffle=shuffle,
        num_workers=num_workers,
        persistent_workers=num_workers > 0,
        collate_fn=stacked,
    )
