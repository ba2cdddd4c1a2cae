"""Tensors: rank, image layout, dtype, static vs dynamic shape, device placement.

A tensor is an n-dimensional array with a dtype and a device, in both frameworks; they differ in defaults
(int64 vs int32), in image layout ([C, H, W] vs [H, W, C]) and in who moves data between devices.
TensorFlow twin: ``compare/concepts/tensors_tf.py``.
"""

from __future__ import annotations

import torch
from torch import nn


def ranks() -> dict[str, object]:
    """Rank = number of axes: 3.14 has rank 0, [1, 2, 3] rank 1, [[1, 2], [3, 4]] rank 2, an image rank 3.

    TF: ``tf.rank(t)`` or ``t.shape.rank``; PyTorch: ``t.ndim``.
    """
    scalar = torch.tensor(3.14)
    vector = torch.tensor([1, 2, 3])
    matrix = torch.tensor([[1, 2], [3, 4]])
    image = torch.zeros(3, 28, 28)
    return {
        "3.14": scalar.item(),
        "rank of 3.14": scalar.ndim,
        "rank of [1, 2, 3]": vector.ndim,
        "rank of [[1, 2], [3, 4]]": matrix.ndim,
        "shape of [[1, 2], [3, 4]]": list(matrix.shape),
        "rank of an RGB image": image.ndim,
    }


def image_layout() -> dict[str, object]:
    """The same 4×6 RGB image: TensorFlow/Keras store it [H, W, C] (channels last), PyTorch [C, H, W].

    ``permute(2, 0, 1)`` reorders the axes without copying (TF: ``tf.transpose(image, [2, 0, 1])``);
    a batch adds a leading axis: Keras ``Conv2D`` reads [N, H, W, C], ``nn.Conv2d`` reads [N, C, H, W].
    """
    height_width_channels = torch.arange(4 * 6 * 3).reshape(4, 6, 3)
    channels_height_width = height_width_channels.permute(2, 0, 1)
    batch = channels_height_width.unsqueeze(0)
    return {
        "[H, W, C]": list(height_width_channels.shape),
        "[C, H, W]": list(channels_height_width.shape),
        "pixel h=1, w=2, channel 0": channels_height_width[0, 1, 2].item(),
        "batch for nn.Conv2d": list(batch.shape),
    }


def dtypes() -> dict[str, str]:
    """dtypes: floats default to float32 in both; integers are int64 in PyTorch but int32 in TensorFlow.

    PyTorch promotes mixed dtypes (float32 + int64 → float32); TensorFlow refuses and wants a ``tf.cast``.
    """
    pi = torch.tensor(3.14)
    counts = torch.tensor([1, 2, 3])
    return {
        "3.14": str(pi.dtype),
        "[1, 2, 3]": str(counts.dtype),
        "cast to float16": str(pi.to(torch.float16).dtype),
        "3.14 + [1, 2, 3]": str((pi + counts).dtype),
    }


def static_vs_dynamic_shape() -> dict[str, object]:
    """Static vs dynamic shape: TF's ``TensorShape([None, 3])`` ↔ a dynamic batch dim in ``torch.export``.

    An eager tensor always has a concrete shape. A traced program may leave an axis symbolic: TF writes it
    ``None``; ``torch.export`` with ``Dim("batch")`` writes a SymInt (printed here as None), and the exported
    program accepts any batch size.
    """

    class Double(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return 2 * x

    dynamic = {"x": {0: torch.export.Dim("batch")}}
    program = torch.export.export(Double(), (torch.ones(4, 3),), dynamic_shapes=dynamic)
    (x_node,) = [node for node in program.graph.nodes if node.op == "placeholder"]
    shape = x_node.meta["val"].shape
    out = program.module()(torch.ones(7, 3))
    return {
        "eager shape": list(torch.ones(4, 3).shape),
        "traced input shape": [None if isinstance(d, torch.SymInt) else d for d in shape],
        "output for a batch of 7": list(out.shape),
    }


def device_placement() -> dict[str, object]:
    """Device placement: ``with tf.device("/CPU:0")`` ↔ ``.to("cpu")`` (``.to("cuda")`` on a GPU).

    TensorFlow puts an op on a GPU by itself when one is visible; PyTorch never moves data implicitly:
    you pick ``device = "cuda" if torch.cuda.is_available() else "cpu"`` and move model and data there.
    ``.to()`` returns the tensor itself when it is already on that device.
    """
    x = torch.tensor([1.0, 2.0, 3.0])
    on_cpu = x.to("cpu")
    y = on_cpu * 2
    return {
        "x.device": str(x.device),
        "y": y.tolist(),
        "y.device": str(y.device),
        "copied": on_cpu is not x,
    }


STEPS = (ranks, image_layout, dtypes, static_vs_dynamic_shape, device_placement)
