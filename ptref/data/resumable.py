"""A ``DataLoader`` that can continue an interrupted epoch exactly where it stopped.

TensorFlow twin: ``tf.train.Checkpoint(iterator=iter(dataset))`` saves a ``tf.data`` iterator's position.

A shuffled epoch's order comes from torch's global generator: the loader draws its worker base seed from it
when the epoch's iterator is made, the ``RandomSampler`` its seed when the first batch is read. So an epoch
is fully described by the generator states at those two moments and the number ``k`` of batches already
handed out. Lightning's protocol for resumable loaders is ``state_dict``/``load_state_dict`` on the loader
(saved under the fit loop's ``combined_loader`` in the checkpoint). On resume the next ``iter()`` replays
the two states, so the iterator has the interrupted epoch's order, reads and drops the first ``k``
batches, and puts the generator back to the state the checkpoint restored: training continues with the
random numbers it would have drawn. An epoch that is not resumed draws exactly what a plain
``DataLoader`` draws.

The position is saved only inside :meth:`ResumableDataLoader.holding_position` (used by
:class:`ptref.callbacks.preemption.SaveOnSIGTERM` for its mid-epoch checkpoint): an ordinary end-of-epoch
checkpoint must start the next epoch afresh, and only the trainer knows where an epoch ends
(``limit_train_batches``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
from torch.utils.data import DataLoader


class ResumableDataLoader(DataLoader):
    """``torch.utils.data.DataLoader`` (same arguments) whose checkpointed position resumes mid-epoch, bit for bit."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # global generator states of the current epoch: when its iterator was made (worker base seed) and
        # when its first batch was read (the sampler's seed); then how many batches it handed out
        self._rng_at_iter: torch.Tensor | None = None
        self._rng_at_first_batch: torch.Tensor | None = None
        self._served = 0
        self._hold = False
        self._resume: dict[str, Any] | None = None

    @property
    def served(self) -> int:
        """Batches handed out so far in the current epoch."""
        return self._served

    @contextmanager
    def holding_position(self) -> Iterator[None]:
        """Inside this block, :meth:`state_dict` records the current epoch's position."""
        self._hold = True
        try:
            yield
        finally:
            self._hold = False

    def state_dict(self) -> dict[str, Any]:
        if not self._hold or self._rng_at_first_batch is None:
            return {}
        return {"rng_at_iter": self._rng_at_iter, "rng_at_first_batch": self._rng_at_first_batch,
                "batches": self._served}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._resume = state_dict or None

    def __iter__(self) -> Iterator[Any]:  # type: ignore[override]
        if self._resume is not None:
            position, self._resume = self._resume, None
            return self._continue(**position)
        self._rng_at_iter, self._rng_at_first_batch, self._served = torch.get_rng_state(), None, 0
        return self._counted(super().__iter__())

    def _continue(self, rng_at_iter: torch.Tensor, rng_at_first_batch: torch.Tensor, batches: int) -> Iterator[Any]:
        now = torch.get_rng_state()
        torch.set_rng_state(rng_at_iter)
        iterator = super().__iter__()
        torch.set_rng_state(rng_at_first_batch)
        for _ in range(batches):  # the same order as the interrupted epoch: these were trained on already
            next(iterator)
        torch.set_rng_state(now)
        self._rng_at_iter, self._rng_at_first_batch, self._served = rng_at_iter, rng_at_first_batch, batches
        return self._counted(iterator)

    def _counted(self, iterator: Iterator[Any]) -> Iterator[Any]:
        if self._rng_at_first_batch is None:
            self._rng_at_first_batch = torch.get_rng_state()
        for batch in iterator:
            self._served += 1
            yield batch
