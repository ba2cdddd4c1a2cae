"""Your own pictures as MNIST digits: any PNG/JPEG (any size, colour or grey, with or without alpha).

MNIST digits are not just small pictures. LeCun et al. took bilevel NIST scans, "size normalized [them] to fit
in a 20x20 pixel box while preserving their aspect ratio" (anti-aliased, hence the grey levels) and "centered
[them] in a 28x28 image by computing the center of mass of the pixels". A model trained on MNIST has only ever
seen digits like that, so :func:`load_as_mnist` prepares a picture the same way:

1. **Paper to black.** The picture is read as grey (transparent pixels count as white paper; pictures over
   2048 px are box-averaged to under that). The paper's shading (gradient lighting, vignetting, colour cast)
   is a quadratic surface ``P = c0 + c1·x + c2·y + c3·x² + c4·x·y + c5·y²`` least-squares fitted to the
   background of a ≤ 64 px copy. If the paper is lighter than the ink (the border's median lies nearer the
   brightest than the darkest level of a blurred copy), lighting multiplies paper and ink alike and the ink
   is ``r = 255·(1 − grey / P)``; on a dark background (already MNIST-like) ``r = grey − P``. Either way ink
   is bright, as in MNIST.
2. **Ink to [0, 1].** With ``m`` and ``σ = 1.4826·MAD`` the paper's level and robust spread, ink is what
   lies above ``m + max(6σ, 32)``; ``v = clip((r − (m + 3σ)) / (ink₇₅ − (m + 3σ)), 0, 1)`` then maps paper
   noise to 0 and the ink's 75th percentile to 1 (as in MNIST, whose ink's 75th percentile is 253 of 255).
   No ink at all is an error ("no ink found").
3. **Crop** to the ink's bounding box, leaving out specks at the edges that hold under 0.2% of it.
4. **Thicken thin pens.** A 2 px line on a 1000 px canvas would shrink to a faint 0.04 px one. With stroke
   width ``w = 2·Σv / Σ|∇v|`` (ink area over half its outline) and box side ``L``, a stroke narrower than
   MNIST's thinnest tenth (1.5 px in the 20 px box) is dilated (maximum filter) by ``g`` pixels so that
   ``(w + g)·20 / (L + g) = 1.5``.
5. **Scale** the longer side to 20 px, keeping the aspect ratio (anti-aliased Lanczos resampling).
6. **Centre** in the 28×28 frame by moving the centre of mass ``Σ v·(row, col) / Σ v`` to pixel (14, 14), as
   in MNIST (t10k: 13.99, 14.01), by whole pixels and never past the frame's edge.

The course did ``Image.open(f).convert("L").resize((28, 28))``: no inversion (a dark-on-light drawing becomes
a light-on-dark negative, which no MNIST model can read), no crop (a digit filling its canvas becomes a 28 px
digit) and no centring.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError
from torch.utils.data import TensorDataset

MNIST_SIZE = 28
BOX = 20  # MNIST's size-normalized box: 9,997 of the 10,000 t10k digits have ink spanning exactly 20 px
CENTRE = 14  # where MNIST puts the centre of mass (row, column); t10k mean 13.99, 14.01 (std 0.29)
MIN_STROKE = 1.5  # stroke width 2·Σv/Σ|∇v| in the 20 px box that 90% of t10k digits exceed (median 2.0)
INK_PERCENTILE = 75  # the ink level mapped to 255; MNIST's own is 253, so its digits pass through unchanged
MIN_CONTRAST = 32.0  # grey levels ink must stand above the paper by: less is shading or a blank page
INK_SIGMAS, PAPER_SIGMAS = 6.0, 3.0  # ink lies beyond 6σ of the paper's noise; 3σ is still paper
SPECKS = 0.002  # fraction of the ink that may lie beyond each side of the crop (dust, noise)
WORKING_SIZE = 1024  # larger pictures are box-averaged to 1024–2047 px: ample for a 20 px box, and quick
SHADING_SIZE = 64  # the paper's shading is fitted on a copy this small (smooth, so nothing is lost)


def load_as_mnist(path: str | Path) -> torch.Tensor:
    """Read an image file as an MNIST-like uint8 tensor ``[28, 28]``: light ink on black, size-normalized
    to a 20 px box and centred by centre of mass (see the module docstring for each step).

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file is not an image Pillow can read, or it holds no ink (the message names the file).
    """
    path = Path(path)
    grey = _open(path).convert("L")
    grey = np.asarray(grey.reduce(max(1, max(grey.size) // WORKING_SIZE)), np.float32)
    ink = _crop(*_ink_levels(_ink_above_paper(grey), path))
    box = _scale_to_box(_thicken(ink))
    return torch.from_numpy(np.rint(_centre(box) * 255).astype(np.uint8))


def _open(path: Path) -> Image.Image:
    """The picture upright (EXIF orientation applied), transparent pixels turned into white paper."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such image file")
    try:
        with Image.open(path) as opened:
            picture = ImageOps.exif_transpose(opened)
            picture.load()
    except (UnidentifiedImageError, OSError) as error:
        raise ValueError(f"{path}: not an image file that can be read (PNG or JPEG expected): {error}") from None
    if picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info:
        paper = Image.new("RGBA", picture.size, "white")
        picture = Image.alpha_composite(paper, picture.convert("RGBA"))
    return picture


def _ink_above_paper(grey: np.ndarray) -> np.ndarray:
    """Grey levels (0–255) of bright ink over the paper at 0: light paper's lighting divided out, a dark
    background's level subtracted."""
    blurred = np.asarray(Image.fromarray(grey).reduce(max(1, max(grey.shape) // SHADING_SIZE)))
    border = np.concatenate([blurred[0], blurred[-1], blurred[:, 0], blurred[:, -1]])
    if np.median(border) <= (blurred.min() + blurred.max()) / 2:  # the border, mostly paper, is dark
        return grey - _paper_shading(grey)
    # Light falling on paper multiplies paper and ink alike: the ink is 1 − grey / paper (flat-field correction).
    paper = 255 - _paper_shading(255 - grey)
    return 255 * (1 - grey / np.maximum(paper, 1))


def _quadratic_terms(y: np.ndarray, x: np.ndarray) -> list[np.ndarray]:
    """``1, x, y, x², x·y, y²`` on the grid ``y[:, None], x[None, :]``."""
    y, x = y[:, None], x[None, :]
    return [np.ones_like(x), x, y, x * x, x * y, y * y]


def _paper_shading(grey: np.ndarray) -> np.ndarray:
    """The quadratic surface fitted to the paper of ``grey`` (bright ink), with ``x, y`` in [-1, 1].

    It is fitted on a small copy whose pixels are the minimum over blocks of the picture: a block that holds
    any paper is paper there, unblurred by the ink beside it. Its paper is first the blocks nearer the darkest
    than the brightest, then the blocks within 3σ (+1 grey level) of the last fit. The blocks' minimum lies a
    little below the paper's typical level; :func:`_ink_levels` measures the paper again.
    """
    height, width = grey.shape
    step = max(1, max(height, width) // SHADING_SIZE)
    rows, cols = height // step, width // step
    small = grey[: rows * step, : cols * step].reshape(rows, step, cols, step).min(axis=(1, 3))

    def grid(count: int, length: int, spacing: int) -> np.ndarray:  # pixel or block centres, in [-1, 1]
        return (np.arange(count, dtype=np.float32) + 0.5) * (2 * spacing / length) - 1

    block_terms = _quadratic_terms(grid(rows, height, step), grid(cols, width, step))
    terms = np.stack([np.broadcast_to(t, small.shape).ravel() for t in block_terms], axis=1)
    values = small.ravel()
    paper = values <= (values.min() + values.max()) / 2
    for _ in range(3):
        coefficients = np.linalg.lstsq(terms[paper], values[paper], rcond=None)[0]
        above = values - terms @ coefficients
        paper = above <= PAPER_SIGMAS * 1.4826 * np.median(np.abs(above[paper])) + 1
    pixel_terms = _quadratic_terms(grid(height, height, 1), grid(width, width, 1))
    return sum(c * t for c, t in zip(coefficients.astype(np.float32), pixel_terms))


def _ink_levels(above: np.ndarray, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Ink intensity in [0, 1] from levels above the fitted paper (paper noise 0, typical ink 1), and the mask
    of clearly inked pixels (beyond ``m + max(6σ, 32)``).

    Statistics come from one histogram of whole grey levels: the paper's level ``m`` is the commonest one
    within 32 of the fitted surface, its spread ``σ = 1.4826·MAD`` is measured below ``m`` (where no ink lies,
    however much ink the picture holds), and the ink's 75th percentile.
    """
    levels = np.clip(np.rint(above), -255, 255).astype(np.int64) + 255
    counts = np.bincount(levels.ravel(), minlength=511)
    paper = int(np.argmax(counts[: 256 + int(MIN_CONTRAST)]))
    spread = 1.4826 * _percentile(counts[paper::-1], 50)
    ink_from = int(paper + max(INK_SIGMAS * spread, MIN_CONTRAST))
    ink = counts[ink_from + 1 :]
    if ink.sum() == 0:
        raise ValueError(
            f"{path}: no ink found (nothing stands {MIN_CONTRAST:.0f} grey levels out from the paper); "
            "expected a digit drawn in dark ink on light paper, or light on dark"
        )
    low = paper + PAPER_SIGMAS * spread - 255
    high = ink_from + 1 + _percentile(ink, INK_PERCENTILE) - 255
    return np.clip((above - low) / (high - low), 0, 1).astype(np.float32), levels > ink_from


def _percentile(counts: np.ndarray, q: float) -> int:
    """The ``q``-th percentile of a histogram: the first bin whose cumulative count reaches q% of the total."""
    cumulative = np.cumsum(counts)
    return int(np.searchsorted(cumulative, cumulative[-1] * q / 100))


def _crop(ink: np.ndarray, inked: np.ndarray) -> np.ndarray:
    """``ink`` cut to the box of the ``inked`` pixels, less the rows/columns at each edge holding under
    ``SPECKS`` of them."""
    spans = []
    for axis in (1, 0):
        cumulative = np.cumsum(inked.sum(axis=axis))
        first = np.searchsorted(cumulative, cumulative[-1] * SPECKS, side="right")
        last = np.searchsorted(cumulative, cumulative[-1] * (1 - SPECKS), side="left")
        spans.append(slice(first, last + 1))
    return ink[tuple(spans)]


def _thicken(ink: np.ndarray) -> np.ndarray:
    """``ink`` dilated so that its stroke is at least ``MIN_STROKE`` px wide once scaled to the 20 px box."""
    outline = np.abs(np.diff(ink, axis=0)).sum() + np.abs(np.diff(ink, axis=1)).sum()
    width = 2 * ink.sum() / max(outline, 1e-6)
    # (width + grow) · BOX / (side + grow) = MIN_STROKE, solved for grow
    grow = round((MIN_STROKE * max(ink.shape) - BOX * width) / (BOX - MIN_STROKE))
    return _maximum_filter(ink, grow + 1) if grow > 0 else ink


def _maximum_filter(ink: np.ndarray, size: int) -> np.ndarray:
    """Maximum over every ``size × size`` window of ``ink`` padded with ``size − 1`` zeros on each side, so
    the result is ``size − 1`` larger and keeps all of the widened ink.

    Each axis takes ``log2(size)`` passes: the maximum over ``[i, i + 2s)`` is that of ``[i, i + s)`` and
    ``[i + s, i + 2s)``, and a window of any length is covered by two overlapping power-of-two windows.
    """
    result = np.pad(ink, size - 1)
    for axis in (0, 1):
        result = np.moveaxis(result, axis, 0)
        span = 1
        while 2 * span <= size:
            result = np.maximum(result[:-span], result[span:])
            span *= 2
        if span < size:
            result = np.maximum(result[: span - size], result[size - span :])
        result = np.moveaxis(result, 0, axis)
    return result


def _scale_to_box(ink: np.ndarray) -> np.ndarray:
    """``ink`` resized (anti-aliased) so that its longer side is ``BOX`` px, keeping the aspect ratio."""
    height, width = ink.shape
    scale = BOX / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    resized = Image.fromarray(ink).resize(size, Image.Resampling.LANCZOS)
    return np.clip(np.asarray(resized), 0, 1)


def _centre(box: np.ndarray) -> np.ndarray:
    """``box`` pasted into a black 28×28 frame with its centre of mass on pixel (14, 14) (to the nearest
    pixel, and as near as the frame allows)."""
    frame = np.zeros((MNIST_SIZE, MNIST_SIZE), np.float32)
    origin = []
    for axis, length in enumerate(box.shape):
        mass = box.sum(axis=1 - axis)
        centre_of_mass = float(mass @ np.arange(length)) / max(float(mass.sum()), 1e-6)
        origin.append(min(max(round(CENTRE - centre_of_mass), 0), MNIST_SIZE - length))
    top, left = origin
    frame[top : top + box.shape[0], left : left + box.shape[1]] = box
    return frame


def image_files_dataset(
    files: Sequence[str | Path], load_image: Callable[[str | Path], torch.Tensor], example: str
) -> TensorDataset:
    """``(image, file index)`` pairs for ``ptref predict``, each file read by the data module's ``load_image``
    (the reader ``ptref serve`` uses too); ``example`` names a file for the message when there is none."""
    if not files:
        raise ValueError(f"nothing to predict: pass image files, e.g. --data.predict_files '[{example}]'")
    return TensorDataset(torch.stack([load_image(file) for file in files]), torch.arange(len(files)))
