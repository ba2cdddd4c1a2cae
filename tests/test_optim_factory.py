"""Building ptref optimizers: by Keras name, from a Keras config, from the Lightning CLI; schedules in Lightning."""

from __future__ import annotations

import sys
from unittest import mock

import pytest
import torch
from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.cli import LightningCLI
from helpers import QUIET
from torch.utils.data import DataLoader, TensorDataset

import ptref.optim as optim
from ptref.cli import main as ptref_main
from ptref.optim.schedules import CosineDecay, ExponentialDecay, KerasScheduleLR



def params() -> list[torch.nn.Parameter]:
    return [torch.nn.Parameter(torch.zeros(3))]


def test_get_by_keras_name_gives_keras_defaults():
    opt = optim.get("Adam")(params())
    assert isinstance(opt, optim.Adam)
    group = opt.param_groups[0]
    assert (group["lr"], group["beta_1"], group["beta_2"], group["epsilon"]) == (0.001, 0.9, 0.999, 1e-7)
    assert optim.get("sgd")(params()).param_groups[0]["lr"] == 0.01
    assert optim.get("rmsprop")(params()).param_groups[0]["rho"] == 0.9


def test_get_overrides_win_over_the_identifier():
    opt = optim.get({"class_name": "SGD", "config": {"learning_rate": 0.5, "momentum": 0.1}}, momentum=0.9)(params())
    assert (opt.param_groups[0]["lr"], opt.param_groups[0]["momentum"]) == (0.5, 0.9)


def test_get_reads_a_keras_optimizer_config_with_a_schedule():
    # the shape of keras.optimizers.serialize(keras.optimizers.Adam(ExponentialDecay(...), clipnorm=1.0))
    config = {
        "module": "keras.optimizers",
        "class_name": "Adam",
        "registered_name": None,
        "config": {
            "name": "adam", "weight_decay": None, "clipnorm": 1.0, "global_clipnorm": None, "clipvalue": None,
            "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None, "loss_scale_factor": None,
            "gradient_accumulation_steps": None, "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-6, "amsgrad": True,
            "learning_rate": {
                "module": "keras.optimizers.schedules", "class_name": "ExponentialDecay", "registered_name": None,
                "config": {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5, "staircase": True,
                           "name": "ExponentialDecay"},
            },
        },
    }
    opt = optim.get(config)(params())
    assert isinstance(opt, optim.Adam) and opt.clipnorm == 1.0
    assert (opt.param_groups[0]["beta_1"], opt.param_groups[0]["amsgrad"]) == (0.8, True)
    assert opt.learning_rate_schedule(25) == pytest.approx(0.025)


def test_get_builds_the_keras_base_options_and_every_keras_name():
    config = {"use_ema": True, "ema_momentum": 0.9, "ema_overwrite_frequency": 5, "gradient_accumulation_steps": 4,
              "loss_scale_factor": 16.0, "name": "adam"}
    opt = optim.get({"class_name": "Adam", "config": config})(params())
    assert (opt.use_ema, opt.ema_momentum, opt.ema_overwrite_frequency) == (True, 0.9, 5)
    assert (opt.gradient_accumulation_steps, opt.loss_scale_factor) == (4, 16.0)
    for name in ("ftrl", "lion", "lamb", "adafactor"):
        assert type(optim.get(name)(params())).__name__.lower() == name
    with pytest.raises(ValueError, match="unknown optimizer"):
        optim.get("muonn")


def test_get_accepts_any_optimizer_class():
    opt = optim.get(torch.optim.AdamW, lr=0.02)(params())
    assert type(opt) is torch.optim.AdamW and opt.param_groups[0]["lr"] == 0.02


class Tiny(LightningModule):
    """y = Wx + b on 8 fixed samples, 4 batches per epoch."""

    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(2, 1)
        self.lrs: list[float] = []

    def training_step(self, batch, batch_idx):
        x, y = batch
        return torch.nn.functional.mse_loss(self.layer(x), y)

    def on_train_batch_start(self, batch, batch_idx):
        self.lrs.append(self.trainer.optimizers[0].param_groups[0]["lr"])

    def train_dataloader(self):
        g = torch.Generator().manual_seed(0)
        return DataLoader(TensorDataset(torch.randn(8, 2, generator=g), torch.randn(8, 1, generator=g)), batch_size=2)


def run_cli(*args: str) -> LightningCLI:
    with mock.patch.object(sys, "argv", ["ptref"]):  # the CLI must read only `args`, not pytest's argv
        cli = LightningCLI(Tiny, run=False, save_config_callback=None, args=[*args, "--trainer.max_steps", "3", *QUIET,
                                 "--trainer.logger", "false", "--trainer.enable_checkpointing", "false"])
    cli.trainer.fit(cli.model)
    return cli


def test_lightning_cli_builds_a_ptref_optimizer():
    cli = run_cli("--optimizer", "ptref.optim.Adam", "--optimizer.learning_rate", "0.01", "--optimizer.beta_2", "0.9")
    opt = cli.trainer.optimizers[0]
    assert isinstance(opt, optim.Adam) and opt.iterations == 3
    assert (opt.param_groups[0]["lr"], opt.param_groups[0]["beta_2"]) == (0.01, 0.9)


def test_lightning_cli_passes_the_keras_base_options():
    cli = run_cli(
        "--optimizer", "ptref.optim.Lion", "--optimizer.use_ema", "true", "--optimizer.ema_momentum", "0.5",
        "--optimizer.gradient_accumulation_steps", "2",
    )
    opt = cli.trainer.optimizers[0]
    assert (opt.use_ema, opt.ema_momentum, opt.gradient_accumulation_steps) == (True, 0.5, 2)
    assert (opt.calls, opt.iterations) == (3, 1)


def test_lightning_cli_takes_a_keras_schedule_as_learning_rate():
    cli = run_cli(
        "--optimizer", "ptref.optim.SGD",
        "--optimizer.learning_rate", "ptref.optim.schedules.ExponentialDecay",
        "--optimizer.learning_rate.initial_learning_rate", "0.1",
        "--optimizer.learning_rate.decay_steps", "1",
        "--optimizer.learning_rate.decay_rate", "0.5",
    )
    assert cli.model.lrs == pytest.approx([0.1, 0.05, 0.025])
    assert cli.trainer.optimizers[0].param_groups[0]["lr"] == pytest.approx(0.0125)


def test_ptref_fit_trains_with_a_ptref_optimizer_and_checkpoints_its_iterations(tmp_path):
    with mock.patch.object(sys, "argv", ["ptref"]):
        ptref_main([
            "fit", "--model", "lightning.pytorch.demos.boring_classes.BoringModel",
            "--data", "lightning.pytorch.demos.boring_classes.BoringDataModule",
            "--optimizer", "ptref.optim.Adam", "--optimizer.learning_rate", "0.01",
            "--trainer.max_steps", "3", "--trainer.logger", "false", "--trainer.enable_progress_bar", "false",
            "--trainer.enable_model_summary", "false", "--trainer.default_root_dir", str(tmp_path),
        ])
    (checkpoint,) = tmp_path.glob("**/*.ckpt")
    state = torch.load(checkpoint, weights_only=True)["optimizer_states"][0]
    assert state["state"]["iterations"] == 3
    assert state["param_groups"][0]["lr"] == 0.01 and state["param_groups"][0]["beta_1"] == 0.9  # Keras names


class ScheduledTiny(Tiny):
    """A native torch optimizer driven by a Keras schedule through Lightning's scheduler loop."""

    schedule = CosineDecay(0.1, decay_steps=5, warmup_target=0.2, warmup_steps=2)

    def configure_optimizers(self):
        opt = torch.optim.SGD(self.parameters(), lr=1.0)
        return {"optimizer": opt, "lr_scheduler": self.schedule.lr_scheduler(opt)}


def test_schedule_as_lightning_scheduler_steps_per_batch_across_epochs():
    model = ScheduledTiny()
    Trainer(max_epochs=3, logger=False, enable_checkpointing=False, enable_progress_bar=False,
            enable_model_summary=False).fit(model)
    assert model.lrs == pytest.approx([model.schedule(step) for step in range(12)])


def test_keras_schedule_lr_is_a_plain_torch_scheduler():
    opt = torch.optim.SGD(params(), lr=1.0)
    scheduler = KerasScheduleLR(opt, ExponentialDecay(0.1, 2, 0.5, staircase=True))
    seen = []
    for _ in range(5):
        seen.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    assert seen == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])
