"""What ``ptref predict`` shows for a captcha model: the text read from each file, with each character's probability."""

from __future__ import annotations

from typing import Any

import lightning.pytorch as pl


class CaptchaPrinter(pl.Callback):
    """Prints one line per file of ``ptref predict``: ``c.png: 0427 (0.998 0.974 0.999 0.951)``."""

    def on_predict_batch_end(
        self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any, batch: Any, batch_idx: int,
        dataloader_idx: int = 0,
    ) -> None:
        files = trainer.datamodule.hparams.predict_files
        for file_id, text, probabilities in zip(outputs["id"].tolist(), outputs["text"],
                                                outputs["probability"].tolist()):
            print(f"{files[file_id]}: {text} ({' '.join(f'{p:.3f}' for p in probabilities)})")
