"""Shared fixtures for ptref's own tests (no TensorFlow here)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PTREF_SHARED", REPO.parent / "shared"))


def shared_dataset(*parts: str) -> Path:
    """Path of a dataset in ``../shared/datasets``; fails (never skips) the test when it is absent."""
    path = SHARED.joinpath("datasets", *parts)
    if not path.exists():
        pytest.fail(f"{path} is missing: these tests read the course data from ../shared (or $PTREF_SHARED)")
    return path


@pytest.fixture(scope="session")
def house_price_csv() -> Path:
    """The course's two-feature house-price CSV (area, bedrooms, price; 47 rows)."""
    return shared_dataset("house-price", "data1.csv")


@pytest.fixture(scope="session")
def mnist_t10k_dir() -> Path:
    """The real MNIST test split as the official IDX .gz files."""
    return shared_dataset("mnist-t10k")
