"""The tensors lesson: ranks, layouts, dtypes, dynamic shapes and placement, as the course states them."""

from __future__ import annotations

import numpy as np
import pytest

from ptref.concepts import tensors


def test_ranks_of_the_course_examples() -> None:
    ranks = tensors.ranks()
    assert ranks["3.14"] == pytest.approx(3.14, rel=1e-7)  # 3.14 rounded to float32
    assert [ranks[k] for k in ("rank of 3.14", "rank of [1, 2, 3]", "rank of [[1, 2], [3, 4]]")] == [0, 1, 2]
    assert ranks["shape of [[1, 2], [3, 4]]"] == [2, 2]
    assert ranks["rank of an RGB image"] == 3


def test_image_layout_moves_channels_first_without_changing_pixels() -> None:
    layout = tensors.image_layout()
    assert layout["[H, W, C]"] == [4, 6, 3]
    assert layout["[C, H, W]"] == [3, 4, 6]
    assert layout["pixel h=1, w=2, channel 0"] == np.arange(72).reshape(4, 6, 3)[1, 2, 0]
    assert layout["batch for nn.Conv2d"] == [1, 3, 4, 6]


def test_dtypes_default_to_float32_and_int64_and_promote() -> None:
    assert tensors.dtypes() == {
        "3.14": "torch.float32",
        "[1, 2, 3]": "torch.int64",
        "cast to float16": "torch.float16",
        "3.14 + [1, 2, 3]": "torch.float32",
    }


def test_export_keeps_the_batch_dimension_dynamic() -> None:
    shapes = tensors.static_vs_dynamic_shape()
    assert shapes["eager shape"] == [4, 3]
    assert shapes["traced input shape"] == [None, 3]
    assert shapes["output for a batch of 7"] == [7, 3]


def test_to_the_current_device_does_not_copy() -> None:
    placed = tensors.device_placement()
    assert placed == {"x.device": "cpu", "y": [2.0, 4.0, 6.0], "y.device": "cpu", "copied": False}
