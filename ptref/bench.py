"""``ptref bench``: training throughput of ptref through Lightning vs a plain PyTorch loop vs Keras ``fit``.

For each MNIST workflow (softmax, MLP, CNN: the course's models, Adam 1e-3, batch 128) on the same first
``--n`` real MNIST t10k digits, in the same run:

- **lightning**: the workflow's experiment YAML through ``PtrefCLI`` (its loggers, checkpointing and
  callbacks; validation and the progress bar off), timed per training epoch;
- **plain**: the same ptref model, optimizer and uint8 data in a hand-written loop
  (the data module's whole-batch ``DataLoader`` → normalize → forward → loss → backward → step);
- **keras**: the course's Keras model with ``model.fit`` on the same digits (:mod:`ptref.bench_keras`,
  in its own process so TensorFlow never shares the interpreter).

Throughput is samples/s from the median of the epochs after ``--warmup``. Also: per-step cost of the
47-row house-price model (real CLI, with its parts switched off one by one, vs a plain loop vs Keras) and
startup times. Writes ``bench.json``, ``bench.md`` and ``bench.png`` to ``--out``. A script that prints
numbers, never a test: timings depend on the machine and its load (``loadavg`` is recorded).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import lightning.pytorch as pl
import torch
from lightning.pytorch import LightningDataModule, LightningModule
from torch.nn import functional as F
from torch.utils.data import TensorDataset

from ptref.bench_report import write_report
from ptref.data.batches import batch_loader
from ptref.cli import PtrefCLI, tensorboard_without_tensorflow

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"
WORKFLOWS = {"softmax": "mnist_softmax_t10k.yaml", "mlp": "mnist_mlp_t10k.yaml", "cnn": "mnist_cnn_t10k.yaml"}
QUIET = ["--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false"]
NO_PROGRESS_BAR = QUIET[:2]
HOUSE_PRICE_VARIANTS = {  # each switches off one more part of the real CLI run
    "CLI defaults": [],
    "- progress bar": NO_PROGRESS_BAR,
    "- loggers (CSV, TensorBoard)": [*NO_PROGRESS_BAR, "--trainer.logger", "false"],
    "- checkpointing (YAML: every 100 epochs)": [*NO_PROGRESS_BAR, "--trainer.callbacks", "[]",
                                                  "--trainer.enable_checkpointing", "false", "--trainer.logger", "false"],
}


class Timer(pl.Callback):
    """Seconds of each training epoch, and of the whole training loop."""

    def __init__(self) -> None:
        self.epochs: list[float] = []

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.loop_start = time.perf_counter()

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.epoch_start = time.perf_counter()

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.epochs.append(time.perf_counter() - self.epoch_start)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.loop_seconds = time.perf_counter() - self.loop_start


def cli_objects(config: str, root: Path, *flags: str) -> PtrefCLI:
    """Trainer, model and data exactly as ``ptref fit --config <config> <flags>`` builds them (seeded)."""
    return PtrefCLI(LightningModule, LightningDataModule, subclass_mode_model=True, subclass_mode_data=True,
                    run=False, args=["--config", str(EXPERIMENTS / config), "--trainer.default_root_dir", str(root),
                                     *flags])


def cli_fit(config: str, root: Path, *flags: str) -> tuple[Timer, pl.Trainer]:
    """``ptref fit --config <config> <flags>``, timed."""
    cli = cli_objects(config, root, *flags)
    timer = Timer()
    cli.trainer.callbacks.append(timer)
    with contextlib.redirect_stdout(io.StringIO()):  # the progress bar and the final report
        cli.trainer.fit(cli.model, cli.datamodule)
    return timer, cli.trainer


def plain_epochs(model: LightningModule, images: torch.Tensor, labels: torch.Tensor, layout: str,
                 batch_size: int, epochs: int) -> list[float]:
    """The same model, optimizer and uint8 digits in a hand-written loop; seconds per epoch."""
    loader = batch_loader(TensorDataset(images, labels), batch_size=batch_size, shuffle=True)  # as the data module
    optimizer = model.configure_optimizers()
    model.train()
    seconds = []
    for _ in range(epochs):
        start = time.perf_counter()
        for x, y in loader:
            x = x.float().div(255)
            x = x.unsqueeze(1) if layout == "image" else x.flatten(1)
            loss = F.cross_entropy(model(x), F.one_hot(y, 10).float())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        seconds.append(time.perf_counter() - start)
    return seconds


def keras_run(workflow: str, data: str, n: int, epochs: int, batch_size: int) -> dict:
    """:mod:`ptref.bench_keras` in a fresh interpreter; its JSON line."""
    command = [sys.executable, "-m", "ptref.bench_keras", workflow, "--data-dir", data, "--n", str(n),
               "--epochs", str(epochs), "--batch-size", str(batch_size)]
    out = subprocess.run(command, capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": str(
        Path(__file__).resolve().parents[1])}).stdout
    return json.loads(out.strip().splitlines()[-1])


def mnist_throughput(args: argparse.Namespace, root: Path) -> list[dict]:
    from ptref.data.idx import find_idx_pair, read_images_and_labels

    images, labels = read_images_and_labels(*find_idx_pair([Path(args.mnist)], "t10k"))
    images, labels = images[: args.n], labels[: args.n]
    rows = []
    for workflow in args.workflows:
        config = WORKFLOWS[workflow]
        model_flags = [*(["--model.compile", "true"] if args.compile else []),
                       *(["--model.channels_last", "true"] if args.channels_last and workflow == "cnn" else [])]
        common = ["--data.data_dir", args.mnist, "--data.subset", str(args.n), "--data.batch_size",
                  str(args.batch_size), "--trainer.max_epochs", str(args.epochs), "--trainer.limit_val_batches", "0",
                  "--trainer.num_sanity_val_steps", "0", "--seed_everything", "0", *QUIET, *model_flags]

        def lightning() -> list[float]:
            return cli_fit(config, root / workflow, *common)[0].epochs

        def plain() -> list[float]:
            cli = cli_objects(config, root / workflow, *common)  # the same seeded model, not trained
            return plain_epochs(cli.model, images, labels, cli.datamodule.hparams.layout, args.batch_size, args.epochs)

        def keras() -> list[float]:
            return keras_run(workflow, args.mnist, args.n, args.epochs, args.batch_size)["epoch_seconds"]

        runners = {"lightning": lightning, "plain": plain, **({} if args.no_keras else {"keras": keras})}
        runs: dict[str, list[list[float]]] = {name: [] for name in runners}
        order = list(runners)
        for _ in range(args.repeats):  # rotate the order: the load changes on a shared machine
            for name in order:
                runs[name].append(runners[name]())
            order = order[1:] + order[:1]
        # Best of the repeats: on a shared machine the slower ones measured other people's load.
        row = {"workflow": workflow, "samples": args.n, "all_runs": {name: runs[name] for name in runners}}
        for name in runners:
            row[name] = min(runs[name], key=lambda epochs: statistics.median(epochs[args.warmup:]))
        rows.append(row)
        print(f"  {workflow}: " + ", ".join(
            f"{runner} {args.n / statistics.median(row[runner][args.warmup:]):,.0f}/s" for runner in runners), flush=True)
    return rows


def house_price_steps(args: argparse.Namespace, root: Path) -> dict:
    """Milliseconds per step of the 500-epoch full-batch house-price fit, three ways."""
    from ptref.data import HousePriceDataModule
    from ptref.models import LinearRegression

    result: dict[str, float] = {}
    for index, (name, flags) in enumerate(HOUSE_PRICE_VARIANTS.items()):
        timer, trainer = cli_fit("house_price.yaml", root / f"house_price_{index}", "--data.csv_path",
                                 args.house_price, "--seed_everything", "0", *flags)
        result[f"lightning: {name}"] = 1e3 * timer.loop_seconds / trainer.global_step
    data = HousePriceDataModule(csv_path=args.house_price)
    data.setup("fit")
    (x, y), = batch_loader(data.train_set, batch_size=len(data.train_set))
    model = LinearRegression(n_features=data.n_features)
    optimizer = model.configure_optimizers()
    start = time.perf_counter()
    for _ in range(500):
        loss = model.loss(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    result["plain loop"] = 1e3 * (time.perf_counter() - start) / 500
    if not args.no_keras:
        keras = keras_run("house_price", args.house_price, 0, 500, 0)
        result["keras fit (per epoch = step)"] = 1e3 * keras["fit_seconds"] / 500
    return result


def startup_seconds(args: argparse.Namespace, root: Path) -> dict:
    """Wall time of fresh interpreters doing progressively more (median of 3)."""
    commands = {
        "import ptref.cli": ["-c", "import ptref.cli"],
        "ptref --help": ["-m", "ptref", "--help"],
        "ptref fit house_price (1 epoch)": ["-m", "ptref", "fit", "--config", str(EXPERIMENTS / "house_price.yaml"),
                                            "--trainer.max_epochs", "1", "--trainer.default_root_dir",
                                            str(root / "startup"), *QUIET],
        "import tensorflow": ["-c", "import tensorflow"],
    }
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1]), "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = {}
    for name, command in commands.items():
        times = []
        for _ in range(3):
            start = time.perf_counter()
            subprocess.run([sys.executable, *command], capture_output=True, check=True, env=env)
            times.append(time.perf_counter() - start)
        result[name] = statistics.median(times)
    return result


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(prog="ptref bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    shared = Path(__file__).resolve().parents[2] / "shared" / "datasets"
    parser.add_argument("--mnist", default=str(shared / "mnist-t10k"), help="folder with the t10k IDX files")
    parser.add_argument("--house-price", default=str(shared / "house-price" / "data1.csv"))
    parser.add_argument("--workflows", nargs="+", default=list(WORKFLOWS), choices=list(WORKFLOWS))
    parser.add_argument("--n", type=int, default=6000, help="training digits (default 6000)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=4, help="epochs per run, warm-up included")
    parser.add_argument("--warmup", type=int, default=1, help="first epochs left out of the median")
    parser.add_argument("--repeats", type=int, default=1,
                        help="run each runner this often (order rotated) and keep its best run")
    parser.add_argument("--channels-last", action="store_true", help="the CNN with --model.channels_last true")
    parser.add_argument("--compile", action="store_true", help="every MNIST model with --model.compile true")
    parser.add_argument("--threads", type=int, help="torch.set_num_threads for the PyTorch runs")
    parser.add_argument("--no-keras", action="store_true", help="skip the TensorFlow side")
    parser.add_argument("--skip", nargs="*", default=[], choices=("mnist", "house_price", "startup"))
    parser.add_argument("--out", default="runs/bench", help="folder for bench.json, bench.md, bench.png")
    args = parser.parse_args(list(argv))
    if args.epochs <= args.warmup:
        parser.error("--epochs must exceed --warmup")
    if args.threads:
        torch.set_num_threads(args.threads)
    if "OMP_WAIT_POLICY" not in os.environ and os.getloadavg()[0] > (os.cpu_count() or 1) / 2:
        print("note: other processes are using the cores and OMP_WAIT_POLICY is unset; PyTorch's spin-waiting "
              "threads lose 10-100x to such load (docs/devices.md). For fair numbers start with "
              "OMP_WAIT_POLICY=PASSIVE.", file=sys.stderr)
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="lightning")
    tensorboard_without_tensorflow()  # as `ptref fit` does
    report = {"machine": {"cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                          "loadavg_start": os.getloadavg(), "python": platform.python_version(),
                          "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "unset"),
                          "torch": torch.__version__, "lightning": pl.__version__},
              "settings": {key: value for key, value in vars(args).items() if key not in ("out", "skip")}}
    with tempfile.TemporaryDirectory() as scratch:
        if "mnist" not in args.skip:
            print("MNIST throughput (samples/s):", flush=True)
            report["mnist"] = mnist_throughput(args, Path(scratch))
        if "house_price" not in args.skip:
            report["house_price_ms_per_step"] = house_price_steps(args, Path(scratch))
        if "startup" not in args.skip:
            report["startup_seconds"] = startup_seconds(args, Path(scratch))
    report["machine"]["loadavg_end"] = os.getloadavg()
    print(write_report(report, Path(args.out)))
    return 0
