"""Where Lightning's per-step time goes on a tiny model: a plain loop, then a Lightning ``Trainer`` with ptref's
parts added one at a time, interleaved.

From the repository root: ``OMP_WAIT_POLICY=PASSIVE PYTHONPATH=. python benchmarks/step_overhead.py softmax``
(or ``mlp``, ``cnn``, ``house_price``: the 47-row full-batch fit, where a step is an epoch).

Variants (each adds to the previous): a plain loop (the model's own ``training_step``, the same loader, optimizer
and normalization); a bare ``Trainer`` (no logger, checkpointing, progress bar or summary) with the model's
``self.log`` calls switched off: Lightning's floor; the same with the model's logging; + the callbacks ``ptref fit``
always adds (RNG state, divergence guard, learning-rate check, summary, Keras loss-scale and EMA hooks, the speed
levers, SIGTERM save, fit-completed mark); + its CSV and TensorBoard loggers; + the experiment's checkpoints (MNIST:
every epoch; house price: every 100 epochs and the last, with its ``HousePriceReport``). Every variant runs with
ptref's allocator setting and, for the CNN, channels-last memory. Printed: ms per step (median over rounds of each
run's median epoch after the first) and the same-round difference to the previous variant. The last row is the
real ``ptref fit`` of the experiment (its own config: what the variants before it leave out, such as the config's
``log_every_n_steps``, shows there).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import statistics
import tempfile
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import lightning.pytorch as pl
from lightning.pytorch import LightningDataModule, LightningModule
from torch.nn import functional as F

from bench import QUIET, EpochTimer, ptref_fit

from ptref.callbacks.checkpoint import ModelCheckpoint
from ptref.callbacks.divergence import DivergenceGuard
from ptref.callbacks.house_price import HousePriceReport
from ptref.callbacks.keras import FinalizeEMA, ScaleLoss
from ptref.callbacks.preemption import SaveOnSIGTERM
from ptref.callbacks.rng_state import RNGStateCheckpoint
from ptref.callbacks.run_folder import MarkFitCompleted
from ptref.callbacks.speed import keep_freed_memory, to_channels_last
from ptref.callbacks.summary import FlatModelSummary
from ptref.callbacks.trainable import LearningRateCheck
from ptref.cli import SPEED_DEFAULTS, build_cli, tensorboard_without_tensorflow
from ptref.loggers import CSVLogger, TensorBoardLogger
from ptref.models import LinearRegression
from shared_data import shared_dataset

EXPERIMENTS = Path(__file__).resolve().parents[1] / "experiments"
VARIANTS = ("plain loop", "bare Trainer, no self.log", "bare Trainer", "+ ptref's fixed callbacks",
            "+ CSV and TensorBoard loggers", "+ the experiment's checkpoints", "ptref fit (the whole CLI run)")


def experiment(workflow: str, mnist: str, n: int, house_price: str) -> tuple[str, list[str]]:
    """The experiment's config file and the flags that point it at the data."""
    if workflow == "house_price":
        return "house_price.yaml", ["--data.csv_path", house_price, "--seed_everything", "0"]
    return f"mnist_{workflow}_t10k.yaml", ["--data.data_dir", mnist, "--data.subset", str(n), "--seed_everything", "0"]


def build(workflow: str, mnist: str, n: int, house_price: str) -> tuple[LightningModule, LightningDataModule]:
    """Model and data of the experiment; the model channels-last in every variant (as ptref's default)."""
    config, flags = experiment(workflow, mnist, n, house_price)
    cli = build_cli(["--config", str(EXPERIMENTS / config), *flags], run=False)
    if workflow == "cnn":
        to_channels_last(cli.model)
    return cli.model, cli.datamodule


def no_logging(model: LightningModule) -> None:
    model.log = model.log_dict = lambda *args, **kwargs: None


def plain(model: LightningModule, data: LightningDataModule, epochs: int) -> list[float]:
    data.setup("fit")
    loader = data.train_dataloader()
    optimizer = model.configure_optimizers()
    no_logging(model)  # no Trainer to log to
    seconds = []
    for _ in range(epochs):
        start = time.perf_counter()
        for index, batch in enumerate(loader):
            if hasattr(data, "normalize"):  # what the MNIST data module's on_after_batch_transfer makes of a batch
                images, labels = batch
                batch = [data.normalize(images), F.one_hot(labels, 10).float()]
            loss = model.training_step(batch, index)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        seconds.append(time.perf_counter() - start)
    return seconds


def lightning(model: LightningModule, data: LightningDataModule, epochs: int, level: int, root: Path) -> list[float]:
    timer = EpochTimer()
    callbacks: list[pl.Callback] = [timer]
    if level == 1:
        no_logging(model)
    if level >= 3:
        callbacks += [RNGStateCheckpoint(), DivergenceGuard(), LearningRateCheck(), FlatModelSummary(), ScaleLoss(),
                      FinalizeEMA(), *(lever() for lever in SPEED_DEFAULTS), SaveOnSIGTERM(), MarkFitCompleted()]
    loggers = False
    if level >= 4:
        loggers = [CSVLogger(root, name="", version=0), TensorBoardLogger(root, name="", version=0)]
    if level >= 5:
        if isinstance(model, LinearRegression):  # as house_price.yaml
            callbacks += [ModelCheckpoint(dirpath=root / "checkpoints", save_last=True, every_n_epochs=100),
                          HousePriceReport()]
        else:
            callbacks.append(ModelCheckpoint(dirpath=root / "checkpoints", save_last=True))
    trainer = pl.Trainer(accelerator="cpu", max_epochs=epochs, logger=loggers, callbacks=callbacks,
                         enable_checkpointing=level >= 5, enable_progress_bar=False, enable_model_summary=False,
                         limit_val_batches=0, num_sanity_val_steps=0, default_root_dir=root)
    with contextlib.redirect_stdout(io.StringIO()):
        trainer.fit(model, data)
    return timer.epochs


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks/step_overhead.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workflow", choices=("softmax", "mlp", "cnn", "house_price"))
    parser.add_argument("--mnist", default=str(shared_dataset("mnist-t10k")))
    parser.add_argument("--house-price", default=str(shared_dataset("house-price", "data1.csv")))
    parser.add_argument("--n", type=int, default=6000)
    parser.add_argument("--epochs", type=int, default=None, help="default: 3 (MNIST), 500 (house price)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    tensorboard_without_tensorflow()
    keep_freed_memory()  # process-wide: every variant runs with ptref's allocator setting
    house = args.workflow == "house_price"
    epochs = args.epochs or (500 if house else 3)
    steps = 1 if house else -(-args.n // 128)
    ms: dict[str, list[float]] = {name: [] for name in VARIANTS}
    with tempfile.TemporaryDirectory() as scratch:
        for round_ in range(args.rounds):
            for level, name in enumerate(VARIANTS):
                folder = Path(scratch) / f"{round_}_{level}"
                if level == len(VARIANTS) - 1:
                    config, flags = experiment(args.workflow, args.mnist, args.n, args.house_price)
                    seconds = ptref_fit(config, folder, *flags, *QUIET, "--trainer.max_epochs", str(epochs),
                                        "--trainer.limit_val_batches", "0",
                                        "--trainer.num_sanity_val_steps", "0")["epochs"]
                else:
                    model, data = build(args.workflow, args.mnist, args.n, args.house_price)
                    seconds = (plain(model, data, epochs) if level == 0 else
                               lightning(model, data, epochs, level, folder))
                ms[name].append(1e3 * statistics.median(seconds[1:]) / steps)
    print(f"| {args.workflow}: variant | ms per step | added by this part |\n|---|---|---|")
    previous = None
    for name in VARIANTS:
        added = "" if previous is None else f"{statistics.median(a - b for a, b in zip(ms[name], ms[previous])):+.3f}"
        print(f"| {name} | {statistics.median(ms[name]):.3f} | {added} |")
        previous = name
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
