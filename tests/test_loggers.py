"""ptref's loggers write at most once a second while training, and everything at the end."""

from __future__ import annotations

import csv

import torch

from ptref.loggers import CSVLogger, TensorBoardLogger


def rows(path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with path.open() as handle:
        return list(csv.DictReader(handle))


def test_csv_is_written_at_most_once_a_second_and_completely_at_finalize(tmp_path):
    logger = CSVLogger(tmp_path, name="", version=0)
    logger.save_interval = 3600.0  # nothing but the first save and finalize can write
    metrics_file = tmp_path / "version_0" / "metrics.csv"
    for step in range(300):  # Lightning calls save() after every log_metrics
        logger.log_metrics({"loss": 1.0 / (step + 1)}, step=step)
        logger.save()
    assert len(rows(metrics_file)) == 1  # only the first save went through
    logger.finalize("success")
    written = rows(metrics_file)
    assert [int(row["step"]) for row in written] == list(range(300))
    assert float(written[-1]["loss"]) == 1.0 / 300


def test_a_failed_run_still_writes_its_rows(tmp_path):
    logger = CSVLogger(tmp_path, name="", version=0)
    logger.save_interval = 3600.0
    logger.log_metrics({"loss": 1.0}, step=0)
    logger.save()
    logger.log_metrics({"loss": 0.5}, step=1)
    logger.save()
    logger.finalize("failed")  # Lightning's call after an exception (e.g. DivergenceGuard) or SIGTERM
    assert [row["loss"] for row in rows(tmp_path / "version_0" / "metrics.csv")] == ["1.0", "0.5"]


def test_tensorboard_events_are_complete_after_finalize(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    logger = TensorBoardLogger(tmp_path, name="", version=0)
    logger.save_interval = 3600.0
    for step in range(50):
        logger.log_metrics({"loss": float(step)}, step=step)
        logger.save()
    logger.finalize("success")
    events = EventAccumulator(str(tmp_path / "version_0"))
    events.Reload()
    assert [event.value for event in events.Scalars("loss")] == [float(step) for step in range(50)]


def scalars(folder) -> dict[str, list[tuple[int, float]]]:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(folder))
    events.Reload()
    return {tag: [(event.step, event.value) for event in events.Scalars(tag)] for tag in events.Tags()["scalars"]}


def test_tensorboard_scalars_are_the_ones_lightnings_logger_writes(tmp_path):
    """One event per call (every scalar of the step in it) reads back as Lightning's one event per scalar."""
    from lightning.pytorch.loggers import TensorBoardLogger as LightningTensorBoardLogger

    ours = TensorBoardLogger(tmp_path / "ours", name="", version=0)
    theirs = LightningTensorBoardLogger(tmp_path / "theirs", name="", version=0)
    for logger in (ours, theirs):
        for step in range(20):
            metrics = {"loss": torch.tensor(1.0 / (step + 1)), "w1": 0.1 * step, "epoch": step // 5,
                       "pair": {"a": float(step), "b": -float(step)}}
            logger.log_metrics(metrics, step=step)
            logger.save()
        logger.finalize("success")
    written = scalars(tmp_path / "ours" / "version_0")
    assert set(written) == {"loss", "w1", "epoch"} and len(written["loss"]) == 20
    assert written == scalars(tmp_path / "theirs" / "version_0")
    for key in ("pair_a", "pair_b"):  # add_scalars: a run folder per key, as Lightning's
        assert scalars(tmp_path / "ours" / "version_0" / key) == scalars(tmp_path / "theirs" / "version_0" / key)


def test_tensorboard_events_wait_for_the_next_due_save(tmp_path):
    logger = TensorBoardLogger(tmp_path, name="", version=0)
    logger.save_interval = 3600.0
    logger.log_metrics({"loss": 1.0}, step=0)
    logger.save()  # the first save is due: step 0 is written
    logger.log_metrics({"loss": 0.5}, step=1)
    logger.save()  # not due: kept back
    logger.experiment.flush()
    assert scalars(tmp_path / "version_0") == {"loss": [(0, 1.0)]}
    logger.finalize("failed")  # Lightning's call after an exception: everything kept back is written
    assert scalars(tmp_path / "version_0") == {"loss": [(0, 1.0), (1, 0.5)]}
