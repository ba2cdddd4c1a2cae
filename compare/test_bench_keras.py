"""The Keras side of the benchmark (``benchmarks/bench_keras.py``) trains the course's CNN with ``fit`` and reports
its epoch times."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from shared_data import shared_dataset

REPO = Path(__file__).resolve().parents[1]
MNIST = shared_dataset("mnist-t10k")


def test_keras_fit_of_the_course_cnn_reports_its_epochs():
    if not MNIST.exists():
        pytest.fail(f"{MNIST} is missing")
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "bench_keras.py"), "cnn", "--data-dir", str(MNIST), "--n", "256",
         "--epochs", "2"],
        capture_output=True, text=True, check=False, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["samples"] == 256 and len(report["epoch_seconds"]) == 2
    assert all(seconds > 0 for seconds in report["epoch_seconds"])


def test_the_course_cnn_in_keras_has_the_courses_parameter_count():
    from compare.course_models import course_model

    assert course_model("cnn").count_params() == 1_199_882  # the course's model.summary()
