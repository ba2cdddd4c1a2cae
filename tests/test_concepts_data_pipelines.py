"""The data_pipelines lesson: batches against slicing by hand, the shuffle buffer's guarantee, the DataModule."""

from __future__ import annotations

import pytest
import torch

from ptref.concepts import data_pipelines


def _chunks(values: list[int], size: int) -> list[list[int]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def test_unshuffled_batches_are_consecutive_slices() -> None:
    x, y = (t.tolist() for t in data_pipelines.course_data())
    shown = data_pipelines.slices_and_batches()
    assert shown["batches of x"] == _chunks(x, 4) and shown["batches of y"] == _chunks(y, 4)
    assert shown["example 3"] == [x[3], y[3]]


def test_drop_last_removes_only_the_short_batch() -> None:
    shown = data_pipelines.drop_remainder_is_drop_last()
    assert shown["batch sizes, kept"] == [4, 4, 2] and shown["batch sizes, dropped"] == [4, 4]
    assert shown["batches per epoch"] == [3, 2]


def test_given_permutation_orders_examples_and_labels_alike() -> None:
    x, y = data_pipelines.course_data()
    shown = data_pipelines.shuffle_with_a_given_permutation()
    permutation = shown["permutation"]
    assert sorted(permutation) == list(range(10)) and permutation != list(range(10))
    assert shown["batches of x"] == _chunks(x[permutation].tolist(), 4)
    assert shown["batches of y"] == _chunks(y[permutation].tolist(), 4)


def test_course_pipeline_sees_every_example_once_in_batches_of_4_4_2() -> None:
    shown = data_pipelines.course_pipeline()
    assert shown["batch sizes"] == [4, 4, 2]
    assert shown["every example once"] is shown["labels stay with their examples"] is True


@pytest.mark.parametrize("buffer_size", [2, 3, 5])
def test_shuffle_buffer_never_moves_an_element_more_than_buffer_minus_one_places_ahead(buffer_size: int) -> None:
    for seed in range(50):
        order = list(data_pipelines.buffer_shuffle(range(12), buffer_size, torch.Generator().manual_seed(seed)))
        assert sorted(order) == list(range(12))
        assert all(order.index(j) >= j - (buffer_size - 1) for j in order), (seed, order)


def test_shuffle_buffer_of_one_keeps_the_order_and_a_full_one_can_start_anywhere() -> None:
    assert list(data_pipelines.buffer_shuffle(range(12), 1, torch.Generator().manual_seed(0))) == list(range(12))
    firsts = {next(data_pipelines.buffer_shuffle(range(6), 6, torch.Generator().manual_seed(s))) for s in range(200)}
    windowed = {next(data_pipelines.buffer_shuffle(range(6), 2, torch.Generator().manual_seed(s))) for s in range(200)}
    assert firsts == set(range(6))  # 200 draws miss one of 6 first places with probability < 6·(5/6)^200
    assert windowed == {0, 1}


def test_shuffle_step_reports_the_window_bound() -> None:
    shown = data_pipelines.shuffle_buffer_vs_full_permutation()
    assert shown["buffer 2, most places an element moves ahead"] <= 1
    for key in ("buffer 2", "buffer 10", "RandomSampler"):
        assert sorted(shown[key]) == list(range(10)), key


def test_loader_reshuffles_each_epoch_and_repeats_with_its_seed() -> None:
    shown = data_pipelines.reshuffle_each_iteration()
    assert shown["epochs differ"] is True and shown["fixed order, epochs differ"] is False
    assert shown["same seed, same epochs"] is True
    assert all(sorted(epoch) == list(range(10)) for epoch in shown["reshuffled, epochs 1 and 2"])


def test_workers_return_the_batches_in_the_samplers_order() -> None:
    shown = data_pipelines.prefetch_and_workers()
    assert shown["same batches, prefetched"] is True
    assert shown["batches of x"] == _chunks(list(range(10)), 4)


def test_datamodule_splits_eight_two_and_batches_the_permutation() -> None:
    shown = data_pipelines.lightning_datamodule()
    assert shown["train batches of x"] == [[3, 0, 6, 1], [7, 2, 5, 4]]  # the permutation the step passes
    assert shown["validation batches of x"] == [[8, 9]]

