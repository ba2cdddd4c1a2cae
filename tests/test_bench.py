"""``ptref bench`` runs end to end and reports what it measured (its numbers are never asserted: timings)."""

from __future__ import annotations

import json

from ptref.bench_report import markdown
from ptref.cli import main


def test_bench_writes_json_markdown_and_chart(tmp_path):
    assert main(["bench", "--workflows", "softmax", "--n", "256", "--epochs", "2", "--no-keras",
                 "--skip", "house_price", "startup", "--out", str(tmp_path)]) == 0
    report = json.loads((tmp_path / "bench.json").read_text())
    (row,) = report["mnist"]
    assert row["workflow"] == "softmax" and row["samples"] == 256
    assert len(row["lightning"]) == len(row["plain"]) == 2 and all(seconds > 0 for seconds in row["plain"])
    assert "| softmax |" in (tmp_path / "bench.md").read_text()
    assert (tmp_path / "bench.png").stat().st_size > 1000


def test_ratios_are_throughputs_from_the_median_epoch_after_warm_up():
    report = {
        "machine": {"cores": 2, "torch_threads": 2, "loadavg_start": (1.0,), "loadavg_end": (1.0,), "torch": "x",
                    "lightning": "y"},
        "settings": {"warmup": 1, "n": 1000, "batch_size": 128, "epochs": 4, "channels_last": False,
                     "compile": False},
        # warm-up epoch 9 s is ignored; medians 2 s, 1 s, 4 s -> 500, 1000, 250 samples/s
        "mnist": [{"workflow": "cnn", "samples": 1000, "lightning": [9, 2, 2, 3], "plain": [9, 1, 1, 5],
                   "keras": [9, 4, 4, 4]}],
    }
    assert "| cnn | 500 | 1,000 | 250 | 0.50 | 2.00 |" in markdown(report)
