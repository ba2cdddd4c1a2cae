"""Data parallel through Lightning: 2 CPU processes × batch 64 train the same weights as 1 process × batch 128.

The PyTorch counterpart of the course's ``tf.distribute.MirroredStrategy``: each process takes half of
every global batch, DDP averages the gradients, every replica applies the same update. On the CLI:
``ptref fit ... --trainer.strategy ddp --trainer.devices 2``. Here ``ddp_fork`` (same code path, no
re-launch of pytest) with the gloo backend.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import lightning.pytorch as pl
import numpy as np
from torch.utils.data import DataLoader, DistributedSampler

from ptref.data import HousePriceDataModule
from ptref.data.house_price import synthetic_houses
from ptref.models import LinearRegression

ROWS, GLOBAL_BATCH, EPOCHS = 512, 128, 3  # 4 steps per epoch, 12 updates
# Same 12 updates from the same global batches; only the summation order differs (each rank's mean over 64,
# then DDP's average of 2, vs one mean over 128): float32 round-off. Relative part 1e-6 (~8 ulp): measured
# <= 2.5e-7 on the weights of normal size. Absolute part 12 ulp of the largest weight, ~1 per update: an update
# is lr (0.1) times a 128-term mean rounded at the size of its terms (~sqrt(128) = 11 ulp of them), which are of
# the largest weight's order, so a weight near 0 (the bias, ~-7e-4 on centred prices) carries that round-off,
# not ulps of its own value.
RTOL = 1e-6
ATOL_ULPS_OF_LARGEST = 12


def weights_tolerance(single: np.ndarray) -> dict[str, float]:
    """``rtol``/``atol`` for numpy's |a − b| <= atol + rtol·|b|, with atol = 12 ulp (float32) of max |W|."""
    atol = ATOL_ULPS_OF_LARGEST * float(np.finfo(np.float32).eps) * float(np.abs(single).max())
    return {"rtol": RTOL, "atol": atol}


class InOrderHouses(HousePriceDataModule):
    """Split each global batch across ranks in order: rank r takes rows r, r + world, r + 2·world, ...

    Lightning's own injected ``DistributedSampler`` shuffles training data even for ``shuffle=False``;
    with it the global batches are not the single-process ones, so equivalence needs this sampler
    (and ``use_distributed_sampler=False``).
    """

    def train_dataloader(self) -> DataLoader:
        trainer = self.trainer
        sampler = DistributedSampler(self.train_set, num_replicas=trainer.world_size, rank=trainer.global_rank,
                                     shuffle=False)
        return DataLoader(self.train_set, batch_size=self.hparams.batch_size, sampler=sampler)


def houses_csv(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "houses.csv"
    np.savetxt(path, synthetic_houses(n=ROWS, seed=3).numpy(), delimiter=",", fmt="%.1f")
    return path


def train(folder: Path, processes: int, in_order: bool = True) -> np.ndarray:
    """Fit LinearRegression on ``processes`` CPU processes at the same global batch; return ``W``."""
    data_class = InOrderHouses if in_order else HousePriceDataModule
    data = data_class(csv_path=str(houses_csv(folder)), batch_size=GLOBAL_BATCH // processes)
    model = LinearRegression(n_features=2, learning_rate=0.1)
    trainer = pl.Trainer(
        accelerator="cpu", devices=processes, strategy="ddp_fork" if processes > 1 else "auto",
        use_distributed_sampler=not in_order, max_epochs=EPOCHS, logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, default_root_dir=folder,
    )
    trainer.fit(model, data)
    assert trainer.world_size == processes
    return model.W.detach().numpy()[:, 0].copy()


def test_two_processes_of_batch_64_equal_one_process_of_batch_128(tmp_path):
    single = train(tmp_path / "single", processes=1)
    parallel = train(tmp_path / "ddp", processes=2)
    assert np.abs(single).min() > 1e-4  # every weight really moved away from its zero init
    np.testing.assert_allclose(parallel, single, **weights_tolerance(single))


def test_lightnings_injected_sampler_would_shuffle_the_global_batches(tmp_path):
    """Why the test above brings its own sampler: with Lightning's the DDP run sees other batches."""
    single = train(tmp_path / "single", processes=1)
    shuffled = train(tmp_path / "ddp", processes=2, in_order=False)
    assert not np.allclose(shuffled, single, **weights_tolerance(single))



def test_the_cli_trains_an_mnist_workflow_with_ddp_and_writes_its_figures(tmp_path, mnist_t10k_dir):
    """The documented command, 2 CPU processes, loggers and figures on: no rank waits for another forever.

    The figures are written by rank 0 alone; reading the run folder through ``trainer.log_dir`` (a
    broadcast under DDP) made that rank wait for the others, which never came: a hang, hence the timeout.
    """
    repo = Path(__file__).resolve().parents[1]
    command = [sys.executable, "-m", "ptref", "fit", "--config", str(repo / "experiments" / "mnist_mlp_t10k.yaml"),
               "--data.data_dir", str(mnist_t10k_dir), "--data.subset", "256", "--data.batch_size", "64",
               "--trainer.max_epochs", "1", "--trainer.accelerator", "cpu", "--trainer.strategy", "ddp",
               "--trainer.devices", "2", "--trainer.enable_progress_bar", "false",
               "--trainer.default_root_dir", str(tmp_path)]
    result = subprocess.run(command, cwd=repo, capture_output=True, text=True, timeout=240,
                            env={**os.environ, "PYTHONPATH": str(repo)})
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert (tmp_path / "version_0" / "training_curves.png").stat().st_size > 1000
    assert (tmp_path / "version_0" / "label_distribution.png").stat().st_size > 1000
