"""Fixtures of ptref's own tests (the course data's are in the root conftest.py)."""

from __future__ import annotations

import platform

import pytest
import torch
from lightning.fabric.accelerators.xla import XLAAccelerator as FabricXLAAccelerator

from ptref import devices


@pytest.fixture
def fake_hardware(monkeypatch):
    """``fake_hardware(cuda=..., mps=..., tpu=...)`` makes torch/torch_xla report that hardware."""

    def fake(cuda: bool = False, mps: bool = False, tpu: bool = False) -> None:
        monkeypatch.setattr(torch.cuda, "device_count", lambda: 1 if cuda else 0)
        monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
        monkeypatch.setattr(torch.cuda, "get_device_name", lambda index=None: "Fake GPU")
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)
        monkeypatch.setattr(torch.backends.mps, "is_built", lambda: mps)
        monkeypatch.setattr(platform, "processor", lambda: "arm" if mps else "x86_64")
        monkeypatch.setattr(devices, "torch_xla_installed", lambda: tpu)
        monkeypatch.setattr(devices, "tpu_chip_count", lambda: 4 if tpu else 0)
        monkeypatch.setattr(FabricXLAAccelerator, "auto_device_count", staticmethod(lambda: 4 if tpu else 0))
        devices.clear_availability_caches()

    yield fake
    monkeypatch.undo()
    devices.clear_availability_caches()
