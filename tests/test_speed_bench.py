"""``benchmarks/bench.py`` runs end to end and reports what it measured (its numbers are never asserted: timings)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PTREF = REPO / "ptref"


def load_report_module():
    spec = importlib.util.spec_from_file_location("bench_report", REPO / "benchmarks" / "report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_writes_json_markdown_and_chart(tmp_path, mnist_t10k_dir):
    result = subprocess.run(
        [sys.executable, str(REPO / "benchmarks" / "bench.py"), "--mnist", str(mnist_t10k_dir), "--workflows",
         "softmax", "--n", "256", "--epochs", "2", "--repeats", "1", "--no-keras", "--skip", "house_price",
         "startup", "--out", str(tmp_path)],
        capture_output=True, text=True, check=False,
        env={**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((tmp_path / "bench.json").read_text())
    (row,) = report["mnist"]
    assert row["workflow"] == "softmax" and row["samples"] == 256
    assert len(row["runs"]["ptref"]) == len(row["runs"]["plain"]) == 1
    assert len(row["runs"]["ptref"][0]) == len(row["runs"]["plain"][0]) == 2
    assert all(seconds > 0 for seconds in row["runs"]["plain"][0])
    assert report["machine"]["sgemm_gflops"] > 0
    assert "| softmax |" in (tmp_path / "bench.md").read_text()
    assert (tmp_path / "bench.png").stat().st_size > 1000


def test_ratios_are_medians_of_same_round_ratios_of_median_epochs_after_warm_up():
    report = load_report_module()
    # 1000 samples; epoch 0 is warm-up. Round 1: ptref median 2 s (500/s), plain 1 s (1000/s), keras 4 s (250/s);
    # round 2: ptref 1 s (1000/s), plain 1 s, keras 1 s. Same-round ratios ptref/keras: 2.0 and 1.0 -> median 1.5,
    # while the ratio of the median rates would be 750 / 625 = 1.2.
    row = {"workflow": "cnn", "samples": 1000, "warmup": 1, "runs": {
        "ptref": [[9, 2, 2, 3], [9, 1, 1, 1]], "plain": [[9, 1, 1, 5], [9, 1, 1, 1]],
        "keras": [[9, 4, 4, 4], [9, 1, 1, 1]]}}
    assert report.rates(row)["ptref"] == [500, 1000]
    assert report.ratio(row, "ptref", "keras") == 1.5
    assert report.ratio(row, "ptref", "plain") == 0.75
    assert report.ratio(row, "ptref", "missing") is None


def test_the_benchmark_lives_beside_the_library_not_in_it():
    assert not list(PTREF.glob("bench*.py"))
    assert not [path for path in PTREF.rglob("*.py") if "bench_keras" in path.read_text()]
