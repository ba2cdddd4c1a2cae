"""Users' own digits: real MNIST digits drawn as a user would (filling the canvas, off-centre, photographed,
with a thin pen) come back through ``load_as_mnist`` as MNIST digits, and a classifier reads them as such."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from ptref.data.idx import find_idx_pair, read_images_and_labels
from ptref.data.images import load_as_mnist

ROUND_TRIP_DIGITS = range(8000, 8020)  # t10k digits the classifier below does not train on
# Correlation with the original after the best shift of at most 1 px (MNIST itself centres to the nearest
# pixel, so a centre of mass at 14.5 may land either side). Measured on t10k 8000–8149 in every setting below:
# minimum 0.91, median 0.99. References on t10k (median / 99th percentile): the digit 14% larger 0.83 / 0.93,
# another digit of the same class 0.68 / 0.92, the digit moved 2 px 0.60 / 0.76.
MIN_CORRELATION, MIN_MEDIAN_CORRELATION = 0.90, 0.97
# The centre of mass goes to pixel 14 by whole pixels (≤ 0.5 px off), plus the uint8 rounding of the ink.
MAX_CENTRE_ERROR = 0.6


@pytest.fixture(scope="module")
def t10k(mnist_t10k_dir) -> tuple[np.ndarray, np.ndarray]:
    images, labels = read_images_and_labels(*find_idx_pair([mnist_t10k_dir], "t10k"))
    return images.numpy(), labels.numpy()


def ink_box(image: np.ndarray) -> np.ndarray:
    """The part of ``image`` between its first and last non-zero rows and columns."""
    rows, cols = np.flatnonzero(image.max(axis=1)), np.flatnonzero(image.max(axis=0))
    return image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def centre_of_mass(image: np.ndarray) -> np.ndarray:
    """``Σ v·(row, col) / Σ v``."""
    image = image.astype(np.float64)
    return np.array([image.sum(axis=1 - axis) @ np.arange(image.shape[axis]) for axis in (0, 1)]) / image.sum()


def best_shift_correlation(loaded: np.ndarray, original: np.ndarray) -> float:
    """The highest correlation of ``loaded`` moved by at most one pixel each way with ``original``."""
    return max(
        np.corrcoef(np.roll(loaded, (dy, dx), axis=(0, 1)).ravel(), original.ravel())[0, 1]
        for dy in (-1, 0, 1)
        for dx in (-1, 0, 1)
    )


def draw(digit: np.ndarray, canvas: tuple[int, int], fill: float, at: tuple[float, float]) -> np.ndarray:
    """Ink coverage in [0, 1] on a ``canvas`` (width, height): the digit's ink box, smoothly upscaled to
    ``fill`` of the canvas (1: touching its borders) and placed at ``at`` (0–1) of the room left over."""
    box = ink_box(digit)
    width, height = canvas
    scale = fill * min(width / box.shape[1], height / box.shape[0])
    size = (round(box.shape[1] * scale), round(box.shape[0] * scale))
    ink = np.zeros((height, width), np.float32)
    top, left = round((height - size[1]) * at[1]), round((width - size[0]) * at[0])
    upscaled = Image.fromarray(box).resize(size, Image.Resampling.BICUBIC)
    ink[top : top + size[1], left : left + size[0]] = np.asarray(upscaled, np.float32) / 255
    return ink


def on_white_paper(ink: np.ndarray, path) -> None:
    Image.fromarray(np.rint(255 * (1 - ink)).astype(np.uint8)).save(path)


def photographed(ink: np.ndarray, path) -> None:
    """Blue-black pen on yellowish paper lit from one side, with darker corners (light 0.5–0.95), sensor
    noise (σ = 6 grey levels) and JPEG compression (quality 75)."""
    height, width = ink.shape
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    light = 0.7 + 0.3 * x + 0.1 * y - 0.4 * ((x - 0.5) ** 2 + (y - 0.5) ** 2)
    paper, pen = np.array([250, 235, 200]), np.array([30, 30, 70])
    colour = (paper * (1 - ink[..., None]) + pen * ink[..., None]) * light[..., None]
    colour += np.random.default_rng(0).normal(0, 6, colour.shape)
    Image.fromarray(np.clip(colour, 0, 255).astype(np.uint8)).save(path, quality=75)


def on_transparent_canvas(ink: np.ndarray, path) -> None:
    rgba = np.zeros(ink.shape + (4,), np.uint8)
    rgba[..., 3] = np.rint(255 * ink)
    Image.fromarray(rgba, "RGBA").save(path)


def chalk_on_a_board(ink: np.ndarray, path) -> None:
    Image.fromarray(np.rint(40 + 200 * ink).astype(np.uint8)).save(path)


DRAWINGS = {
    "filling a 300x300 canvas": ((300, 300), 1.0, (0.5, 0.5), on_white_paper, "png"),
    "small and off-centre on 640x480": ((640, 480), 0.35, (0.1, 0.85), on_white_paper, "png"),
    "photographed, filling the picture": ((300, 300), 1.0, (0.5, 0.5), photographed, "jpg"),
    "photographed, off-centre": ((640, 480), 0.5, (0.8, 0.2), photographed, "jpg"),
    "on a transparent canvas": ((300, 300), 1.0, (0.5, 0.5), on_transparent_canvas, "png"),
    "in chalk on a dark board": ((400, 300), 0.9, (0.3, 0.5), chalk_on_a_board, "png"),
}


@pytest.mark.parametrize("drawing", DRAWINGS)
def test_a_drawn_mnist_digit_comes_back_as_itself(tmp_path, t10k, drawing):
    canvas, fill, at, render, suffix = DRAWINGS[drawing]
    images, _ = t10k
    correlations = []
    for index in ROUND_TRIP_DIGITS:
        path = tmp_path / f"{index}.{suffix}"
        render(draw(images[index], canvas, fill, at), path)
        loaded = load_as_mnist(path).numpy()
        assert max(ink_box(loaded).shape) == 20, f"digit {index}: not size-normalized to MNIST's 20 px box"
        assert np.abs(centre_of_mass(loaded) - 14).max() <= MAX_CENTRE_ERROR, f"digit {index}: not centred"
        correlations.append(best_shift_correlation(loaded.astype(np.float64), images[index].astype(np.float64)))
        assert correlations[-1] >= MIN_CORRELATION, f"digit {index}: correlation {correlations[-1]:.3f}"
    assert np.median(correlations) >= MIN_MEDIAN_CORRELATION


def test_a_speck_of_dust_far_from_the_digit_is_left_out(tmp_path, t10k):
    images, _ = t10k
    index = ROUND_TRIP_DIGITS.start
    ink = draw(images[index], (600, 600), 0.5, (0.5, 0.5))
    ink[20:24, 570:574] = 1  # 16 px of dirt, under 0.2% of the digit's ink, in a corner
    on_white_paper(ink, tmp_path / "dusty.png")
    loaded = load_as_mnist(tmp_path / "dusty.png").numpy()
    assert best_shift_correlation(loaded.astype(np.float64), images[index].astype(np.float64)) >= MIN_CORRELATION


# Softmax regression (784 → 10) on the first 8,000 t10k digits: 92.3% on the next 300, trained in under a
# second. Drawings differ from the originals only by resampling and by ≤ 1 px of placement (measured: 92.3% on
# them too); the bound allows ~3 points (9 of 300 digits), while the course's plain resize gives 19%.
CLASSIFIER_DIGITS = range(8000, 8300)
ACCURACY_TOLERANCE = (0.02, 0.01)  # absolute, relative to the accuracy on the originals


def softmax_regression(images: np.ndarray, labels: np.ndarray) -> torch.nn.Module:
    torch.manual_seed(0)
    model = torch.nn.Linear(784, 10)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    inputs, targets = torch.from_numpy(images).float().flatten(1) / 255, torch.from_numpy(labels)
    order = torch.Generator().manual_seed(0)
    for _ in range(5):
        for batch in torch.randperm(len(inputs), generator=order).split(100):
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(inputs[batch]), targets[batch]).backward()
            optimizer.step()
    return model


def accuracy(model: torch.nn.Module, images: np.ndarray, labels: np.ndarray) -> float:
    with torch.no_grad():
        predicted = model(torch.from_numpy(images).float().flatten(1) / 255).argmax(dim=1)
    return float((predicted.numpy() == labels).mean())


def test_a_classifier_reads_canvas_filling_drawings_as_well_as_mnist(tmp_path, t10k):
    images, labels = t10k
    model = softmax_regression(images[:8000], labels[:8000])
    drawn = []
    for index in CLASSIFIER_DIGITS:
        on_white_paper(draw(images[index], (168, 168), 1.0, (0.5, 0.5)), tmp_path / "digit.png")
        drawn.append(load_as_mnist(tmp_path / "digit.png").numpy())
    held_out = slice(CLASSIFIER_DIGITS.start, CLASSIFIER_DIGITS.stop)
    originals = accuracy(model, images[held_out], labels[held_out])
    drawings = accuracy(model, np.stack(drawn), labels[held_out])
    absolute, relative = ACCURACY_TOLERANCE
    assert originals > 0.85, "the classifier itself did not train"
    assert drawings >= originals - (absolute + relative * originals), f"{drawings:.3f} vs {originals:.3f}"


@pytest.mark.parametrize("render", [on_white_paper, photographed])
def test_a_thin_pen_line_on_a_large_canvas_keeps_mnist_ink(tmp_path, render):
    page = Image.new("L", (1000, 1000), 0)
    pen = ImageDraw.Draw(page)
    pen.line([(250, 200), (700, 200), (420, 850)], fill=255, width=2)  # a 7
    pen.line([(430, 520), (620, 520)], fill=255, width=2)  # its bar
    path = tmp_path / f"seven.{'png' if render is on_white_paper else 'jpg'}"
    render(np.asarray(page, np.float32) / 255, path)
    loaded = load_as_mnist(path).numpy()
    # MNIST strokes reach 253–255; a 2 px line shrunk 50× without thickening peaks near 255·2/50 ≈ 10.
    assert loaded.max() > 200
    assert max(ink_box(loaded).shape) == 20


@pytest.mark.parametrize("render", [on_white_paper, photographed, on_transparent_canvas])
def test_a_blank_page_has_no_ink(tmp_path, render):
    path = tmp_path / f"blank.{'jpg' if render is photographed else 'png'}"
    render(np.zeros((300, 400), np.float32), path)
    with pytest.raises(ValueError, match=r"blank\.(png|jpg): no ink found"):
        load_as_mnist(path)
