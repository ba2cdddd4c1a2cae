"""Writes IDX files the way the MNIST distribution does, from the format's spec (not from ptref's reader)."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np

TYPE_CODES = {np.dtype("uint8"): 0x08, np.dtype("int16"): 0x0B, np.dtype("float32"): 0x0D}


def idx_bytes(array: np.ndarray) -> bytes:
    """Magic (0, 0, type, rank), the sizes as big-endian uint32, then the data big-endian."""
    header = struct.pack(">BBBB", 0, 0, TYPE_CODES[array.dtype], array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx(path: Path, array: np.ndarray, gz: bool) -> Path:
    data = idx_bytes(array)
    path = path.with_name(path.name + ".gz") if gz else path
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def write_mnist_folder(
    folder: Path, sizes: dict[str, int], gz: bool = True, seed: int = 0
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Random 28×28 uint8 images and labels 0–9 as ``{set}-images-idx3-ubyte[.gz]`` etc.; returns the arrays."""
    rng = np.random.default_rng(seed)
    written = {}
    for file_set, n in sizes.items():
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        write_idx(folder / f"{file_set}-images-idx3-ubyte", images, gz)
        write_idx(folder / f"{file_set}-labels-idx1-ubyte", labels, gz)
        written[file_set] = (images, labels)
    return written
