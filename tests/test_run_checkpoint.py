"""``--ckpt_path last`` picks a run's checkpoint by Lightning's numbering, never by file time."""

from __future__ import annotations

import os

from ptref.runs import run_checkpoint


def test_the_highest_numbered_last_checkpoint_wins_whatever_the_file_times(tmp_path):
    folder = tmp_path / "version_0" / "checkpoints"
    folder.mkdir(parents=True)
    names = ["last.ckpt", "last-v1.ckpt", "last-v2.ckpt", "last-v10.ckpt", "epoch=3-step=8.ckpt"]
    for age, name in enumerate(names):  # the numbered ones older: a copy or a restore changes file times
        (folder / name).write_bytes(b"")
        os.utime(folder / name, (1e9 - age * 100, 1e9 - age * 100))
    assert run_checkpoint(tmp_path / "version_0") == folder / "last-v10.ckpt"


def test_a_run_without_a_last_checkpoint_has_none(tmp_path):
    (tmp_path / "version_0" / "checkpoints").mkdir(parents=True)
    (tmp_path / "version_0" / "checkpoints" / "epoch=0-step=1.ckpt").write_bytes(b"")
    assert run_checkpoint(tmp_path / "version_0") is None
