"""``accelerator: auto`` picks CUDA, then MPS, then XLA/TPU, then CPU, with the hardware checks patched.

No GPU, Apple silicon or TPU exists here, so each test fakes what torch/torch_xla report (the lowest
level Lightning asks) and clears Lightning's cached answers before and after.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from lightning.pytorch import Trainer
from lightning.pytorch.accelerators import CPUAccelerator, CUDAAccelerator, MPSAccelerator

from ptref import devices
from ptref.cli import build_cli, main

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("hardware", "expected"),
    [
        ({"cuda": True, "mps": True, "tpu": True}, "cuda"),
        ({"mps": True, "tpu": True}, "mps"),
        ({"tpu": True}, "tpu"),
        ({}, "cpu"),
    ],
    ids=["all-cuda-first", "no-cuda-mps-next", "only-tpu", "nothing-cpu"],
)
def test_auto_tries_cuda_then_mps_then_tpu_then_cpu(fake_hardware, hardware, expected):
    fake_hardware(**hardware)
    assert devices.choose_auto().name == expected
    assert devices.resolve_accelerator("auto") == expected


def test_lightning_alone_would_pick_the_tpu_before_a_gpu(fake_hardware):
    """Why ptref resolves ``auto`` itself: Lightning's own order is TPU, MPS, CUDA, CPU."""
    from lightning.fabric.utilities.device_parser import _select_auto_accelerator

    fake_hardware(cuda=True, tpu=True)
    assert _select_auto_accelerator() == "tpu"
    assert devices.choose_auto().name == "cuda"


def test_every_unavailable_accelerator_says_why(fake_hardware):
    fake_hardware()
    probes = {probe.name: probe for probe in devices.probe_all()}
    assert [probe.name for probe in devices.probe_all()] == list(devices.AUTO_ORDER)
    assert "no MPS support" in probes["mps"].reason
    assert "torch_xla is not installed" in probes["tpu"].reason
    assert probes["cpu"].available and not any(probes[name].available for name in ("cuda", "mps", "tpu"))


def test_an_explicit_accelerator_is_left_alone():
    for name in ("cpu", "cuda", "mps", "tpu", "gpu"):
        assert devices.resolve_accelerator(name) == name
    accelerator = CPUAccelerator()
    assert devices.resolve_accelerator(accelerator) is accelerator


def cli_trainer(*flags: str) -> Trainer:
    """The Trainer that ``ptref fit --config experiments/house_price.yaml <flags>`` would train with."""
    cli = build_cli(["--config", str(REPO / "experiments" / "house_price.yaml"), "--trainer.logger", "false", *flags],
                    run=False)
    return cli.trainer


@pytest.mark.parametrize(
    ("hardware", "accelerator_type", "device_type"),
    [({"cuda": True, "mps": True}, CUDAAccelerator, "cuda"), ({"mps": True}, MPSAccelerator, "mps"),
     ({}, CPUAccelerator, "cpu")],
    ids=["cuda", "mps", "cpu"],
)
def test_the_cli_trainer_gets_ptrefs_choice(fake_hardware, hardware, accelerator_type, device_type):
    fake_hardware(**hardware)
    trainer = cli_trainer()
    assert type(trainer.accelerator) is accelerator_type
    assert trainer.strategy.root_device.type == device_type


def test_the_cli_keeps_an_explicit_cpu_even_when_a_gpu_is_there(fake_hardware):
    fake_hardware(cuda=True)
    assert type(cli_trainer("--trainer.accelerator", "cpu").accelerator) is CPUAccelerator


def test_ptref_env_shows_what_auto_picks_and_why(fake_hardware, capsys):
    fake_hardware(mps=True)
    assert main(["env"]) == 0
    out = capsys.readouterr().out
    assert "accelerator='auto' picks: mps" in out
    assert "this torch build has no CUDA support" in out or "no GPU/driver is visible" in out


def test_ptref_imports_without_torch_xla_and_never_loads_it():
    code = "import ptref.cli, ptref.devices, sys; print('torch_xla' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert result.stdout.strip() == "False"

