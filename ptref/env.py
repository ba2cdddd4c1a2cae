"""``ptref env``: versions, which accelerators this machine offers and why (or why not), and what ``auto`` picks."""

from __future__ import annotations

import argparse
import importlib.metadata
import platform
from collections.abc import Sequence

from ptref import devices

LABELS = {"tpu": "tpu (xla)"}  # Lightning calls its XLA accelerator "tpu"

PACKAGES = ("torch", "torchvision", "lightning", "torchmetrics", "tensorflow-cpu", "tensorflow", "torch-xla")


def package_versions() -> dict[str, str]:
    """Installed version of each package ptref cares about (read from metadata: TensorFlow is not imported)."""
    versions = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def accelerators() -> list[tuple[str, bool, str]]:
    """``(name, available, reason)`` per Lightning accelerator name, in the order ``accelerator: auto`` tries them."""
    return [(probe.name, probe.available, probe.reason) for probe in devices.probe_all()]


def auto_choice() -> str:
    """The accelerator ``--trainer.accelerator auto`` resolves to here, and why."""
    choice = devices.choose_auto()
    return f"{choice.name} (first available of {', '.join(devices.AUTO_ORDER)}: {choice.reason})"


def main(argv: Sequence[str] = ()) -> int:
    """Print the report."""
    argparse.ArgumentParser(prog="ptref env", description=__doc__).parse_args(list(argv))
    print("versions")
    for name, version in package_versions().items():
        print(f"  {name:<16} {version}")
    print("accelerators, in the order accelerator='auto' tries them")
    for name, available, reason in accelerators():
        print(f"  {LABELS.get(name, name):<9} {'yes' if available else 'no ':<3}  {reason}")
    print(f"accelerator='auto' picks: {auto_choice()}")
    return 0
