"""IDX files, the format MNIST and Fashion-MNIST ship in (``train-images-idx3-ubyte.gz`` and friends).

Layout (big-endian): two zero bytes, a type code (0x08 = uint8, ...), the number of dimensions ``d``,
then ``d`` sizes as uint32, then the data. Keras's ``keras.datasets.mnist.load_data()`` and torchvision's
``read_image_file`` read the same files; this reader adds what they lack: gzip or raw by content (not by
name), and an error that names the file and says what to do when a file is corrupt, truncated or paired
with the wrong partner.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np
import torch

GZIP_MAGIC = b"\x1f\x8b"
# IDX type code -> big-endian NumPy dtype
IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
REFETCH = "delete it and fetch it again (download: true), or copy the original file"
# The names the files have on yann.lecun.com / torchvision, and the dotted names of some mirrors (Kaggle).
NAME_PATTERNS = ("{set}-{kind}-idx{rank}-ubyte", "{set}-{kind}.idx{rank}-ubyte")
RANKS = {"images": 3, "labels": 1}


class IDXError(ValueError):
    """A file that is not a readable IDX file; the message names the file and the fix."""


def read_idx(path: str | Path) -> torch.Tensor:
    """Read one IDX file, gzip-compressed or raw, into a tensor of its own dtype and shape.

    Raises:
        FileNotFoundError: the file does not exist.
        IDXError: a damaged gzip stream, a wrong magic number, an unknown type code, or a data size that
            differs from what the header promises (truncated or with trailing bytes).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such IDX file")
    data = path.read_bytes()
    if data[:2] == GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (EOFError, OSError, zlib.error) as error:
            raise IDXError(f"{path}: the gzip stream is damaged or truncated ({error}); {REFETCH}") from None
    if len(data) < 4 or data[:2] != b"\x00\x00" or data[2] not in IDX_TYPES or data[3] == 0:
        hint = " (it looks like an HTML page: a failed download?)" if data.lstrip()[:1] == b"<" else ""
        raise IDXError(
            f"{path}: not an IDX file, magic number {data[:4].hex() or 'missing'} "
            f"(expected 00000801 for labels or 00000803 for images){hint}; {REFETCH}"
        )
    rank = data[3]
    header_size = 4 + 4 * rank
    if len(data) < header_size:
        raise IDXError(f"{path}: truncated inside the header ({len(data)} of {header_size} bytes); {REFETCH}")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(rank))
    dtype = np.dtype(IDX_TYPES[data[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    found = len(data) - header_size
    if found != expected:
        what = "truncated" if found < expected else "longer than its header says"
        raise IDXError(
            f"{path}: {what}: the header announces shape {shape} = {expected:,} bytes of data, "
            f"the file holds {found:,}; {REFETCH}"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header_size).reshape(shape)
    return torch.from_numpy(array.astype(dtype.newbyteorder("=")))


def read_images_and_labels(images_path: str | Path, labels_path: str | Path) -> tuple[torch.Tensor, torch.Tensor]:
    """Read an images/labels pair: uint8 images ``[N, H, W]`` and int64 labels ``[N]``.

    Raises ``IDXError`` when the images are not a uint8 rank-3 array, the labels not a rank-1 array, or
    the two files hold different numbers of examples.
    """
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.dtype != torch.uint8 or images.ndim != 3:
        raise IDXError(
            f"{images_path}: expected uint8 images of shape [N, H, W], found {images.dtype} {tuple(images.shape)} "
            "(is this a labels file?)"
        )
    if labels.ndim != 1:
        raise IDXError(
            f"{labels_path}: expected labels of shape [N], found {tuple(labels.shape)} (is this an images file?)"
        )
    if len(images) != len(labels):
        raise IDXError(
            f"{images_path} holds {len(images):,} images but {labels_path} holds {len(labels):,} labels: "
            "the two files must come from the same set (both train or both t10k)"
        )
    return images, labels.long()


def find_idx_pair(folders: list[Path], file_set: str) -> tuple[Path, Path] | None:
    """The ``(images, labels)`` paths of ``file_set`` ('train' or 't10k') in the first folder holding both.

    Each file may be gzip-compressed (``.gz``) or raw; the first matching name wins.
    """
    for folder in folders:
        found = [_first_existing(folder, file_set, kind) for kind in RANKS]
        if all(found):
            return found[0], found[1]
    return None


def expected_names(file_set: str) -> str:
    """The file names :func:`find_idx_pair` looks for, for error messages."""
    return " and ".join(f"{NAME_PATTERNS[0].format(set=file_set, kind=k, rank=r)}[.gz]" for k, r in RANKS.items())


def _first_existing(folder: Path, file_set: str, kind: str) -> Path | None:
    for pattern in NAME_PATTERNS:
        name = pattern.format(set=file_set, kind=kind, rank=RANKS[kind])
        for candidate in (folder / name, folder / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    return None
