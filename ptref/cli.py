"""The ``ptref`` command line.

``ptref fit|validate|test|predict`` is Lightning's own :class:`~lightning.pytorch.cli.LightningCLI`, so every
model and data module is configured from YAML (``--config experiments/....yaml``) and flags, and devices,
precision and strategy are Trainer arguments (``--trainer.accelerator auto|cpu|cuda|mps|tpu``).

A few small subcommands of our own sit beside it; each lives in its own module and is imported only
when asked for, so ``ptref fit`` never pays for them (and never imports TensorFlow).
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

from lightning.pytorch import LightningDataModule, LightningModule
from lightning.pytorch.cli import LightningCLI

# subcommand -> module with a ``main(argv) -> int | None``
EXTRA_COMMANDS = {
    "env": "ptref.env",
    "lesson": "ptref.concepts.lesson",
}

EPILOG = "ptref's own subcommands: " + ", ".join(
    f"'ptref {name} --help'" for name in EXTRA_COMMANDS
)


class PtrefCLI(LightningCLI):
    """LightningCLI whose ``--model``/``--data`` accept any LightningModule/DataModule (short names for ptref's)."""


def main(args: Sequence[str] | None = None) -> int | None:
    """Entry point of ``ptref`` and ``python -m ptref``."""
    argv = list(sys.argv[1:] if args is None else args)
    if argv and argv[0] in EXTRA_COMMANDS:
        return importlib.import_module(EXTRA_COMMANDS[argv[0]]).main(argv[1:])

    # Importing the packages registers their classes, so `--model LinearRegression` works by short name.
    importlib.import_module("ptref.data")
    importlib.import_module("ptref.models")
    PtrefCLI(
        LightningModule,
        LightningDataModule,
        subclass_mode_model=True,
        subclass_mode_data=True,
        args=None if args is None else argv,  # None: LightningCLI reads sys.argv itself
        parser_kwargs={"epilog": EPILOG},
        save_config_kwargs={"overwrite": True},
    )
    return None
