"""Your own pictures as MNIST digits: any PNG/JPEG (any size, colour or grey, with or without alpha).

MNIST digits are light strokes on a black 28×28 background. A photo or a drawing is usually dark ink on
a light page, so :func:`load_as_mnist` inverts pictures whose border is light, pads them to a square
(keeping the aspect ratio) and resizes to 28×28 — the course's
``Image.open(f).convert("L").resize((28, 28))`` plus the inversion and the aspect ratio.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

MNIST_SIZE = 28


def load_as_mnist(path: str | Path) -> torch.Tensor:
    """Read an image file as an MNIST-like uint8 tensor ``[28, 28]`` (light ink on black).

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file is not an image Pillow can read (the message names the file).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such image file")
    try:
        with Image.open(path) as opened:
            picture = ImageOps.exif_transpose(opened)
            picture.load()
    except (UnidentifiedImageError, OSError) as error:
        raise ValueError(f"{path}: not an image file that can be read (PNG or JPEG expected): {error}") from None
    if picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info:
        # Transparent pixels are background: put the picture on white paper first.
        paper = Image.new("RGBA", picture.size, "white")
        picture = Image.alpha_composite(paper, picture.convert("RGBA"))
    grey = np.asarray(picture.convert("L"))
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    if border.mean() > 127:
        grey = 255 - grey
    square = ImageOps.pad(
        Image.fromarray(grey), (MNIST_SIZE, MNIST_SIZE), method=Image.Resampling.LANCZOS, color=0
    )
    return torch.from_numpy(np.array(square, dtype=np.uint8))
