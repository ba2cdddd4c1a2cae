"""TensorFlow's side of ``ptref/concepts/data_pipelines.py``: ``tf.data.Dataset``, step for step."""

from __future__ import annotations

import numpy as np
import tensorflow as tf


def course_data() -> tuple[np.ndarray, np.ndarray]:
    x = np.arange(10)
    return x, 10 * x


def buffer_shuffle(dataset: tf.data.Dataset, buffer_size: int, seed: int) -> tf.data.Dataset:
    return dataset.shuffle(buffer_size, seed=seed)


def course_pipeline() -> dict[str, object]:
    x, y = course_data()
    dataset = (
        tf.data.Dataset.from_tensor_slices((x, y))
        .shuffle(10, seed=0)
        .batch(4)
        .prefetch(tf.data.AUTOTUNE)
    )
    batches = [(xb.numpy().tolist(), yb.numpy().tolist()) for xb, yb in dataset]
    seen = sorted(v for xb, _ in batches for v in xb)
    return {
        "batch sizes": [len(xb) for xb, _ in batches],
        "every example once": seen == x.tolist(),
        "labels stay with their examples": all(10 * a == b for xb, yb in batches for a, b in zip(xb, yb)),
        "first batch x (this stream's order)": batches[0][0],
    }


def slices_and_batches() -> dict[str, object]:
    x, y = course_data()
    dataset = tf.data.Dataset.from_tensor_slices((x, y))
    batched = dataset.batch(4)
    return {
        "examples": int(dataset.cardinality()),
        "example 3": [int(v) for v in next(iter(dataset.skip(3)))],
        "batches of x": [xb.numpy().tolist() for xb, _ in batched],
        "batches of y": [yb.numpy().tolist() for _, yb in batched],
    }


def drop_remainder_is_drop_last() -> dict[str, object]:
    dataset = tf.data.Dataset.from_tensor_slices(course_data())
    keep, drop = dataset.batch(4), dataset.batch(4, drop_remainder=True)
    return {
        "batch sizes, kept": [len(xb) for xb, _ in keep],
        "batch sizes, dropped": [len(xb) for xb, _ in drop],
        "batches per epoch": [int(keep.cardinality()), int(drop.cardinality())],
        "static batch axis": [keep.element_spec[0].shape[0], drop.element_spec[0].shape[0]],
    }


def shuffle_with_a_given_permutation() -> dict[str, object]:
    x, y = course_data()
    permutation = np.random.default_rng(0).permutation(len(x)).tolist()
    dataset = tf.data.Dataset.from_tensor_slices((x[permutation], y[permutation])).batch(4)
    return {
        "permutation": permutation,
        "batches of x": [xb.numpy().tolist() for xb, _ in dataset],
        "batches of y": [yb.numpy().tolist() for _, yb in dataset],
    }


def shuffle_buffer_vs_full_permutation() -> dict[str, object]:
    numbers = tf.data.Dataset.range(10)
    window = [int(v) for v in buffer_shuffle(numbers, 2, seed=0)]
    full = [int(v) for v in buffer_shuffle(numbers, 10, seed=0)]
    return {
        "buffer 2": window,
        "buffer 2, most places an element moves ahead": max(j - window.index(j) for j in window),
        "buffer 10": full,
    }


def reshuffle_each_iteration() -> dict[str, object]:
    def two_epochs(seed: int, reshuffle: bool) -> list[list[int]]:
        dataset = tf.data.Dataset.from_tensor_slices(course_data()[0])
        dataset = dataset.shuffle(10, seed=seed, reshuffle_each_iteration=reshuffle).batch(10)
        return [next(iter(dataset)).numpy().tolist() for _ in range(2)]

    reshuffled, fixed = two_epochs(1, reshuffle=True), two_epochs(1, reshuffle=False)
    return {
        "reshuffled, epochs 1 and 2": reshuffled,
        "epochs differ": reshuffled[0] != reshuffled[1],
        "fixed order, epochs differ": fixed[0] != fixed[1],
        "same seed, same epochs": two_epochs(1, reshuffle=True) == reshuffled,
    }


def prefetch_and_workers() -> dict[str, object]:
    dataset = tf.data.Dataset.from_tensor_slices(course_data())
    plain = [xb.numpy().tolist() for xb, _ in dataset.batch(4)]
    prefetched = dataset.batch(4).prefetch(tf.data.AUTOTUNE)
    return {
        "batches of x": plain,
        "same batches, prefetched": [xb.numpy().tolist() for xb, _ in prefetched] == plain,
    }


def lightning_datamodule() -> dict[str, object]:
    def course_datasets(permutation: list[int], batch_size: int = 4) -> tuple[tf.data.Dataset, tf.data.Dataset]:
        x, y = course_data()
        train = tf.data.Dataset.from_tensor_slices((x[:8][permutation], y[:8][permutation]))
        val = tf.data.Dataset.from_tensor_slices((x[8:], y[8:]))
        return train.batch(batch_size), val.batch(batch_size)

    train, val = course_datasets(permutation=[3, 0, 6, 1, 7, 2, 5, 4])
    return {
        "train batches of x": [xb.numpy().tolist() for xb, _ in train],
        "validation batches of x": [xb.numpy().tolist() for xb, _ in val],
    }
