"""The messages ``ptref``'s commands hide, each matched exactly, each with why hiding it loses nothing.

Only :func:`ptref.cli.main` applies these, for the duration of one command; a program that imports ptref
sees every message its libraries print.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from lightning_utilities.core import rank_zero

# (message regex, category, module regex of the code that warns)
WARNINGS = [
    # Lightning's own flattening code builds torch's deprecated LeafSpec on every step's outputs: a note to
    # Lightning's developers, nothing a user of Lightning can change.
    (r"`isinstance\(treespec, LeafSpec\)` is deprecated", FutureWarning, r"lightning\.pytorch\.utilities\._pytree"),
    # A data module answers "no validation split" with an empty list (house price with val_fraction 0),
    # which is what this says. An empty DataLoader still warns: it is named `DataLoader`, not `list`.
    (r"Total length of `list` across ranks is zero", UserWarning, r"lightning\.pytorch\.utilities\.data"),
    # `--ckpt_path last` resumes into a new version_N folder on purpose (nothing earlier is overwritten), so
    # the checkpoint's folder always differs from the new one; the weights, optimizer and loops still resume.
    (r"The dirpath has changed from .* won't be reloaded", UserWarning,
     r"lightning\.pytorch\.callbacks\.model_checkpoint"),
    # main() always passes LightningCLI its arguments (sys.argv's without --debug, or those main() was given),
    # so LightningCLI never reads sys.argv as well: the mix this warns about cannot happen.
    (r"LightningCLI's args parameter is intended to run from within Python", UserWarning, r"lightning\.pytorch\.cli"),
    # The graph in TensorBoard's Graphs tab (fit's log_graph) can only come from torch.jit.trace: TensorBoard's
    # add_graph reads no torch.compile or torch.export graph, so the advice to switch has nothing to act on.
    (r"`torch\.jit\.trace(_method)?` is deprecated", FutureWarning, r"torch\.jit\._trace"),
]

# Lightning's advertisements for its cloud services: nothing about the run.
LOG_PREFIXES = (
    "💡 Tip: For seamless cloud logging and experiment tracking, try installing [litlogger]",
    "💡 Tip: For seamless cloud uploads and versioning, try installing [litmodels]",
)


class _DropPrefixes(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(LOG_PREFIXES)


@contextmanager
def known_noise_hidden() -> Iterator[None]:
    """Hide :data:`WARNINGS` and :data:`LOG_PREFIXES` inside the ``with`` block."""
    drop = _DropPrefixes()
    logger = rank_zero.log  # the logger Lightning's rank_zero_info writes to
    with warnings.catch_warnings():
        for message, category, module in WARNINGS:
            warnings.filterwarnings("ignore", message=message, category=category, module=module)
        logger.addFilter(drop)
        try:
            yield
        finally:
            logger.removeFilter(drop)
