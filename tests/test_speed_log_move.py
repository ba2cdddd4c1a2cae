"""ptref.callbacks.log_move: ``self.log`` skips Lightning's per-call device move of a metric already on the
value's device, logs the same values, and hands every other move to Lightning."""

from __future__ import annotations

import pytest
import torch
from lightning.pytorch.trainer.connectors.logger_connector.result import _ResultCollection, _ResultMetric

from helpers import Failing, fit_tiny
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


def test_a_fit_logs_the_same_values_with_the_lever_and_restores_lightnings_move():
    original = _ResultMetric.to
    (_, plain), (_, levered) = fit_tiny([]), fit_tiny([SkipResidentLogMove()])
    assert plain.keys() == levered.keys()
    for key in plain:
        assert torch.equal(plain[key], levered[key]), key
    assert _ResultMetric.to is original


def test_a_failed_fit_restores_lightnings_move():
    original = _ResultMetric.to
    with pytest.raises(RuntimeError, match="a failing step"):
        fit_tiny([SkipResidentLogMove()], model=Failing())
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
