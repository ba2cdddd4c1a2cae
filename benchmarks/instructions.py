"""CPU instructions per epoch of the house-price ``ptref fit``, counted by valgrind's callgrind: a measure of what a
change costs that does not move with the machine's load.

From the repository root (Debian's ``valgrind``):
``PYTHONPATH=. python benchmarks/instructions.py . ../ptref-old --epochs 100`` (each path a checkout of ptref;
``git worktree add ../ptref-old <commit>`` makes one). Each checkout's real
``ptref fit --config experiments/house_price.yaml`` (its CSV and TensorBoard logs, checkpoints every 100 epochs)
runs under callgrind with counting switched on from the start of epoch 10 to the start of epoch 10 + ``--epochs``
(imports, setup and the first epochs are not counted; one checkpoint save falls inside the window). Printed:
instructions per epoch for each run and the ratio to the first checkout. ``--flags`` adds ``ptref fit`` options
to every run (``--flags=--trainer.log_every_n_steps=1``). A script that prints numbers, never a test.

Timing this fit on a shared 2-vCPU machine moves by ±50% from one run to the next; the count repeats within
~0.5%. It counts work, not waiting: a change that only moves work to another thread, or that makes the same
instructions run faster (caches, vector units), shows in timings only.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from shared_data import shared_dataset

# Run inside valgrind: ``ptref fit`` with a callback that switches callgrind's counting on and off.
CHILD = """
import contextlib, io, os, subprocess, sys
checkout, csv_path, root, first, epochs, *flags = sys.argv[1:]
sys.path.insert(0, checkout)
import torch._dynamo  # noqa: F401  (before anything that may import TensorFlow)
import lightning.pytorch as pl
from ptref.cli import main

class Count(pl.Callback):
    def on_train_epoch_start(self, trainer, pl_module):
        if trainer.current_epoch in (int(first), int(first) + int(epochs)):
            state = "on" if trainer.current_epoch == int(first) else "off"
            subprocess.run(["callgrind_control", "-i", state, str(os.getpid())], capture_output=True, check=True)

sys.modules["__main__"].Count = Count
argv = ["fit", "--config", os.path.join(checkout, "experiments", "house_price.yaml"), "--data.csv_path", csv_path,
        "--trainer.default_root_dir", root, "--seed_everything", "0", "--trainer.enable_progress_bar", "false",
        "--trainer.enable_model_summary", "false", "--trainer.max_epochs", str(int(first) + int(epochs) + 1),
        "--trainer.callbacks+=__main__.Count", *flags]
with contextlib.redirect_stdout(io.StringIO()):
    status = main(argv)
sys.exit(status or 0)
"""

FIRST_COUNTED_EPOCH = 10


def instructions_per_epoch(checkout: Path, csv_path: str, epochs: int, flags: Sequence[str]) -> float:
    """Instructions callgrind counted over ``epochs`` epochs of ``checkout``'s house-price fit, per epoch."""
    with tempfile.TemporaryDirectory() as scratch:
        command = ["valgrind", "--tool=callgrind", "--instr-atstart=no",
                   f"--callgrind-out-file={Path(scratch) / 'callgrind.out'}", sys.executable, "-c", CHILD,
                   str(checkout.resolve()), csv_path, str(Path(scratch) / "run"), str(FIRST_COUNTED_EPOCH), str(epochs),
                   *flags]
        env = {**os.environ, "PYTHONPATH": str(checkout.resolve()), "TF_CPP_MIN_LOG_LEVEL": "2"}
        result = subprocess.run(command, capture_output=True, text=True, env=env)
        counted = re.search(r"Collected : (\d+)", result.stderr)
        if result.returncode or counted is None:
            tail = "\n".join(result.stderr.strip().splitlines()[-15:])
            raise RuntimeError(f"the fit from {checkout} under callgrind failed (exit {result.returncode}):\n{tail}")
        return int(counted.group(1)) / epochs


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks/instructions.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkouts", nargs="+", type=Path, help="ptref checkouts (the first is the baseline)")
    parser.add_argument("--house-price", default=str(shared_dataset("house-price", "data1.csv")))
    parser.add_argument("--epochs", type=int, default=100, help="epochs counted (default 100)")
    parser.add_argument("--flags", nargs="*", default=[], help="ptref fit options added to every run")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        parser.error("valgrind is needed: apt-get install -y valgrind")
    if args.epochs < 1:
        parser.error(f"--epochs must be >= 1, got {args.epochs}")
    for checkout in args.checkouts:
        if not (checkout / "experiments" / "house_price.yaml").is_file():
            parser.error(f"{checkout} is not a ptref checkout (no experiments/house_price.yaml)")
    print(f"| checkout | instructions per epoch | / {args.checkouts[0]} |\n|---|---|---|", flush=True)
    baseline = None
    for checkout in args.checkouts:
        count = instructions_per_epoch(checkout, args.house_price, args.epochs, args.flags)
        baseline = baseline or count
        print(f"| {checkout} | {count / 1e6:.3f} M | {count / baseline:.3f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
