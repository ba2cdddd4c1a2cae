"""The house-price fit's ms per epoch from two checkouts of ptref, interleaved: what a change to the code is worth.

From the repository root, with an older commit checked out beside it (``git worktree add ../ptref-old <commit>``):
``PYTHONPATH=. python benchmarks/checkout_ab.py ../ptref-old . --rounds 6``. Each round runs ``bench.py``'s
house-price part (the real ``ptref fit`` with its CSV and TensorBoard logs and checkpoints, one run) from each
checkout in a fresh interpreter, the order alternating; printed: each side's median over rounds and the median of
the per-round ratios B / A. A script that prints numbers, never a test.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from shared_data import shared_dataset

FULL = "ptref fit (CSV + TensorBoard logs, checkpoints every 100 epochs)"


def house_price_ms(checkout: Path, csv: str) -> float:
    """``bench.py --skip mnist startup --no-keras --repeats 1`` from ``checkout``; the full CLI run's ms/epoch."""
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, str(checkout / "benchmarks" / "bench.py"), "--skip", "mnist", "startup",
                   "--no-keras", "--repeats", "1", "--house-price", csv, "--out", out]
        subprocess.run(command, capture_output=True, text=True, check=True, cwd=checkout,
                       env={**os.environ, "PYTHONPATH": str(checkout)})
        return json.loads((Path(out) / "bench.json").read_text())["house_price_ms_per_epoch"][FULL]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks/checkout_ab.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("a", type=Path, help="checkout A (e.g. the older commit)")
    parser.add_argument("b", type=Path, help="checkout B")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--house-price", default=str(shared_dataset("house-price", "data1.csv")),
                        help="the course CSV, for both sides (a checkout elsewhere has no ../shared beside it)")
    args = parser.parse_args(argv)
    sides = {"A": args.a.resolve(), "B": args.b.resolve()}
    times: dict[str, list[float]] = {"A": [], "B": []}
    for round_ in range(args.rounds):
        for side in ("A", "B") if round_ % 2 == 0 else ("B", "A"):
            times[side].append(house_price_ms(sides[side], args.house_price))
        print(f"round {round_ + 1}: A {times['A'][-1]:.3f} ms, B {times['B'][-1]:.3f} ms", flush=True)
    for side in ("A", "B"):
        print(f"{side} ({sides[side]}): median {statistics.median(times[side]):.3f} ms per epoch")
    ratios = [b / a for a, b in zip(times["A"], times["B"])]
    print(f"B / A, median of the per-round ratios: {statistics.median(ratios):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
