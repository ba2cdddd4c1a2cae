"""``ptref env``: versions, and which accelerators this machine offers and why (or why not)."""

from __future__ import annotations

import argparse
import importlib.metadata
import importlib.util
import os
import platform
from collections.abc import Sequence

import torch

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
    """``(name, available, reason)`` for CPU, CUDA, MPS and XLA, as Lightning's accelerator names."""
    found = [("cpu", True, f"{os.cpu_count()} logical cores, {torch.get_num_threads()} torch threads")]

    if torch.cuda.is_available():
        names = ", ".join(torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count()))
        found.append(("cuda", True, f"{torch.cuda.device_count()} device(s): {names}"))
    elif torch.version.cuda is None:
        found.append(("cuda", False, "this torch build has no CUDA support"))
    else:
        found.append(("cuda", False, f"torch is built for CUDA {torch.version.cuda}, but no GPU/driver is visible"))

    if torch.backends.mps.is_available():
        found.append(("mps", True, "Apple Metal (MPS) is available"))
    elif not torch.backends.mps.is_built():
        found.append(("mps", False, "this torch build has no MPS support (MPS exists only on macOS builds)"))
    else:
        found.append(("mps", False, "torch has MPS support but this macOS/hardware does not offer it"))

    if importlib.util.find_spec("torch_xla") is None:
        found.append(("xla", False, "torch_xla is not installed (see README: XLA/TPU)"))
    else:
        pjrt = os.environ.get("PJRT_DEVICE", "unset")
        found.append(("xla", True, f"torch_xla is installed; PJRT_DEVICE={pjrt}"))
    return found


def auto_choice() -> str:
    """The accelerator a ``Trainer(accelerator="auto")`` actually resolves to here."""
    from lightning.pytorch import Trainer

    trainer = Trainer(
        accelerator="auto",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    return type(trainer.accelerator).__name__


def main(argv: Sequence[str] = ()) -> int:
    """Print the report."""
    argparse.ArgumentParser(prog="ptref env", description=__doc__).parse_args(list(argv))
    print("versions")
    for name, version in package_versions().items():
        print(f"  {name:<16} {version}")
    print("accelerators")
    for name, available, reason in accelerators():
        print(f"  {name:<5} {'yes' if available else 'no ':<3}  {reason}")
    print(f"accelerator='auto' picks: {auto_choice()}")
    return 0
