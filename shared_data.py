"""Where the course data lives for the repository's tools: the tests, the parity suite, scripts and benchmarks.

``$PTREF_SHARED`` when it is set, else ``../shared`` beside this checkout; the datasets are in its ``datasets/``
folder (``mnist-t10k/``, ``house-price/data0.csv``, ``data1.csv``). The library (``ptref/``) never reads this:
its data modules take their paths as arguments, and the experiment YAMLs name ``../shared/datasets/...``
relative to the repository root, where the README's commands run (``--data.data_dir``/``--data.csv_path``
point them elsewhere).
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent


def shared_dir() -> Path:
    """``$PTREF_SHARED``, else the ``shared`` folder beside the repository."""
    return Path(os.environ.get("PTREF_SHARED") or REPO.parent / "shared")


def shared_dataset(*parts: str) -> Path:
    """``<shared>/datasets/<parts...>`` (whether or not it exists: :func:`require` checks)."""
    return shared_dir().joinpath("datasets", *parts)


def require(path: Path) -> Path:
    """``path`` itself; ``FileNotFoundError`` naming it and the way to point at the data when it is missing."""
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: the course data is read from ../shared (or $PTREF_SHARED)")
    return path
