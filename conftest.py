"""Fixtures shared by ``tests/`` and ``compare/``: the course data, found by :mod:`shared_data`.

Being at the repository root, this file also makes pytest put the root on ``sys.path``, so ``compare`` and
``shared_data`` import alike under ``python -m pytest`` and plain ``pytest compare/``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shared_data import require, shared_dataset


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist (``-n``, set in pyproject.toml), each worker and the processes its tests start get an
    equal share of the cores: torch's default of one thread per core in every worker oversubscribes them, and
    OpenMP threads spinning against each other run many times slower."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0"))
    if workers:
        threads = str(max(1, (os.cpu_count() or 1) // workers))
        os.environ.setdefault("OMP_NUM_THREADS", threads)  # before torch is imported in this worker
        os.environ.setdefault("MKL_NUM_THREADS", threads)


def course_data(*parts: str) -> Path:
    """A dataset of the course data; fails (never skips) the test when it is absent."""
    try:
        return require(shared_dataset(*parts))
    except FileNotFoundError as error:
        pytest.fail(str(error))


@pytest.fixture(scope="session")
def house_price_csv() -> Path:
    """The course's two-feature house-price CSV (area, bedrooms, price; 47 rows)."""
    return course_data("house-price", "data1.csv")


@pytest.fixture(scope="session")
def mnist_t10k_dir() -> Path:
    """The real MNIST test split as the official IDX .gz files."""
    return course_data("mnist-t10k")
