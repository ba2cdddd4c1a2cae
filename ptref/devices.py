"""Which device ``accelerator: auto`` means in ptref, and the opt-in XLA accelerator for the CPU PJRT device.

ptref's order is **CUDA, then MPS, then XLA/TPU, then CPU**. The course's PyTorch text checks MPS first
(``"mps" if torch.backends.mps.is_available() else "cuda" if ...``); no machine offers both (MPS exists only on
Apple-silicon macOS, which has no CUDA), so the two orders pick the same device everywhere (``ptref lesson errata
--step device_order``). Lightning's own ``auto`` tries TPU, MPS,
CUDA, CPU (``lightning.fabric.utilities.device_parser._select_auto_accelerator``), so ``PtrefCLI``
resolves ``auto`` itself with :func:`choose_auto` before the Trainer sees it. Availability is asked of
Lightning's accelerator classes, so whatever is picked here is what Lightning then accepts.

TensorFlow counterpart: ``tf.config.list_physical_devices()`` and TF's implicit placement on the first GPU.

Dtypes to avoid on a device (see ``docs/devices.md``): MPS has no float64 at all (the op raises);
XLA on TPU demotes float64 to float32 silently; both: keep data and parameters float32 (ptref's data
modules hand out float32 only), use ``bf16-mixed`` (CUDA/CPU) or ``bf16-true`` (XLA), not ``64-true``.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from typing import Any

import torch
from lightning.fabric.accelerators.cuda import CUDAAccelerator
from lightning.fabric.accelerators.mps import MPSAccelerator
from lightning.fabric.accelerators.xla import XLAAccelerator as FabricXLAAccelerator
from lightning.pytorch.accelerators import XLAAccelerator

# Lightning accelerator names, in the order `auto` tries them.
AUTO_ORDER = ("cuda", "mps", "tpu", "cpu")


@dataclass(frozen=True)
class Probe:
    """One accelerator as seen on this machine: Lightning's name for it, whether it is usable, and why."""

    name: str
    available: bool
    reason: str


def probe_cuda() -> Probe:
    if CUDAAccelerator.is_available():
        names = ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
        return Probe("cuda", True, f"{torch.cuda.device_count()} device(s): {names}")
    if torch.version.cuda is None:
        return Probe("cuda", False, "this torch build has no CUDA support")
    return Probe("cuda", False, f"torch is built for CUDA {torch.version.cuda}, but no GPU/driver is visible")


def probe_mps() -> Probe:
    if MPSAccelerator.is_available():
        return Probe("mps", True, "Apple Metal (MPS) on Apple silicon")
    if not torch.backends.mps.is_built():
        return Probe("mps", False, "this torch build has no MPS support (only macOS builds have it)")
    if os.environ.get("DISABLE_MPS") == "1":
        return Probe("mps", False, "DISABLE_MPS=1 is set")
    return Probe("mps", False, "torch has MPS support but this Mac/OS does not offer it")


def torch_xla_installed() -> bool:
    """Whether torch_xla can be found (without importing it: that costs seconds and may fail)."""
    return importlib.util.find_spec("torch_xla") is not None


def tpu_chip_count() -> int:
    """TPU chips on this host's PCI bus, as torch_xla counts them (no cloud metadata query)."""
    from torch_xla._internal import tpu

    return tpu.num_available_chips()


def probe_tpu() -> Probe:
    if not torch_xla_installed():
        return Probe("tpu", False, "torch_xla is not installed (see docs/devices.md: XLA/TPU)")
    try:
        chips = tpu_chip_count()
    except Exception as error:  # noqa: BLE001 - a torch_xla built for another torch fails at import
        return Probe("tpu", False, f"torch_xla is installed but does not load: {error}")
    pjrt = os.environ.get("PJRT_DEVICE", "unset")
    if chips == 0:
        skip_tpu_metadata_query()
        return Probe(
            "tpu", False,
            f"torch_xla is installed but no TPU chip is on the PCI bus (PJRT_DEVICE={pjrt}); "
            "the CPU PJRT device is opt-in: --trainer.accelerator xla_cpu",
        )
    if FabricXLAAccelerator.is_available():
        return Probe("tpu", True, f"{FabricXLAAccelerator.auto_device_count()} TPU device(s), PJRT_DEVICE={pjrt}")
    return Probe("tpu", False, f"{chips} TPU chip(s) found but torch_xla cannot use them (PJRT_DEVICE={pjrt})")


def skip_tpu_metadata_query() -> None:
    """On a host without TPU chips, stop torch_xla asking a cloud metadata server about TPUs.

    Lightning's TPU check (run by every Trainer when torch_xla is installed) asks that server for the TPU
    type, with no timeout; off-cloud that can hang. With the query skipped, torch_xla reads the type from
    ``TPU_ACCELERATOR_TYPE`` instead: any parseable one will do, the chip count (0) decides.
    """
    os.environ.setdefault("TPU_SKIP_MDS_QUERY", "1")
    os.environ.setdefault("TPU_ACCELERATOR_TYPE", "v4-8")


def probe_cpu() -> Probe:
    return Probe("cpu", True, f"{os.cpu_count()} logical cores, {torch.get_num_threads()} torch threads")


def probe_all() -> list[Probe]:
    """Every accelerator in :data:`AUTO_ORDER`, each with the reason it is or is not usable."""
    probes = {"cuda": probe_cuda, "mps": probe_mps, "tpu": probe_tpu, "cpu": probe_cpu}
    return [probes[name]() for name in AUTO_ORDER]


def choose_auto(probes: list[Probe] | None = None) -> Probe:
    """The first available accelerator in :data:`AUTO_ORDER` (CPU always is)."""
    return next(probe for probe in (probes or probe_all()) if probe.available)


def resolve_accelerator(accelerator: Any) -> Any:
    """``"auto"`` becomes ptref's choice (a Lightning name), ``"xla_cpu"`` an :class:`XLACPUAccelerator`;
    anything else is passed through unchanged."""
    if accelerator == "auto":
        return choose_auto().name
    if accelerator == XLACPUAccelerator.name():
        return XLACPUAccelerator()
    return accelerator


def clear_availability_caches() -> None:
    """Forget Lightning's cached answers (MPS and XLA availability are ``lru_cache``-d), e.g. after patching."""
    for probe in (MPSAccelerator.is_available, FabricXLAAccelerator.is_available,
                  FabricXLAAccelerator.auto_device_count):
        if hasattr(probe, "cache_clear"):  # not when a test has patched it
            probe.cache_clear()


class XLACPUAccelerator(XLAAccelerator):
    """Lightning's XLA accelerator admitting torch_xla's CPU PJRT device (``xla:0`` backed by the host CPU).

    Stock Lightning only accepts TPUs as XLA devices. This opt-in runs every workflow through XLA's
    compiler on a machine without a TPU, which is how ptref tests its XLA path (``.ci/xla``). The CLI
    name ``xla_cpu`` is ptref's (``PtrefCLI`` turns it into this class)::

        PJRT_DEVICE=CPU ptref fit --config experiments/house_price.yaml \\
            --trainer.accelerator xla_cpu

    One device only (multi-device XLA on CPU deadlocks); Lightning then picks ``SingleDeviceXLAStrategy``.
    ``PJRT_DEVICE`` defaults to ``CPU`` here; a real TPU uses ``--trainer.accelerator tpu`` instead.
    Precision: ``bf16-true`` works on XLA, ``bf16-mixed`` does not.

    While training, parameters move to the device by *swapping* their contents
    (``torch.__future__.set_swap_module_params_on_conversion``): a CPU→XLA ``.to()`` otherwise creates new
    Parameter objects, and an optimizer built before the move (as LightningCLI's ``--optimizer`` does)
    would keep updating the stale CPU copies while the model never learns.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        os.environ.setdefault("PJRT_DEVICE", "CPU")
        skip_tpu_metadata_query()
        super().__init__(*args, **kwargs)
        self._swapped_before: bool | None = None

    def setup(self, trainer: Any) -> None:
        self._swapped_before = torch.__future__.get_swap_module_params_on_conversion()
        torch.__future__.set_swap_module_params_on_conversion(True)
        super().setup(trainer)

    def teardown(self) -> None:
        if self._swapped_before is not None:
            torch.__future__.set_swap_module_params_on_conversion(self._swapped_before)
        super().teardown()

    @staticmethod
    def parse_devices(devices: int | str | list[int]) -> int:
        if devices not in (1, "1", "auto", [0]):
            raise ValueError(f"XLACPUAccelerator runs on one device (xla:0), got devices={devices!r}")
        return 1

    @staticmethod
    def get_parallel_devices(devices: int | list[int]) -> list[torch.device]:
        return [torch.device("xla", 0)]

    @staticmethod
    def auto_device_count() -> int:
        return 1

    @staticmethod
    def is_available() -> bool:
        return torch_xla_installed()

    @staticmethod
    def name() -> str:
        return "xla_cpu"
