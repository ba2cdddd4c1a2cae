"""Training throughput of ptref (``ptref fit``) vs a plain PyTorch loop vs Keras ``fit``, in one run.

From the repository root, on a machine with no other job: ``PYTHONPATH=. python benchmarks/bench.py --repeats 5
--out runs/bench``. Leave ``OMP_WAIT_POLICY`` unset for the comparison with Keras: ``PASSIVE`` slows PyTorch's
parallel regions and not TensorFlow's thread pool (``wait_policy.py``); it is for PyTorch-vs-PyTorch runs
under load.

For each MNIST workflow (the course's softmax, MLP and CNN; Adam 1e-3, batch 128) on the same first ``--n`` real
MNIST t10k digits:

- **ptref**: ``ptref fit --config experiments/mnist_<workflow>_t10k.yaml`` (``ptref.cli.main``: the same
  entry point, defaults, speed levers, loggers and checkpoints; validation and the progress bar off), timed per
  training epoch;
- **plain**: the same model (built from the same config), the same optimizer, the same uint8 digits and the
  same memory layout in a hand-written loop (loader → normalize → forward → loss → backward → step);
- **keras**: the course's Keras model with ``model.fit`` on the same digits (``bench_keras.py``, in its own
  process so TensorFlow never shares the interpreter).

The three run interleaved, ``--repeats`` rounds, the order rotated each round (a shared machine's load moves);
each run's throughput is samples/s from its median epoch after ``--warmup``; reported: the median over rounds of
each throughput, and the median over rounds of the ratios taken within a round. For the CNN also the achieved
GFLOP/s (the FLOPs of one training step counted by ``torch.utils.flop_counter``) and its fraction of this CPU's
float32 ceiling, measured here as the best rate of a 2048² matrix product (MKL's or oneDNN's, before every round:
the best moment of a shared machine counts). Also the house-price fit's cost per epoch
(the real CLI, then with its parts switched off) and startup times. Writes ``bench.json``, ``bench.md`` and
``bench.png`` to ``--out``. A script that prints numbers, never a test.
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
from collections.abc import Callable, Sequence
from pathlib import Path

import lightning.pytorch as pl
import torch
from lightning.pytorch import LightningModule
from report import write_report
from torch.nn import functional as F
from torch.utils.data import TensorDataset
from torch.utils.flop_counter import FlopCounterMode

from ptref.callbacks.speed import keep_freed_memory, to_channels_last
from ptref.cli import build_cli, tensorboard_without_tensorflow
from ptref.cli import main as ptref_main
from ptref.data.batches import batch_loader
from ptref.data.idx import find_idx_pair, read_images_and_labels
from shared_data import shared_dataset

REPO = Path(__file__).resolve().parents[1]
EXPERIMENTS = REPO / "experiments"
WORKFLOWS = {"softmax": "mnist_softmax_t10k.yaml", "mlp": "mnist_mlp_t10k.yaml", "cnn": "mnist_cnn_t10k.yaml"}
QUIET = ["--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false"]
HOUSE_PRICE_VARIANTS = {  # each switches off one more part of the real CLI run
    "ptref fit (CSV + TensorBoard logs, checkpoints every 100 epochs)": QUIET,
    "- loggers": [*QUIET, "--trainer.logger", "false"],
    "- loggers, checkpointing": [*QUIET, "--trainer.logger", "false", "--trainer.callbacks", "[]",
                                 "--trainer.enable_checkpointing", "false"],
}


class EpochTimer(pl.Callback):
    """Seconds of each training epoch (:attr:`epochs`, this fit's) and of the training loop, kept in :attr:`runs`
    (one entry per fit).

    An epoch runs from its ``on_train_epoch_start`` to the next one's (the last: to ``on_train_end``), so the
    epoch-end work of every callback and logger counts: Lightning runs checkpoint callbacks after all others, and
    the loggers' epoch-end writes after the callbacks' ``on_train_epoch_end``.
    """

    runs: list[dict] = []

    def on_train_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.starts: list[float] = []
        self.loop_start = time.perf_counter()

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self.starts.append(time.perf_counter())

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        now = time.perf_counter()
        marks = [*self.starts, now]
        self.epochs = [end - start for start, end in zip(marks, marks[1:])]
        EpochTimer.runs.append({"epochs": self.epochs, "loop_seconds": now - self.loop_start,
                                "steps": trainer.global_step})


def ptref_fit(config: str, root: Path, *flags: str) -> dict:
    """``ptref fit --config <config> <flags>`` through ptref's own entry point, timed by :class:`EpochTimer`."""
    argv = ["fit", "--config", str(EXPERIMENTS / config), "--trainer.default_root_dir", str(root), *flags,
            "--trainer.callbacks+=__main__.EpochTimer"]
    with contextlib.redirect_stdout(io.StringIO()):  # the final report of the fit
        status = ptref_main(argv)
    if status:
        raise RuntimeError(f"ptref {' '.join(argv)} exited with {status}")
    return EpochTimer.runs[-1]


def cli_model(config: str, root: Path, *flags: str) -> LightningModule:
    """The seeded, untrained model ``ptref fit --config <config> <flags>`` would train."""
    return build_cli(["--config", str(EXPERIMENTS / config), "--trainer.default_root_dir", str(root), *flags],
                     run=False).model


def plain_epochs(model: LightningModule, images: torch.Tensor, labels: torch.Tensor, image: bool, batch_size: int,
                 epochs: int) -> list[float]:
    """The model, its optimizer and uint8 digits in a hand-written loop (channels-last as ptref's default)."""
    if image:
        to_channels_last(model)
    loader = batch_loader(TensorDataset(images, labels), batch_size=batch_size, shuffle=True)  # as the data module
    optimizer = model.configure_optimizers()
    model.train()
    seconds = []
    for _ in range(epochs):
        start = time.perf_counter()
        for x, y in loader:
            x = x.float().div(255)
            x = x.unsqueeze(1) if image else x.flatten(1)
            loss = F.cross_entropy(model(x), F.one_hot(y, 10).float())
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        seconds.append(time.perf_counter() - start)
    return seconds


def keras_run(workflow: str, data: str, n: int, epochs: int, batch_size: int) -> dict:
    """``bench_keras.py`` in a fresh interpreter; its JSON line."""
    command = [sys.executable, str(Path(__file__).with_name("bench_keras.py")), workflow, "--data-dir", data,
               "--n", str(n), "--epochs", str(epochs), "--batch-size", str(batch_size)]
    out = subprocess.run(command, capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(REPO)}).stdout
    return json.loads(out.strip().splitlines()[-1])


def training_flops_per_sample(model: LightningModule, image: bool, batch_size: int) -> float:
    """FLOPs of one training step (forward + backward) per sample, as ``torch.utils.flop_counter`` counts them.

    Counted in float64, where every layer runs through ATen's own ops (the counter has no formula for oneDNN's
    fused convolution, which ptref's float32 CPU path calls); the count does not depend on the dtype.
    """
    model = model.double()
    x = torch.rand(batch_size, 1, 28, 28) if image else torch.rand(batch_size, 784)
    with FlopCounterMode(display=False) as counter:
        F.cross_entropy(model(x.double()), torch.zeros(batch_size, dtype=torch.long)).backward()
    return counter.get_total_flops() / batch_size


def sgemm_gflops(size: int = 2048, repeats: int = 10) -> float:
    """This CPU's float32 matrix-multiply rate (GFLOP/s) with torch's threads: the ceiling.

    The best of ``repeats`` products by MKL (``torch.mm``) and by oneDNN (what TensorFlow and :class:`ptref.nn.Dense`
    call; on AMD processors MKL takes a slower path, so oneDNN's rate is the one that says what the CPU can do).
    """
    a, b = torch.rand(size, size), torch.rand(size, size)
    products = [lambda: torch.mm(a, b)]
    if torch.backends.mkldnn.is_available():
        products.append(lambda: torch.ops.mkldnn._linear_pointwise(a, b, None, "none", [], ""))
    best = float("inf")
    for product in products:
        product()
        for _ in range(repeats):
            start = time.perf_counter()
            product()
            best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


CEILING: list[float] = []  # sgemm GFLOP/s, measured before every round: the machine's best moment counts


def interleaved(runners: dict[str, Callable[[], list[float]]], repeats: int) -> dict[str, list[list[float]]]:
    """Each runner's epoch times, ``repeats`` rounds, the order rotated every round."""
    runs: dict[str, list[list[float]]] = {name: [] for name in runners}
    order = list(runners)
    for _ in range(repeats):
        CEILING.append(sgemm_gflops())
        for name in order:
            runs[name].append(runners[name]())
        order = order[1:] + order[:1]
    return runs


def mnist_throughput(args: argparse.Namespace, root: Path) -> list[dict]:
    images, labels = read_images_and_labels(*find_idx_pair([Path(args.mnist)], "t10k"))
    images, labels = images[: args.n], labels[: args.n]
    rows = []
    for workflow in args.workflows:
        config = WORKFLOWS[workflow]
        common = ["--data.data_dir", args.mnist, "--data.subset", str(args.n), "--data.batch_size",
                  str(args.batch_size), "--trainer.max_epochs", str(args.epochs), "--trainer.limit_val_batches", "0",
                  "--trainer.num_sanity_val_steps", "0", "--seed_everything", "0", *QUIET, *args.ptref_flags]
        image = workflow == "cnn"
        folder = root / workflow
        runners = {  # each called within this iteration (interleaved below), so the loop's variables are current
            "ptref": lambda: ptref_fit(config, folder, *common)["epochs"],  # noqa: B023
            "plain": lambda: plain_epochs(cli_model(config, folder, *common), images, labels, image,  # noqa: B023
                                          args.batch_size, args.epochs),
        }
        if not args.no_keras:
            runners["keras"] = lambda: keras_run(workflow, args.mnist, args.n, args.epochs,  # noqa: B023
                                                 args.batch_size)["epoch_seconds"]
        row = {"workflow": workflow, "samples": args.n, "warmup": args.warmup,
               "runs": interleaved(runners, args.repeats)}
        if image:
            row["training_flops_per_sample"] = training_flops_per_sample(cli_model(config, root, *common), image,
                                                                         args.batch_size)
        rows.append(row)
        rates = {name: [args.n / statistics.median(run[args.warmup:]) for run in runs]
                 for name, runs in row["runs"].items()}
        print(f"  {workflow}: " + ", ".join(f"{name} {statistics.median(rate):,.0f}/s" for name, rate in rates.items()),
              flush=True)
    return rows


def house_price_per_epoch(args: argparse.Namespace, root: Path) -> dict:
    """Milliseconds per epoch (= one full-batch step) of the 500-epoch house-price fit: CLI variants and the plain
    loop in ``--repeats`` interleaved rounds (medians over rounds), Keras once."""
    from ptref.data import HousePriceDataModule
    from ptref.models import LinearRegression

    data = HousePriceDataModule(csv_path=args.house_price)
    data.setup("fit")
    (x, y), = batch_loader(data.train_set, batch_size=len(data.train_set))

    def plain() -> float:
        model = LinearRegression(n_features=data.n_features)
        optimizer = model.configure_optimizers()
        start = time.perf_counter()
        for _ in range(500):
            loss = model.loss(model(x), y)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return 1e3 * (time.perf_counter() - start) / 500

    rounds: dict[str, list[float]] = {}
    for repeat in range(args.repeats):
        for index, (name, flags) in enumerate(HOUSE_PRICE_VARIANTS.items()):
            run = ptref_fit("house_price.yaml", root / f"house_price_{repeat}_{index}", "--data.csv_path",
                            args.house_price, "--seed_everything", "0", *flags)
            rounds.setdefault(name, []).append(1e3 * statistics.median(run["epochs"][args.warmup:]))
            rounds.setdefault(f"{name}: whole loop / epochs", []).append(1e3 * run["loop_seconds"] / run["steps"])
        rounds.setdefault("plain loop", []).append(plain())
    result = {name: statistics.median(values) for name, values in rounds.items()}
    if not args.no_keras:
        keras = keras_run("house_price", args.house_price, 0, 500, 0)
        result["keras fit"] = 1e3 * statistics.median(keras["epoch_seconds"][args.warmup:])
    return result


def startup_seconds(root: Path) -> dict:
    """Wall time of fresh interpreters doing progressively more (median of 3)."""
    commands = {
        "import ptref.cli": ["-c", "import ptref.cli"],
        "ptref --help": ["-m", "ptref", "--help"],
        "ptref fit house_price (1 epoch)": ["-m", "ptref", "fit", "--config", str(EXPERIMENTS / "house_price.yaml"),
                                            "--trainer.max_epochs", "1", "--trainer.default_root_dir",
                                            str(root / "startup"), *QUIET],
        "import tensorflow": ["-c", "import tensorflow"],
    }
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = {}
    for name, command in commands.items():
        times = []
        for _ in range(3):
            start = time.perf_counter()
            subprocess.run([sys.executable, *command], capture_output=True, check=True, env=env)
            times.append(time.perf_counter() - start)
        result[name] = statistics.median(times)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks/bench.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mnist", default=str(shared_dataset("mnist-t10k")), help="folder with the t10k IDX files")
    parser.add_argument("--house-price", default=str(shared_dataset("house-price", "data1.csv")))
    parser.add_argument("--workflows", nargs="+", default=list(WORKFLOWS), choices=list(WORKFLOWS))
    parser.add_argument("--n", type=int, default=6000, help="training digits (default 6000)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=4, help="epochs per run, warm-up included")
    parser.add_argument("--warmup", type=int, default=1, help="first epochs left out of the median")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds (order rotated)")
    parser.add_argument("--ptref-flags", nargs=argparse.REMAINDER, default=[],
                        help="more `ptref fit` options for the ptref and plain runs (last on the line), e.g. "
                             "--trainer.callbacks+=ptref.callbacks.speed.Compile")
    parser.add_argument("--threads", type=int, help="torch.set_num_threads for the PyTorch runs")
    parser.add_argument("--no-keras", action="store_true", help="skip the TensorFlow side")
    parser.add_argument("--skip", nargs="*", default=[], choices=("mnist", "house_price", "startup"))
    parser.add_argument("--out", default="runs/bench", help="folder for bench.json, bench.md, bench.png")
    args = parser.parse_args(argv)
    if args.epochs <= args.warmup:
        parser.error("--epochs must exceed --warmup")
    if args.threads:
        torch.set_num_threads(args.threads)
    policy = os.environ.get("OMP_WAIT_POLICY", "").upper()
    if not policy and os.getloadavg()[0] > (os.cpu_count() or 1) / 2:
        print("note: other processes are using the cores and OMP_WAIT_POLICY is unset; PyTorch's spin-waiting "
              "threads lose 10-100x to such load (docs/bench/bench.md). Wait for a quiet machine, or compare "
              "PyTorch runs with each other under OMP_WAIT_POLICY=PASSIVE.", file=sys.stderr)
    if policy == "PASSIVE" and not args.no_keras:
        print("note: OMP_WAIT_POLICY=PASSIVE makes every parallel region of PyTorch's wake a sleeping thread; on the "
              "tiny models that can double a step, and TensorFlow's own thread pool ignores the setting: the ratios "
              "to Keras then compare a handicapped PyTorch (docs/bench/bench.md).", file=sys.stderr)
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="lightning")
    tensorboard_without_tensorflow()  # as `ptref fit` does
    keep_freed_memory()  # the allocator `ptref fit` sets (process-wide): the plain loop gets it too
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
            report["house_price_ms_per_epoch"] = house_price_per_epoch(args, Path(scratch))
        if "startup" not in args.skip:
            report["startup_seconds"] = startup_seconds(Path(scratch))
    report["machine"]["loadavg_end"] = os.getloadavg()
    report["machine"]["sgemm_gflops"] = max([*CEILING, sgemm_gflops()])
    print(write_report(report, Path(args.out)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
