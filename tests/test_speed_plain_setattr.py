"""ptref.callbacks.plain_setattr: every assignment on a LightningModule has nn.Module's effect (or its error), and
``nn.Module.__setattr__`` is LightningModule's again after every fit."""

from __future__ import annotations

import copy

import lightning.pytorch as pl
import pytest
import torch
from torch import nn

from helpers import Failing, fit_tiny
from ptref.callbacks.plain_setattr import SetPlainAttributesDirectly, set_attribute


class Model(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.layer = nn.Linear(3, 1)
        self.scale = nn.Parameter(torch.ones(1))
        self.register_buffer("count", torch.zeros(1))
        self.register_buffer("scratch", torch.zeros(1), persistent=False)
        self.register_parameter("absent", None)
        self._limit = 1.0

    @property
    def limit(self) -> float:
        return self._limit

    @limit.setter
    def limit(self, value: float) -> None:
        if value < 0:
            raise ValueError("limit must be >= 0")
        self._limit = value


class Text(str):
    """A subclass of a plain type: not taken for one."""


CASES = [
    ("_current_fx_name", "training_step"), ("_current_fx_name", None), ("epochs", 3), ("rate", 0.5), ("flag", True),
    ("layer", None), ("layer", "text"), ("layer", nn.Linear(2, 2)), ("scale", None), ("scale", 2.0),
    ("absent", None), ("absent", 1), ("count", None), ("count", 7), ("scratch", None), ("count", torch.ones(1)),
    ("limit", 2.0), ("limit", -1.0), ("new_tensor", torch.ones(2)), ("new_parameter", nn.Parameter(torch.ones(1))),
    ("new_module", nn.ReLU()), ("name", Text("subclass")), ("items", [1, 2]),
]


def state(module: nn.Module) -> dict:
    """Everything an assignment can change: the instance dict and the three registries (with their entries)."""
    return {"dict": {key: value for key, value in vars(module).items()
                     if key not in ("_parameters", "_modules", "_buffers")},
            "parameters": dict(module._parameters), "modules": dict(module._modules),
            "buffers": dict(module._buffers), "non_persistent": set(module._non_persistent_buffers_set)}


ASSIGNED = "<the assigned object>"


def outcome(setter, name: str, value) -> tuple[dict, str | None]:
    torch.manual_seed(0)
    model = Model()
    value = copy.copy(value)
    try:
        setter(model, name, value)
        error = None
    except Exception as exc:  # noqa: BLE001 - the same error (type and message) is the point
        error = f"{type(exc).__name__}: {exc}"
    result = state(model)
    for part in ("dict", "parameters", "modules", "buffers"):  # the assigned object itself must land in the same place
        result[part] = {key: ASSIGNED if item is value else item for key, item in result[part].items()}
    return result, error


@pytest.mark.parametrize(("name", "value"), CASES, ids=[f"{name}={value!r}"[:40] for name, value in CASES])
def test_an_assignment_has_nn_modules_effect_or_its_error(name, value):
    expected_state, expected_error = outcome(nn.Module.__setattr__, name, value)
    got_state, got_error = outcome(set_attribute, name, value)
    assert got_error == expected_error
    assert got_state.pop("non_persistent") == expected_state.pop("non_persistent")
    for part in expected_state:
        assert got_state[part].keys() == expected_state[part].keys(), part
        for key, item in expected_state[part].items():
            other = got_state[part][key]
            if isinstance(item, torch.Tensor):
                assert isinstance(other, torch.Tensor) and torch.equal(other, item), (part, key)
            elif isinstance(item, nn.Module):
                assert type(other) is type(item), (part, key)
            else:
                assert other == item, (part, key)


def test_a_plain_value_goes_past_nn_modules_checks_and_anything_else_through_them(monkeypatch):
    calls = []
    original = nn.Module.__setattr__
    monkeypatch.setattr("ptref.callbacks.plain_setattr._MODULE_SETATTR",
                        lambda module, name, value: calls.append(name) or original(module, name, value))
    model = Model()
    set_attribute(model, "_current_fx_name", "on_train_epoch_end")
    set_attribute(model, "_current_fx_name", None)
    assert calls == [] and model._current_fx_name is None
    set_attribute(model, "absent", None)  # a registered name: nn.Module's path
    set_attribute(model, "weights", torch.ones(1))  # not a plain type: nn.Module's path
    assert calls == ["absent", "weights"]


class Spy(pl.Callback):
    """Records LightningModule's ``__setattr__`` while the fit runs."""

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self.seen = pl.LightningModule.__setattr__


def test_a_fit_trains_and_logs_the_same_and_gets_nn_modules_setattr_back():
    spy = Spy()
    (plain, plain_logs), (levered, levered_logs) = fit_tiny([]), fit_tiny([SetPlainAttributesDirectly(), spy])
    assert spy.seen is set_attribute  # in place during the fit
    for a, b in zip(plain.parameters(), levered.parameters(), strict=True):
        assert torch.equal(a, b)
    assert plain_logs.keys() == levered_logs.keys()
    for key in plain_logs:
        assert torch.equal(plain_logs[key], levered_logs[key]), key
    assert pl.LightningModule.__setattr__ is nn.Module.__setattr__
    assert "__setattr__" not in vars(pl.LightningModule)


def test_a_failed_fit_and_enabled_false_leave_nn_modules_setattr():
    with pytest.raises(RuntimeError, match="a failing step"):
        fit_tiny([SetPlainAttributesDirectly()], model=Failing())
    assert pl.LightningModule.__setattr__ is nn.Module.__setattr__
    spy = Spy()
    fit_tiny([SetPlainAttributesDirectly(enabled=False), spy])
    assert spy.seen is nn.Module.__setattr__
