"""The data_pipelines lesson with tf.data running live: the same batches where the order is given, the same
guarantees where each framework draws its own random order. All values are integers or booleans: compared exactly.
"""

from __future__ import annotations

import pytest
import tensorflow as tf
from compare.lesson_pairs import ran

from ptref.concepts import lesson


@pytest.mark.parametrize(
    "step", ["slices_and_batches", "shuffle_with_a_given_permutation", "prefetch_and_workers", "lightning_datamodule"]
)
def test_ordered_pipelines_give_the_same_batches_in_both(step: str) -> None:
    tf_values, torch_values = ran("data_pipelines")[step]
    assert tf_values == torch_values


def test_drop_remainder_and_drop_last_drop_the_same_batch() -> None:
    tf_values, torch_values = ran("data_pipelines")["drop_remainder_is_drop_last"]
    assert {k: tf_values[k] for k in torch_values} == torch_values
    assert tf_values["static batch axis"] == [None, 4]  # only TF records it in the shape


def test_course_chain_and_loader_agree_on_everything_but_the_order() -> None:
    tf_values, torch_values = ran("data_pipelines")["course_pipeline"]
    for values in (tf_values, torch_values):
        assert values["batch sizes"] == [4, 4, 2]
        assert values["every example once"] is values["labels stay with their examples"] is True


@pytest.mark.parametrize("buffer_size", [2, 3])
def test_tf_shuffle_buffer_obeys_the_window_bound_the_lesson_states(buffer_size: int) -> None:
    twin = lesson.load_twin("data_pipelines")
    for seed in range(20):
        order = [int(v) for v in twin.buffer_shuffle(tf.data.Dataset.range(12), buffer_size, seed=seed)]
        assert sorted(order) == list(range(12))
        assert all(order.index(j) >= j - (buffer_size - 1) for j in order), (seed, order)


def test_tf_shuffle_buffer_of_one_keeps_the_order() -> None:
    twin = lesson.load_twin("data_pipelines")
    assert [int(v) for v in twin.buffer_shuffle(tf.data.Dataset.range(12), 1, seed=0)] == list(range(12))


def test_both_reshuffle_each_epoch_unless_told_not_to() -> None:
    tf_values, torch_values = ran("data_pipelines")["reshuffle_each_iteration"]
    for key in ("epochs differ", "fixed order, epochs differ", "same seed, same epochs"):
        assert tf_values[key] == torch_values[key], key


def test_both_shuffle_steps_show_the_window_bound() -> None:
    for values in ran("data_pipelines")["shuffle_buffer_vs_full_permutation"]:
        assert values["buffer 2, most places an element moves ahead"] <= 1
        assert sorted(values["buffer 10"]) == list(range(10))
