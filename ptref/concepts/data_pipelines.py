"""Input pipelines: ``tf.data.Dataset`` ↔ ``Dataset`` + ``DataLoader`` (+ Lightning's ``LightningDataModule``).

The course feeds Keras with ``tf.data.Dataset.from_tensor_slices((x, y)).shuffle(n).batch(b).prefetch(AUTOTUNE)``:
a chain of transformations, each a new dataset. PyTorch splits the same work in two: a ``Dataset`` says what
example ``i`` is, a ``DataLoader`` says in which order (its sampler), in which groups (``batch_size``) and by whom
(``num_workers``) they are read. Without shuffling both give the same batches; with a permutation given to both,
too. Their random shuffles never match: TensorFlow draws from its own seeded stream with a *buffer* (a sliding
window), PyTorch draws a full permutation from a ``torch.Generator``. TensorFlow twin:
``compare/concepts/data_pipelines_tf.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import lightning as L
import numpy as np
import torch
from torch.utils.data import DataLoader, Subset, TensorDataset


def course_data() -> tuple[torch.Tensor, torch.Tensor]:
    """Ten examples: feature x = 0..9 and label y = 10·x, so every label names its example."""
    x = torch.arange(10)
    return x, 10 * x


def buffer_shuffle(items: Iterable[int], buffer_size: int, generator: torch.Generator) -> Iterator[int]:
    """TF's ``shuffle(buffer_size)`` for a stream: fill a buffer, then emit a random slot and refill it.

    Element j enters the buffer only after j − buffer_size + 1 elements have left it, so it comes out at
    position ≥ j − (buffer_size − 1): a buffer of 1 does not shuffle, one of at least n is a full permutation.
    """
    buffer: list[int] = []
    for item in items:
        buffer.append(item)
        if len(buffer) == buffer_size:
            slot = int(torch.randint(len(buffer), (), generator=generator))
            buffer[slot], buffer[-1] = buffer[-1], buffer[slot]
            yield buffer.pop()
    while buffer:
        slot = int(torch.randint(len(buffer), (), generator=generator))
        buffer[slot], buffer[-1] = buffer[-1], buffer[slot]
        yield buffer.pop()


def course_pipeline() -> dict[str, object]:
    """The course's chain ``from_tensor_slices((x, y)).shuffle(10).batch(4).prefetch(AUTOTUNE)`` and its twin.

    ``TensorDataset(x, y)`` ↔ ``from_tensor_slices((x, y))``; ``DataLoader(batch_size=4, shuffle=True)`` ↔
    ``shuffle(10).batch(4)`` (a buffer as large as the data: a full permutation, as torch's ``RandomSampler``);
    ``num_workers`` ↔ ``prefetch``. The orders differ (two random streams); what is the same: 3 batches of
    4, 4, 2, and every example exactly once per epoch.
    """
    x, y = course_data()
    generator = torch.Generator().manual_seed(0)
    loader = DataLoader(TensorDataset(x, y), batch_size=4, shuffle=True, generator=generator)
    batches = [(xb.tolist(), yb.tolist()) for xb, yb in loader]
    seen = sorted(v for xb, _ in batches for v in xb)
    return {
        "batch sizes": [len(xb) for xb, _ in batches],
        "every example once": seen == x.tolist(),
        "labels stay with their examples": all(10 * a == b for xb, yb in batches for a, b in zip(xb, yb)),
        "first batch x (this stream's order)": batches[0][0],
    }


def slices_and_batches() -> dict[str, object]:
    """No shuffle: ``from_tensor_slices((x, y)).batch(4)`` and ``DataLoader(TensorDataset(x, y), batch_size=4)``
    give the same batches, in the same order.

    One example is a tuple ``(x[i], y[i])`` in both: ``TensorDataset`` slices every tensor along its first axis,
    as ``from_tensor_slices`` does.
    """
    x, y = course_data()
    dataset = TensorDataset(x, y)
    loader = DataLoader(dataset, batch_size=4)
    return {
        "examples": len(dataset),
        "example 3": [v.item() for v in dataset[3]],
        "batches of x": [xb.tolist() for xb, _ in loader],
        "batches of y": [yb.tolist() for _, yb in loader],
    }


def drop_remainder_is_drop_last() -> dict[str, object]:
    """``batch(4, drop_remainder=True)`` ↔ ``DataLoader(batch_size=4, drop_last=True)``: the short batch goes.

    TF also records it in the static shape (batch axis ``None`` → ``4``), which ``tf.function`` and XLA use;
    a ``DataLoader`` has no static shapes, so there the only trace is ``len(loader)``.
    """
    dataset = TensorDataset(*course_data())
    keep, drop = DataLoader(dataset, batch_size=4), DataLoader(dataset, batch_size=4, drop_last=True)
    return {
        "batch sizes, kept": [len(xb) for xb, _ in keep],
        "batch sizes, dropped": [len(xb) for xb, _ in drop],
        "batches per epoch": [len(keep), len(drop)],
    }


def shuffle_with_a_given_permutation() -> dict[str, object]:
    """The same shuffled batches in both: draw the permutation once (NumPy, seed 0) and give it to each.

    TF: slice the arrays in that order (``from_tensor_slices((x[p], y[p]))``); PyTorch: pass it as the
    ``sampler`` (any iterable of indices is one).
    """
    x, y = course_data()
    permutation = np.random.default_rng(0).permutation(len(x)).tolist()
    loader = DataLoader(TensorDataset(x, y), batch_size=4, sampler=permutation)
    return {
        "permutation": permutation,
        "batches of x": [xb.tolist() for xb, _ in loader],
        "batches of y": [yb.tolist() for _, yb in loader],
    }


def shuffle_buffer_vs_full_permutation() -> dict[str, object]:
    """TF shuffles through a buffer: after ``shuffle(2)`` no element is more than 1 place early, ``shuffle(n)``
    permutes fully.

    torch's ``RandomSampler`` (``shuffle=True``) always draws a full permutation, like a buffer ≥ n; it needs
    ``len(dataset)``. For a stream (an ``IterableDataset``) you write the buffer yourself: ``buffer_shuffle``.
    With buffer k, element j comes out no earlier than position j − (k − 1). The orders never equal
    TensorFlow's: TF draws from its own (Philox) stream seeded by the global and op seeds, torch from a
    ``torch.Generator``.
    """
    generator = torch.Generator().manual_seed(0)
    window = list(buffer_shuffle(range(10), 2, generator))
    full = list(buffer_shuffle(range(10), 10, generator))
    sampler = torch.utils.data.RandomSampler(range(10), generator=generator)
    return {
        "buffer 2": window,
        "buffer 2, most places an element moves ahead": max(j - window.index(j) for j in window),
        "buffer 10": full,
        "RandomSampler": list(sampler),
    }


def reshuffle_each_iteration() -> dict[str, object]:
    """A new order every epoch: ``shuffle(10, seed=1)`` (``reshuffle_each_iteration=True``, the default) ↔
    ``DataLoader(shuffle=True, generator=g)``, which draws the next permutation from ``g`` at every ``iter``.

    One order for every epoch: ``reshuffle_each_iteration=False`` ↔ a fixed permutation as the ``sampler``.
    Rebuilt with the same seed, both repeat their epochs exactly.
    """

    def two_epochs(seed: int, reshuffle: bool) -> list[list[int]]:
        generator = torch.Generator().manual_seed(seed)
        dataset = TensorDataset(course_data()[0])
        if reshuffle:
            loader = DataLoader(dataset, batch_size=10, shuffle=True, generator=generator)
        else:
            loader = DataLoader(dataset, batch_size=10, sampler=torch.randperm(10, generator=generator).tolist())
        return [next(iter(loader))[0].tolist() for _ in range(2)]

    reshuffled, fixed = two_epochs(1, reshuffle=True), two_epochs(1, reshuffle=False)
    return {
        "reshuffled, epochs 1 and 2": reshuffled,
        "epochs differ": reshuffled[0] != reshuffled[1],
        "fixed order, epochs differ": fixed[0] != fixed[1],
        "same seed, same epochs": two_epochs(1, reshuffle=True) == reshuffled,
    }


def prefetch_and_workers() -> dict[str, object]:
    """``prefetch(AUTOTUNE)`` ↔ ``num_workers`` (+ ``prefetch_factor``, ``pin_memory``): speed, not values.

    TF prepares the next batches on background threads of the same process while the model runs; a
    ``DataLoader`` with ``num_workers=2`` runs ``__getitem__`` in 2 worker processes, each keeping
    ``prefetch_factor`` (2) batches ready, and returns them in the sampler's order. ``pin_memory=True`` puts
    batches in page-locked memory so the copy to a CUDA GPU can overlap compute (TF copies through its own
    pinned staging; no flag). The batches are the same with and without.
    """
    dataset = TensorDataset(*course_data())
    plain = [xb.tolist() for xb, _ in DataLoader(dataset, batch_size=4)]
    workers = DataLoader(dataset, batch_size=4, num_workers=2, prefetch_factor=2)
    return {"batches of x": plain, "same batches, prefetched": [xb.tolist() for xb, _ in workers] == plain}


def lightning_datamodule() -> dict[str, object]:
    """Where the pipeline lives in ptref: a ``LightningDataModule`` owns the split and the loaders.

    Keras has no such class: the course builds its ``tf.data`` pipelines in a function and hands them to
    ``fit(train, validation_data=val)``. Split 8/2 in order (TF: slice the arrays; here ``Subset``, so the
    split is a view), train batches of 4 in the given permutation, validation in order.
    """

    class CourseData(L.LightningDataModule):
        def __init__(self, permutation: list[int], batch_size: int = 4) -> None:
            super().__init__()
            self.permutation, self.batch_size = permutation, batch_size

        def setup(self, stage: str) -> None:
            dataset = TensorDataset(*course_data())
            self.train_set, self.val_set = Subset(dataset, range(8)), Subset(dataset, range(8, 10))

        def train_dataloader(self) -> DataLoader:
            return DataLoader(self.train_set, batch_size=self.batch_size, sampler=self.permutation)

        def val_dataloader(self) -> DataLoader:
            return DataLoader(self.val_set, batch_size=self.batch_size)

    data = CourseData(permutation=[3, 0, 6, 1, 7, 2, 5, 4])
    data.setup("fit")
    return {
        "train batches of x": [xb.tolist() for xb, _ in data.train_dataloader()],
        "validation batches of x": [xb.tolist() for xb, _ in data.val_dataloader()],
    }


HELPERS = (course_data, buffer_shuffle)
STEPS = (
    course_pipeline,
    slices_and_batches,
    drop_remainder_is_drop_last,
    shuffle_with_a_given_permutation,
    shuffle_buffer_vs_full_permutation,
    reshuffle_each_iteration,
    prefetch_and_workers,
    lightning_datamodule,
)
