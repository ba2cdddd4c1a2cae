"""ptref.data.images: any PNG/JPEG becomes an MNIST-like 28×28 uint8 digit; a non-image is named."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from ptref.data.images import load_as_mnist


@pytest.fixture
def digit(mnist_t10k_dir) -> np.ndarray:
    """A real MNIST digit (the first t10k image, a 7), read with NumPy: light ink on black, 28×28."""
    data = gzip.decompress((mnist_t10k_dir / "t10k-images-idx3-ubyte.gz").read_bytes())
    return np.frombuffer(data[16 : 16 + 784], np.uint8).reshape(28, 28)


def mean_abs_difference(a, b) -> float:
    return float(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)).mean())


# Tolerance on the mean |difference| (grey levels, 0–255): upscaling (nearest) and resizing back with
# Lanczos blurs the edges: measured 1.6 (tinted paper, PNG), 1.6 (JPEG q95), 1.4 (grey ×2).
# A missing inversion gives 243 on this digit, a mirrored one 29, a transposed one 39.
TOLERANCE = 3.0


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_a_large_colour_picture_dark_on_light_becomes_the_mnist_digit(tmp_path, digit, suffix):
    paper = Image.fromarray(255 - digit).resize((112, 112), Image.Resampling.NEAREST)
    coloured = Image.merge("RGB", [paper, paper, paper.point(lambda v: min(255, v + 20))])  # bluish paper
    path = tmp_path / f"digit{suffix}"
    coloured.save(path, quality=95)
    loaded = load_as_mnist(path)
    assert loaded.shape == (28, 28) and loaded.dtype == torch.uint8
    assert mean_abs_difference(loaded, digit) < TOLERANCE


def test_a_light_on_dark_grey_picture_is_not_inverted(tmp_path, digit):
    path = tmp_path / "digit.png"
    Image.fromarray(digit).resize((56, 56), Image.Resampling.NEAREST).save(path)
    assert mean_abs_difference(load_as_mnist(path), digit) < TOLERANCE


def test_a_wide_shape_keeps_its_aspect_ratio(tmp_path):
    page = Image.new("L", (400, 400), "white")
    ImageDraw.Draw(page).ellipse([(60, 150), (300, 230)], fill="black")  # ink 241 × 81 px, off-centre
    path = tmp_path / "wide.png"
    page.save(path)
    loaded = load_as_mnist(path).numpy()
    rows, cols = np.flatnonzero(loaded.max(axis=1)), np.flatnonzero(loaded.max(axis=0))
    # the long side fills MNIST's 20 px box; the short one is 20·81/241 = 6.7 px, ±1 for whole-pixel rounding
    assert len(cols) == 20 and abs(len(rows) - 20 * 81 / 241) <= 1


def test_transparent_background_counts_as_paper(tmp_path, digit):
    ink = np.zeros((28, 28, 4), np.uint8)
    ink[..., 3] = digit  # black ink whose opacity is the digit, on a transparent canvas
    path = tmp_path / "drawn.png"
    Image.fromarray(ink, "RGBA").save(path)
    assert mean_abs_difference(load_as_mnist(path), digit) < 1.0  # same size: only rounding


def test_a_file_that_is_not_an_image_is_named_in_the_error(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("not a picture")
    with pytest.raises(ValueError, match=r"notes.png: not an image file"):
        load_as_mnist(path)


def test_a_missing_file_is_named_in_the_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.png"):
        load_as_mnist(tmp_path / "nothing.png")
