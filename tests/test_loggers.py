"""ptref's loggers write at most once a second while training, and everything at the end."""

from __future__ import annotations

import csv

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
