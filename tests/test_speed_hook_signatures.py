"""ptref.callbacks.hook_signatures: Lightning's signature checks answered once per function, each answer
Lightning's own, a changed function asked again, and Lightning's function back after every fit."""

from __future__ import annotations

import functools

import lightning.pytorch as pl
import pytest
import torch
from lightning.pytorch.core import module as core_module
from lightning.pytorch.loops import training_epoch_loop
from lightning.pytorch.utilities import signature_utils

from helpers import Failing, fit_tiny
from ptref.callbacks import hook_signatures
from ptref.callbacks.hook_signatures import CacheHookSignatures, is_param_in_hook_signature

LIGHTNING = signature_utils.is_param_in_hook_signature


class Hooks:
    def two(self, batch, batch_idx): ...
    def one(self, batch): ...
    def iterator(self, dataloader_iter): ...
    def star(self, *args): ...
    def keyword(self, batch, *, dataloader_idx=0): ...

    @staticmethod
    def plain(batch, batch_idx): ...


def decorated(function):
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        return function(*args, **kwargs)
    return wrapper


QUESTIONS = [("batch_idx", False, 2), ("dataloader_iter", True, None), ("dataloader_iter", False, None),
             ("dataloader_idx", False, None), ("batch", True, None)]


@pytest.mark.parametrize("hook", [Hooks().two, Hooks().one, Hooks().iterator, Hooks().star, Hooks().keyword,
                                  Hooks.plain, decorated(Hooks().two), decorated(Hooks().iterator),
                                  functools.partial(Hooks.plain, 1)])
def test_every_answer_is_lightnings_the_first_time_and_after(hook):
    for param, explicit, min_args in QUESTIONS:
        expected = LIGHTNING(hook, param, explicit=explicit, min_args=min_args)
        for _ in range(2):  # computed, then from the cache
            assert is_param_in_hook_signature(hook, param, explicit=explicit, min_args=min_args) == expected


def test_a_function_whose_code_changes_is_asked_again():
    class Model:
        def training_step(self, batch, batch_idx): ...

    model = Model()
    assert is_param_in_hook_signature(model.training_step, "dataloader_iter", explicit=True) is False

    def with_iterator(self, dataloader_iter): ...

    Model.training_step.__code__ = with_iterator.__code__
    assert is_param_in_hook_signature(model.training_step, "dataloader_iter", explicit=True) is True


class Spy(pl.Callback):
    """Records which function the hot call sites see while the fit runs."""

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self.seen = (core_module.is_param_in_hook_signature, training_epoch_loop.is_param_in_hook_signature)


def test_a_fit_trains_and_logs_the_same_and_gets_lightnings_function_back():
    spy = Spy()
    (plain, plain_logs), (levered, levered_logs) = fit_tiny([]), fit_tiny([CacheHookSignatures(), spy])
    assert spy.seen == (hook_signatures.is_param_in_hook_signature,) * 2  # in place during the fit
    for a, b in zip(plain.parameters(), levered.parameters(), strict=True):
        assert torch.equal(a, b)
    assert plain_logs.keys() == levered_logs.keys()
    for key in plain_logs:
        assert torch.equal(plain_logs[key], levered_logs[key]), key
    assert core_module.is_param_in_hook_signature is LIGHTNING
    assert training_epoch_loop.is_param_in_hook_signature is LIGHTNING


def test_a_failed_fit_and_enabled_false_leave_lightnings_function():
    with pytest.raises(RuntimeError, match="a failing step"):
        fit_tiny([CacheHookSignatures()], model=Failing())
    assert core_module.is_param_in_hook_signature is LIGHTNING
    spy = Spy()
    fit_tiny([CacheHookSignatures(enabled=False), spy])
    assert spy.seen == (LIGHTNING, LIGHTNING)
