"""Run folders and checkpoints of ``ptref`` commands: where a run goes (``<root>/version_N``), which checkpoint
``--ckpt_path last`` means for each subcommand, and whether a checkpoint file can be loaded safely.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path
from typing import Any

import torch

from ptref.callbacks.run_folder import fit_completed
from ptref.errors import UserInputError

# Subcommands that evaluate trained weights, and the ckpt_path values Lightning resolves itself.
EVALUATIONS = ("validate", "test", "predict")
LIGHTNING_CKPT_NAMES = ("best", "hpc")


def experiment_root(trainer_config: Any) -> Path:
    """The folder of an experiment's runs: ``--trainer.default_root_dir``, else ``runs``."""
    return Path((trainer_config or {}).get("default_root_dir") or "runs")


def run_versions(root: Path) -> list[Path]:
    """The ``version_N`` folders under ``root``, newest (highest ``N``) first."""
    runs = [path for path in root.glob("version_*") if path.name.split("_", 1)[1].isdigit()]
    return sorted(runs, key=lambda path: int(path.name.split("_", 1)[1]), reverse=True)


def next_version(root: Path) -> int:
    """The first unused ``version_N`` number under ``root`` (shared by all loggers of one run)."""
    newest = run_versions(root)
    return int(newest[0].name.split("_", 1)[1]) + 1 if newest else 0


def run_checkpoint(run: Path) -> Path | None:
    """The run's ``checkpoints/last.ckpt``; when Lightning numbered several (``last-v1.ckpt``, ...), the highest."""
    numbered = {0 if path.stem == "last" else int(path.stem[len("last-v"):]): path
                for path in (run / "checkpoints").glob("last*.ckpt")
                if path.stem == "last" or (path.stem.startswith("last-v") and path.stem[len("last-v"):].isdigit())}
    return numbered[max(numbered)] if numbered else None


def last_checkpoint(root: Path) -> tuple[Path, Path] | None:
    """``(run, checkpoint)`` of the newest run under ``root`` that saved a checkpoint, if any.

    Newest by run number, not by file time: runs that saved nothing (stopped before their first
    checkpoint, or a resume that was stopped again before saving) are passed over.
    """
    for run in run_versions(root):
        checkpoint = run_checkpoint(run)
        if checkpoint is not None:
            return run, checkpoint
    return None


def run_of(checkpoint: Path) -> Path:
    """The run folder a checkpoint belongs to (``version_N`` for ``version_N/checkpoints/x.ckpt``)."""
    return checkpoint.parent.parent if checkpoint.parent.name == "checkpoints" else checkpoint.parent


def free_folder(run: Path, name: str) -> Path:
    """``run/name``, or ``run/name_1``, ``run/name_2``, ... : the first that does not exist yet."""
    folder, number = run / name, 0
    while folder.exists():
        number += 1
        folder = run / f"{name}_{number}"
    return folder


def describe(checkpoint: Path) -> str:
    """``"saved at epoch E, step S"`` for a checkpoint, memory-mapped (its tensors are not read)."""
    try:
        state = torch.load(checkpoint, map_location="cpu", weights_only=True, mmap=True)
    except Exception:  # noqa: BLE001 - an unreadable file is reported by check_checkpoint, which runs next
        return "unreadable"
    return f"saved at epoch {state.get('epoch')}, step {state.get('global_step')}"


def resolve_ckpt_path(subcommand: str, ckpt_path: str | None, root: Path) -> str | None:
    """What ``--ckpt_path`` means for ``subcommand``: ``last`` becomes a file, and impossible runs are refused.

    - ``fit --ckpt_path last``: the checkpoint of the newest run that saved one, if that run's fit did not
      finish. A finished run is refused (continuing it is a choice: pass its checkpoint's path). With no
      checkpoint at all, fit starts from scratch and says so: the same command then works for the first
      start and every restart of a pre-emptible job.
    - ``test``/``validate``/``predict``: they need trained weights; ``last`` is the newest checkpoint.
    """
    if subcommand == "fit":
        if ckpt_path != "last":
            return ckpt_path
        found = last_checkpoint(root)
        if found is None:
            print(f"ptref: --ckpt_path last: no run under {root} has saved a checkpoint yet; starting from scratch",
                  file=sys.stderr)
            return None
        run, checkpoint = found
        if fit_completed(run):
            raise CheckpointError(
                f"--ckpt_path last: the newest run with a checkpoint, {run}, finished its fit, so there is nothing "
                f"to resume. To train it further, pass its checkpoint explicitly with a larger --trainer.max_epochs "
                f"(--ckpt_path {checkpoint}); to start a new run, leave out --ckpt_path."
            )
        print(f"ptref: resuming from {checkpoint} (the interrupted run {run.name}, {describe(checkpoint)})",
              file=sys.stderr)
        return str(checkpoint)
    if subcommand not in EVALUATIONS or ckpt_path not in (None, "last"):
        return ckpt_path
    found = last_checkpoint(root)
    if found is None:
        raise CheckpointError(
            f"{subcommand} needs trained weights, and no run under {root} has saved a checkpoint: train first "
            f"(ptref fit with the same --config), or pass a checkpoint file with --ckpt_path."
        )
    run, checkpoint = found
    if ckpt_path is None:
        raise CheckpointError(
            f"{subcommand} needs trained weights: pass --ckpt_path last (this experiment's newest checkpoint, "
            f"{checkpoint}) or --ckpt_path with another checkpoint file."
        )
    print(f"ptref: {subcommand} with {checkpoint} ({describe(checkpoint)})", file=sys.stderr)
    return str(checkpoint)


class CheckpointError(UserInputError):
    """A checkpoint file that cannot be loaded safely."""


ZIP_MAGIC = b"PK\x03\x04"  # torch.save's format (every Lightning checkpoint): a zip archive
LEGACY_MAGIC = pickle.dumps(torch.serialization.MAGIC_NUMBER, protocol=2)  # torch.save before PyTorch 1.6


def check_checkpoint(path: Path) -> None:
    """Open ``path`` the safe way (tensors and plain data only) and explain what is wrong if that fails.

    Three failures, three fixes: a file that is no checkpoint at all (random bytes, a text or image file:
    it starts like neither of torch.save's two formats), a damaged checkpoint (truncated or corrupted: it
    starts like one but does not load), and a checkpoint holding objects of Python classes, which
    ``weights_only`` refuses because unpickling them can run code: only that one can be loaded, with
    ``--weights_only false``, and only when its source is trusted.
    """
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    with path.open("rb") as file:
        head = file.read(len(LEGACY_MAGIC))
    if not head.startswith(ZIP_MAGIC) and head != LEGACY_MAGIC:
        raise CheckpointError(
            f"{path}: not a checkpoint (neither of torch.save's formats); pass a .ckpt file written by a run, "
            "e.g. runs/<experiment>/version_0/checkpoints/last.ckpt"
        )
    damaged = (
        f"{path}: not a readable PyTorch checkpoint (truncated or corrupted?)"
        "; use another checkpoint of the run (e.g. last.ckpt or an earlier epoch)"
    )
    try:
        torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        # weights_only met a class or function; a zip archive can list them, the legacy format cannot.
        code = unsafe_globals(path) if head.startswith(ZIP_MAGIC) else ["objects of Python classes"]
        if not code:
            raise CheckpointError(damaged) from None
        raise CheckpointError(
            f"{path}: refused: it holds {', '.join(code)}, not only tensors and plain data, and loading it "
            "could run code. Only if you trust its source, pass --weights_only false."
        ) from None
    except Exception as error:  # noqa: BLE001 - torch.load fails in many ways on damaged files (EOFError, ...)
        raise CheckpointError(f"{damaged}: {str(error).split('. ')[0]}") from None


def unsafe_globals(path: Path) -> list[str]:
    """The classes and functions a zip checkpoint's pickle refers to beyond weights_only's allowlist."""
    try:
        return torch.serialization.get_unsafe_globals_in_checkpoint(path)
    except Exception:  # noqa: BLE001 - a damaged archive: nothing to list
        return []
