"""ptref.callbacks.log_move: ``self.log`` skips Lightning's per-call device move of a metric already on the
value's device, logs the same values, and hands every other move to Lightning."""

from __future__ import annotations

import lightning.pytorch as pl
import torch
from lightning.pytorch.trainer.connectors.logger_connector.result import _ResultCollection, _ResultMetric
from torch.utils.data import DataLoader, TensorDataset

from ptref.callbacks import log_move
from ptref.callbacks.log_move import SkipResidentLogMove


def logged_metric() -> _ResultMetric:
    results = _ResultCollection(training=True)
    results.log("training_step", "loss", torch.tensor(0.5), on_step=True, on_epoch=True, batch_size=4)
    return results["training_step.loss"]


def test_a_resident_metric_is_left_as_it_is_and_lightnings_own_move_rebuilds_it():
    metric = logged_metric()
    meta = metric.meta
    metric.to(torch.device("cpu"))
    assert metric.meta is not meta  # Lightning's to() rebuilds the attributes (a copy of the metadata)
    log_move.install()
    try:
        meta = metric.meta
        assert metric.to(torch.device("cpu")) is metric and metric.meta is meta
    finally:
        log_move.uninstall()


def test_a_move_to_another_device_still_moves():
    metric = logged_metric()
    log_move.install()
    try:
        metric.to(torch.device("meta"))
    finally:
        log_move.uninstall()
    assert metric.value.device.type == "meta" and metric.cumulated_batch_size.device.type == "meta"


class Tiny(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layer = torch.nn.Linear(3, 1)

    def training_step(self, batch: list[torch.Tensor], batch_idx: int) -> torch.Tensor:
        x, y = batch
        loss = torch.nn.functional.mse_loss(self.layer(x), y)
        self.log("loss", loss, on_step=True, on_epoch=True, batch_size=len(x))
        self.log("sum", x.sum(), on_step=False, on_epoch=True, reduce_fx="sum", batch_size=len(x))
        return loss

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.1)


def fit(callbacks: list[pl.Callback]) -> dict[str, torch.Tensor]:
    torch.manual_seed(0)
    data = TensorDataset(torch.randn(32, 3), torch.randn(32, 1))
    trainer = pl.Trainer(max_epochs=2, callbacks=callbacks, logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(Tiny(), DataLoader(data, batch_size=8))
    return dict(trainer.callback_metrics)


def test_a_fit_logs_the_same_values_with_the_lever_and_restores_lightnings_move():
    original = _ResultMetric.to
    plain, levered = fit([]), fit([SkipResidentLogMove()])
    assert plain.keys() == levered.keys()
    for key in plain:
        assert torch.equal(plain[key], levered[key]), key
    assert _ResultMetric.to is original


class Failing(Tiny):
    def training_step(self, batch: list[torch.Tensor], batch_idx: int) -> torch.Tensor:
        super().training_step(batch, batch_idx)
        raise RuntimeError("a failing step")


def test_a_failed_fit_restores_lightnings_move():
    original = _ResultMetric.to
    trainer = pl.Trainer(max_epochs=1, callbacks=[SkipResidentLogMove()], logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False)
    data = TensorDataset(torch.randn(8, 3), torch.randn(8, 1))
    try:
        trainer.fit(Failing(), DataLoader(data, batch_size=8))
    except RuntimeError as error:
        assert "a failing step" in str(error)
    assert _ResultMetric.to is original


def test_resident_sees_tensors_in_attributes_and_one_level_into_containers():
    from ptref.callbacks.log_move import resident

    cpu, meta = torch.device("cpu"), torch.device("meta")
    assert resident(logged_metric(), cpu) and not resident(logged_metric(), meta)
    for extra, expected in (
        (torch.zeros(1, device="meta"), False),  # a tensor elsewhere
        ([torch.zeros(1), torch.zeros(1, device="meta")], False),  # in a list
        ((torch.zeros(1),), True),
        ({"a": torch.zeros(1, device="meta")}, False),  # in a dict
        ({"a": {"b": torch.zeros(1)}}, False),  # deeper than the check walks: left to Lightning
        (torch.nn.Linear(1, 1), False),  # a module: left to Lightning
        ([], True), ({}, True), ("text", True), (3, True), (None, True),
    ):
        metric = logged_metric()
        object.__setattr__(metric, "extra", extra)  # past nn.Module's registration
        assert resident(metric, cpu) is expected, extra
