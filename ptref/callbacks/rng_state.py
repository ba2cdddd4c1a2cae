"""Random-number-generator state in every checkpoint, so a resumed run continues bit for bit.

Lightning checkpoints hold weights, optimizer and loop state, but not the RNG streams that draw the next
epoch's shuffling order and dropout masks. Without them a run resumed after epoch k shuffles and drops
differently from the run that was never interrupted.
"""

from __future__ import annotations

import random
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch


class RNGStateCheckpoint(pl.Callback):
    """Saves the Python, NumPy, torch CPU (and CUDA) generator states; restores them on resume.

    Stored as tensors and plain ints only, so checkpoints still load with ``weights_only=True``.
    """

    def state_dict(self) -> dict[str, Any]:
        name, keys, position, has_gauss, cached = np.random.get_state()
        state = {
            "python": list(random.getstate()[1]),
            "python_version": random.getstate()[0],
            "python_gauss": random.getstate()[2],
            "numpy": torch.from_numpy(keys.astype(np.int64)),
            "numpy_rest": [int(position), int(has_gauss), float(cached)],
            "torch": torch.get_rng_state(),
        }
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            state["cuda"] = torch.cuda.get_rng_state_all()
        return state

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        random.setstate((state_dict["python_version"], tuple(state_dict["python"]), state_dict["python_gauss"]))
        position, has_gauss, cached = state_dict["numpy_rest"]
        keys = state_dict["numpy"].numpy().astype(np.uint32)
        np.random.set_state(("MT19937", keys, int(position), int(has_gauss), float(cached)))
        torch.set_rng_state(state_dict["torch"])
        if "cuda" in state_dict and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state_dict["cuda"])
