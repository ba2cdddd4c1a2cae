"""The Keras side of ``ptref bench`` trains the course's CNN with ``fit`` and reports its epoch times."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "datasets"


def test_keras_fit_of_the_course_cnn_reports_its_epochs():
    mnist = SHARED / "mnist-t10k"
    if not mnist.exists():
        pytest.fail(f"{mnist} is missing")
    result = subprocess.run(
        [sys.executable, "-m", "ptref.bench_keras", "cnn", "--data-dir", str(mnist), "--n", "256",
         "--epochs", "2"], capture_output=True, text=True, cwd=REPO, check=True)
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["samples"] == 256 and len(report["epoch_seconds"]) == 2
