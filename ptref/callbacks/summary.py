"""One line instead of Lightning's layer table for a model that has no layers.

TensorFlow twin: ``model.summary()``. Lightning's model summary is a table of submodules. A model that holds its
parameters directly, like the course's house-price regression (one ``W``), gets a table with a single row
``other params | n/a`` and the lines ``Modules in train mode: 0``, ``Modules in eval mode: 0``,
``Total FLOPs: 0``: nothing a reader can use. For such a model this callback replaces the table by
``<Model>: N parameters``, the line ptref's classifiers print above their table. Models with layers keep
Lightning's table, and ``--trainer.enable_model_summary false`` still turns both off.
"""

from __future__ import annotations

import lightning.pytorch as pl
from lightning.pytorch.callbacks import ModelSummary
from lightning.pytorch.utilities import rank_zero_info


class FlatModelSummary(pl.Callback):
    """Replaces Lightning's summary table by one line when the model has no submodules."""

    def __init__(self) -> None:
        self._one_line = False

    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        tables = [callback for callback in trainer.callbacks if isinstance(callback, ModelSummary)]
        self._one_line = bool(tables) and not any(pl_module.children())
        if self._one_line:
            trainer.callbacks = [callback for callback in trainer.callbacks if callback not in tables]

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._one_line:  # counted now: configure_model may have built the parameters after setup
            rank_zero_info(f"{type(pl_module).__name__}: {sum(p.numel() for p in pl_module.parameters()):,} parameters")
