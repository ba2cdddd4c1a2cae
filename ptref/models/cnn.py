"""Convolutional networks from a short layer spec, with the course's and the seeds' CNNs as presets.

TensorFlow course original (Keras, 1,199,882 parameters)::

    model = Sequential([
        Conv2D(32, kernel_size=(3, 3), activation="relu", input_shape=(28, 28, 1)),
        Conv2D(64, (3, 3), activation="relu"),
        MaxPooling2D(pool_size=(2, 2)),
        Dropout(0.25),
        Flatten(),
        Dense(128, activation="relu"),
        Dropout(0.5),
        Dense(10, activation="softmax"),
    ])

is the spec ``[conv32, conv64, pool, dropout0.25, dense128, dropout0.5]`` (the final Dense to the classes
is always added). PyTorch twin: ``Conv2d(1, 32, 3)`` etc. on NCHW images; Keras's ``padding="valid"``
is PyTorch's default ``padding=0``, ``MaxPooling2D(2)`` is ``MaxPool2d(2)``. One difference a weight
port must handle: Keras flattens ``(h, w, c)``, PyTorch ``(c, h, w)``, so the first Dense kernel's rows
are permuted between the two (``docs/keras-numerics.md``, "Layers and initialization"); the counts are the
same.
"""

from __future__ import annotations

import re

import torch
from torch import nn

from ptref.models.classifier import ImageClassifier, Init, activation_class, resolve_preset

PRESETS: dict[str, list[str]] = {
    # the course's chapter 5 CNN: 1,199,882 parameters, 98.99% test accuracy after 5 epochs (full MNIST)
    "course": ["conv32", "conv64", "pool", "dropout0.25", "dense128", "dropout0.5"],
    # the Keras seed's ConvNet: conv32 → pool → conv64 → pool → flatten → 128 → 10
    "convnet": ["conv32", "pool", "conv64", "pool", "dense128"],
    # the deeper seed CNN (trained with SGD there): conv32-pool-conv64-pool-conv64-64-10
    "deeper": ["conv32", "pool", "conv64", "pool", "conv64", "dense64"],
}
TOKEN = re.compile(r"(conv)(\d+)(?:x(\d+))?|(pool)(\d+)?|(dropout)(0?\.\d+)|(dense)(\d+)")


class CNN(ImageClassifier):
    """A stack of conv/pool/dropout blocks, then dense blocks, then ``Linear(num_classes)``.

    Spec tokens (in order; the Flatten goes before the first ``dense``):

    - ``conv32`` / ``conv32x5``: ``Conv2d(…, 32, kernel_size=3 or 5)`` ("valid", stride 1) + activation
    - ``pool`` / ``pool3``: ``MaxPool2d(2 or 3)`` (stride = size, "valid")
    - ``dropout0.25``: ``Dropout(0.25)``
    - ``dense128``: ``Linear(…, 128)`` + activation

    Args:
        layers: a preset name (``course``, ``convnet``, ``deeper``; see :data:`PRESETS`) or a spec list.
        activation: one of :data:`~ptref.models.classifier.ACTIVATIONS`.
        in_channels, image_size: input images ``[B, in_channels, image_size, image_size]``.
        channels_last: keep conv weights and activations in NHWC memory (``torch.channels_last``), the
            layout TensorFlow/oneDNN convolutions use; shapes stay NCHW. Opt-in: it pays on GPUs with
            tensor cores and sometimes on CPU (measured in ``docs/devices.md``).
        num_classes, init, learning_rate, compile: see :class:`~ptref.models.classifier.ImageClassifier`.
    """

    def __init__(
        self,
        layers: str | list[str] = "course",
        activation: str = "relu",
        in_channels: int = 1,
        image_size: int = 28,
        num_classes: int = 10,
        init: Init = "torch",
        learning_rate: float = 1e-3,
        channels_last: bool = False,
        compile: bool = False,
    ) -> None:
        super().__init__(num_classes=num_classes, init=init, learning_rate=learning_rate, compile=compile)
        self.example_input_array = torch.zeros(1, in_channels, image_size, image_size)  # summary shapes
        if channels_last:
            self.net.to(memory_format=torch.channels_last)  # the 4-D conv weights; kept by later .to(device)

    def build_network(self) -> nn.Module:
        spec = resolve_preset(self.hparams.layers, PRESETS, "CNN")
        activation = activation_class(self.hparams.activation)
        layers: list[nn.Module] = []
        channels, flat = self.hparams.in_channels, None  # flat: features after Flatten, once flattened
        for token in spec:
            match = TOKEN.fullmatch(token)
            if match is None:
                raise ValueError(f"bad CNN layer {token!r}: use convN[xK], pool[K], dropout0.R or denseN")
            conv, filters, kernel, pool, pool_size, dropout, rate, dense, units = match.groups()
            if (conv or pool) and flat is not None:
                raise ValueError(f"{token!r} comes after a dense layer; convolutions and pools must come first")
            if conv:
                layers += [nn.Conv2d(channels, int(filters), int(kernel or 3)), activation()]
                channels = int(filters)
            elif pool:
                layers.append(nn.MaxPool2d(int(pool_size or 2)))
            elif dropout:
                layers.append(nn.Dropout(float(rate)))
            else:
                if flat is None:
                    flat = self._flat_features(layers)
                    layers.append(nn.Flatten())
                layers += [nn.Linear(flat, int(units)), activation()]
                flat = int(units)
        if flat is None:
            flat = self._flat_features(layers)
            layers.append(nn.Flatten())
        layers.append(nn.Linear(flat, self.hparams.num_classes))
        return nn.Sequential(*layers)

    def _flat_features(self, layers: list[nn.Module]) -> int:
        """Features after flattening the conv stack's output (as Keras infers the Dense input size)."""
        size = self.hparams.image_size
        with torch.no_grad():
            out = nn.Sequential(*layers)(torch.zeros(1, self.hparams.in_channels, size, size))
        return out[0].numel()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4:
            raise ValueError(
                f"the CNN takes images [B, C, H, W], got shape {tuple(x.shape)}; use the data layout 'image'"
            )
        if self.hparams.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        return self.net(x)
