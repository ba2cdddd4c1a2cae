"""Captcha images as a LightningDataModule: generated with the ``captcha`` package (seeded, cached), or read
from a folder.

TensorFlow course original (chapter 6)::

    image = ImageCaptcha(width=160, height=60)
    image.write(text, f"{captcha_dir}/{text}.png")             # text: 4 random digits
    gray = np.dot(rgb[..., :3], [0.299, 0.587, 0.114]) / 255     # Y' = 0.299 R + 0.587 G + 0.114 B, in [0, 1]
    y = np.concatenate([to_categorical(digit, 10) for digit in text])   # 4 one-hot blocks: a 40-vector

Here the images stay uint8 RGB ``[N, 3, 60, 160]`` in memory and become grayscale ``[B, 1, 60, 160]`` per batch,
after the batch reaches the device (:meth:`CaptchaDataModule.on_after_batch_transfer`). Labels are character
indices ``[N, length]``; :func:`one_hot` gives the course's 40-vector from them (the model builds it for the
binary cross-entropy loss).

``captcha`` draws every random choice from :mod:`secrets` (the OS's entropy, which cannot be seeded), so a set is
generated with that module swapped, inside ``captcha.image`` only and only while generating, for a
:class:`random.Random` seeded with ``seed``: the same seed gives the same texts and the same pixels (for the same
``captcha`` and Pillow versions, which are part of the cache key).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib.metadata import version
from pathlib import Path

import lightning.pytorch as pl
import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torch.utils.data import DataLoader, TensorDataset
from tqdm.auto import tqdm

from ptref.data.batches import batch_loader
from ptref.data.images import image_files_dataset

DIGITS = "0123456789"
LUMA = (0.299, 0.587, 0.114)  # ITU-R BT.601 luma weights, as the course's np.dot


def encode(texts: Sequence[str], charset: str) -> torch.Tensor:
    """Texts → character indices ``[N, length]`` (``"0427"`` → ``[0, 4, 2, 7]`` with the digits)."""
    return torch.tensor([[charset.index(char) for char in text] for text in texts], dtype=torch.long)


def decode(indices: torch.Tensor, charset: str) -> list[str]:
    """Character indices ``[N, length]`` → texts (the inverse of :func:`encode`)."""
    return ["".join(charset[i] for i in row) for row in indices.tolist()]


def one_hot(indices: torch.Tensor, num_chars: int) -> torch.Tensor:
    """The course's encoding: indices ``[N, length]`` → ``length`` one-hot blocks of ``num_chars``, float
    ``[N, length · num_chars]`` (block i is character i: Keras's ``Concatenate`` of the heads, in order)."""
    return torch.nn.functional.one_hot(indices, num_chars).flatten(1).float()


def grayscale(images: torch.Tensor) -> torch.Tensor:
    """uint8 RGB ``[B, 3, H, W]`` → float ``[B, 1, H, W]``: Y' = (0.299 R + 0.587 G + 0.114 B) / 255."""
    weights = torch.tensor(LUMA, dtype=torch.float32, device=images.device).view(1, 3, 1, 1)
    return (images.float() * weights).sum(dim=1, keepdim=True) / 255


def to_tensor(image: Image.Image, width: int = 160, height: int = 60) -> torch.Tensor:
    """A picture → uint8 RGB ``[3, height, width]``, resized (bilinear) when its size differs."""
    image = image.convert("RGB")
    if image.size != (width, height):
        image = image.resize((width, height), Image.Resampling.BILINEAR)
    return torch.from_numpy(np.array(image)).permute(2, 0, 1).contiguous()


class _SeededSecrets:
    """The three calls ``captcha.image`` makes on :mod:`secrets`, drawn from a seeded :class:`random.Random`."""

    def __init__(self, rng: random.Random) -> None:
        self.randbelow, self.choice, self.randbits = rng.randrange, rng.choice, rng.getrandbits


@contextmanager
def seeded_captcha(rng: random.Random) -> Iterator[None]:
    """Make ``captcha.image`` draw its randomness from ``rng`` inside the ``with`` block (not thread-safe)."""
    import captcha.image

    if not hasattr(captcha.image, "secrets"):
        raise RuntimeError(f"captcha {version('captcha')} does not draw from `secrets`; ptref needs captcha>=0.7")
    original = captcha.image.secrets
    captcha.image.secrets = _SeededSecrets(rng)
    try:
        yield
    finally:
        captcha.image.secrets = original


def generate(n: int, rng: random.Random, charset: str, length: int, width: int, height: int,
             progress: tqdm | None = None) -> tuple[np.ndarray, list[str]]:
    """``n`` random texts and their captcha images, uint8 RGB ``[n, height, width, 3]``, all drawn from ``rng``."""
    from captcha.image import ImageCaptcha

    generator = ImageCaptcha(width=width, height=height)
    images, texts = np.empty((n, height, width, 3), np.uint8), []
    with seeded_captcha(rng):
        for i in range(n):
            texts.append("".join(rng.choice(charset) for _ in range(length)))
            images[i] = np.asarray(generator.generate_image(texts[-1]).convert("RGB"))
            if progress is not None:
                progress.update()
    return images, texts


class CaptchaDataModule(pl.LightningDataModule):
    """Captchas of ``length`` characters from ``charset``: generated and cached, or read from ``data_dir``.

    Batches are ``(images, labels)``: float grayscale ``[B, 1, height, width]`` in [0, 1] and character indices
    ``[B, length]``. Validation uses the test set, as the course's ``validation_data=(x_test, y_test)``.

    Args:
        data_dir: ``None``: generate. Else a folder with ``train/`` and ``test/`` subfolders of ``<text>.png``
            files, the course's layout (``0427.png`` is the captcha "0427"), each ``width`` × ``height``.
        cache_dir: generated sets are saved under ``<cache_dir>/<key>/``, the key a hash of everything that
            decides the pixels (seed, sizes, charset, length, image size, captcha and Pillow versions), so a
            second run reads them back instead of generating again.
        seed: seed of the generated texts and images.
        n_train, n_test: generated set sizes (the course: 3,956 and 954).
        charset: the characters (``0123456789``; letters too, e.g. ``0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ``).
        length: characters per captcha (the course: 4).
        width, height: image size (the course: 160 × 60).
        batch_size: the course's 100.
        num_workers: DataLoader worker processes.
        predict_files: image files for ``ptref predict`` (resized to ``width`` × ``height`` when they differ).
    """

    def __init__(
        self,
        data_dir: str | None = None,
        cache_dir: str = "data/captcha",
        seed: int = 42,
        n_train: int = 3956,
        n_test: int = 954,
        charset: str = DIGITS,
        length: int = 4,
        width: int = 160,
        height: int = 60,
        batch_size: int = 100,
        num_workers: int = 0,
        predict_files: list[str] | None = None,
    ) -> None:
        super().__init__()
        if len(set(charset)) != len(charset) or not charset:
            raise ValueError(f"--data.charset must be distinct characters, got {charset!r}")
        if length < 1 or n_train < 1 or n_test < 1:
            raise ValueError(f"--data.length, n_train and n_test must be >= 1, got {length}, {n_train}, {n_test}")
        self.save_hyperparameters()

    @property
    def cache_folder(self) -> Path:
        """``<cache_dir>/<key>``: where this generated set lives."""
        return Path(self.hparams.cache_dir) / self._key()

    def _parameters(self) -> dict:
        names = ("seed", "n_train", "n_test", "charset", "length", "width", "height")
        return {**{name: self.hparams[name] for name in names},
                "captcha": version("captcha"), "pillow": version("pillow")}

    def _key(self) -> str:
        return hashlib.sha256(json.dumps(self._parameters(), sort_keys=True).encode()).hexdigest()[:16]

    def prepare_data(self) -> None:
        """Generate the set once (rank 0 only, as Lightning calls this), unless it is cached or read from a folder."""
        if self.hparams.data_dir is not None or (self.cache_folder / "captcha.npz").is_file():
            return
        hp = self.hparams
        rng = random.Random(hp.seed)
        with tqdm(total=hp.n_train + hp.n_test, desc="generating captchas", unit="image") as progress:
            arrays = {}
            for split, n in (("train", hp.n_train), ("test", hp.n_test)):
                images, texts = generate(n, rng, hp.charset, hp.length, hp.width, hp.height, progress)
                arrays |= {f"{split}_images": images, f"{split}_texts": np.array(texts)}
        folder = self.cache_folder
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / "captcha.partial.npz"  # renamed when complete: an interrupted run leaves no half set
        np.savez_compressed(partial, **arrays)
        (folder / "params.json").write_text(json.dumps(self._parameters(), indent=2) + "\n")
        partial.replace(folder / "captcha.npz")

    def _generated(self, split: str) -> tuple[np.ndarray, list[str]]:
        with np.load(self.cache_folder / "captcha.npz", allow_pickle=False) as arrays:
            return arrays[f"{split}_images"], arrays[f"{split}_texts"].tolist()

    def _folder(self, split: str) -> tuple[np.ndarray, list[str]]:
        """The ``<text>.png`` files of ``<data_dir>/<split>/``, sorted by name."""
        hp = self.hparams
        folder = Path(hp.data_dir) / split
        files = sorted(folder.glob("*.png")) if folder.is_dir() else []
        if not files:
            raise FileNotFoundError(f"{folder}: no <text>.png files (--data.data_dir needs train/ and test/ folders)")
        images, texts = np.empty((len(files), hp.height, hp.width, 3), np.uint8), []
        for i, path in enumerate(files):
            text = path.stem
            if len(text) != hp.length or any(char not in hp.charset for char in text):
                raise ValueError(f"{path}: the file name must be the captcha's text, {hp.length} characters "
                                 f"of {hp.charset!r}, then .png")
            try:
                with Image.open(path) as image:
                    if image.size != (hp.width, hp.height):
                        raise ValueError(f"{path}: image is {image.size[0]}x{image.size[1]}, "
                                         f"expected {hp.width}x{hp.height} (--data.width/--data.height)")
                    images[i] = np.asarray(image.convert("RGB"))
            except (UnidentifiedImageError, OSError) as error:
                raise ValueError(f"{path}: not an image file that can be read: {error}") from None
            texts.append(text)
        return images, texts

    def _dataset(self, split: str) -> TensorDataset:
        images, texts = self._folder(split) if self.hparams.data_dir is not None else self._generated(split)
        pixels = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()  # NHWC → NCHW, still uint8
        return TensorDataset(pixels, encode(texts, self.hparams.charset))

    def setup(self, stage: str) -> None:
        if stage == "predict":
            return
        self.train_set, self.test_set = self._dataset("train"), self._dataset("test")

    def _loader(self, dataset: TensorDataset, shuffle: bool = False) -> DataLoader:
        return batch_loader(dataset, self.hparams.batch_size, shuffle=shuffle, num_workers=self.hparams.num_workers)

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_set, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.test_set)

    def test_dataloader(self) -> DataLoader:
        return self._loader(self.test_set)

    @property
    def classes(self) -> tuple[str, ...]:
        """The class names of each head, by index: the characters of ``charset``."""
        return tuple(self.hparams.charset)

    def predict_dataloader(self) -> DataLoader:
        """Batches of ``(image, file index)`` from ``predict_files``, each read by :meth:`load_image`."""
        return self._loader(image_files_dataset(self.hparams.predict_files, self.load_image, "captcha.png"))

    def load_image(self, path: str | Path) -> torch.Tensor:
        """One picture as ``predict`` (and ``ptref serve``) reads it: uint8 RGB ``[3, height, width]``
        (:func:`to_tensor`, resized when its size differs); ``ValueError`` when Pillow cannot read it."""
        try:
            with Image.open(path) as image:
                return to_tensor(image, self.hparams.width, self.hparams.height)
        except (UnidentifiedImageError, OSError) as error:
            raise ValueError(f"{path}: not an image file that can be read: {error}") from None

    def normalize(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 RGB ``[B, 3, H, W]`` → the model's float grayscale ``[B, 1, H, W]`` (:func:`grayscale`)."""
        return grayscale(images)

    def on_after_batch_transfer(
        self, batch: list[torch.Tensor] | torch.Tensor, dataloader_idx: int
    ) -> list[torch.Tensor] | torch.Tensor:
        if isinstance(batch, torch.Tensor):  # the model summary's example_input_array, already a float image
            return batch
        images, targets = batch
        return [self.normalize(images), targets]
