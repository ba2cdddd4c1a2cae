"""Translators of the Keras layers without weights: activations, dropout, shapes, padding, resizing, merges and
preprocessing (``ptref.port.layers`` says what a translator returns)."""

from __future__ import annotations

from collections.abc import Sequence

from ptref.port.layers import (
    ANY,
    CHANNELS_FIRST,
    CHANNELS_LAST,
    Module,
    Site,
    Translation,
    activation_module,
    code,
    torch_axis,
)
from ptref.port.weighted import channels_last_only


def _single(site: Site, constructor: str, takes: str, weights: list | None = None) -> Translation:
    return Translation([Module(site.node.name, constructor, weights or [])], takes)


def activation(site: Site) -> Translation:
    """Activation('name'): the torch module of that activation."""
    name = site.config["activation"]
    module = activation_module(site, name, site.node.name, site.node.output.rank, site.layout)
    return Translation([module or Module(site.node.name, "nn.Identity()")], ANY)


def relu(site: Site) -> Translation:
    """ReLU(max_value, negative_slope, threshold): torch's ReLU, ReLU6 or LeakyReLU where one fits exactly."""
    c = site.config
    top, slope, threshold = c["max_value"], c["negative_slope"], c["threshold"]
    if threshold == 0 and slope == 0 and top in (None, 6):
        constructor = "nn.ReLU()" if top is None else "nn.ReLU6()"
    elif threshold == 0 and top is None:
        constructor = code("nn.LeakyReLU", slope)
    else:
        constructor = code("ptref.nn.ReLU", max_value=top, negative_slope=slope, threshold=threshold,
                           defaults={"max_value": None, "negative_slope": 0.0, "threshold": 0.0})
    return _single(site, constructor, ANY)


def leaky_relu(site: Site) -> Translation:
    return _single(site, code("nn.LeakyReLU", site.config["negative_slope"]), ANY)


def elu(site: Site) -> Translation:
    return _single(site, code("nn.ELU", alpha=site.config["alpha"], defaults={"alpha": 1.0}), ANY)


def softmax(site: Site) -> Translation:
    axis = site.config["axis"]
    if isinstance(axis, (list, tuple)):
        raise site.node.unsupported(f"axis={axis} is not supported (one axis)")
    return _single(site, code("nn.Softmax", dim=torch_axis(axis, site.node.output.rank, site.layout)), ANY)


def dropout(site: Site) -> Translation:
    """Dropout, kept: ``train()`` drops, ``eval()`` does not (random masks differ from Keras's)."""
    if site.config.get("noise_shape") is not None:
        raise site.node.unsupported(f"noise_shape={site.config['noise_shape']} is not supported")
    return _single(site, code("nn.Dropout", site.config["rate"]), ANY)


def flatten(site: Site) -> Translation:
    """Flatten in Keras's order: channels-first maps go through ``ptref.nn.FlattenChannelsLast``."""
    channels_last_only(site)
    if site.layout == CHANNELS_FIRST and site.node.inputs[0].rank >= 3:
        return _single(site, "ptref.nn.FlattenChannelsLast()", CHANNELS_FIRST)
    return _single(site, "nn.Flatten()", CHANNELS_LAST)


def reshape(site: Site) -> Translation:
    return _single(site, code("ptref.nn.Reshape", tuple(site.config["target_shape"])), CHANNELS_LAST)


def permute(site: Site) -> Translation:
    return _single(site, code("ptref.nn.Permute", tuple(site.config["dims"])), CHANNELS_LAST)


def _pairs(value: int | Sequence[int | Sequence[int]], rank: int) -> list[tuple[int, int]]:
    """Keras's padding/cropping argument (int, pair, or per-axis pairs) as one (before, after) per spatial axis."""
    if isinstance(value, int):
        return [(value, value)] * rank
    if rank == 1:
        return [tuple(value)]
    return [(v, v) if isinstance(v, int) else tuple(v) for v in value]


def zero_padding(site: Site) -> Translation:
    """ZeroPadding1D/2D ((top, bottom), (left, right)) -> nn.ZeroPad{1,2}d((left, right, top, bottom))."""
    channels_last_only(site)
    rank = site.node.inputs[0].rank - 2
    pairs = _pairs(site.config["padding"], rank)
    flat = tuple(cells for pair in reversed(pairs) for cells in pair)
    return _single(site, code(f"nn.ZeroPad{rank}d", flat), CHANNELS_FIRST)


def cropping(site: Site) -> Translation:
    channels_last_only(site)
    pairs = _pairs(site.config["cropping"], site.node.inputs[0].rank - 2)
    return _single(site, code("ptref.nn.Crop", *pairs), CHANNELS_FIRST)


def upsampling(site: Site) -> Translation:
    """UpSampling1D/2D: nearest (a repeat) or bilinear (TF's half-pixel centres = ``align_corners=False``)."""
    channels_last_only(site)
    c = site.config
    size = c["size"] if isinstance(c["size"], int) else tuple(c["size"])
    mode = c.get("interpolation", "nearest")
    if mode not in ("nearest", "bilinear"):
        raise site.node.unsupported(f"interpolation={mode!r} is not supported (nearest, bilinear)")
    upsample = code("nn.Upsample", scale_factor=size, mode=mode, defaults={"mode": "nearest"})
    return _single(site, upsample, CHANNELS_FIRST)


def rescaling(site: Site) -> Translation:
    c = site.config
    scalar = all(isinstance(v, (int, float)) for v in (c["scale"], c["offset"]))
    constructor = code("ptref.nn.Rescaling", c["scale"], offset=c["offset"], defaults={"offset": 0.0})
    return _single(site, constructor, ANY if scalar else CHANNELS_LAST)


def normalization(site: Site) -> Translation:
    """Normalization after ``adapt()`` over the last axis: mean, variance (and count) are Keras's weights."""
    c, rank = site.config, site.node.inputs[0].rank
    axes = c["axis"] if isinstance(c["axis"], (list, tuple)) else [c["axis"]]
    if [a % rank for a in axes] != [rank - 1] or c.get("invert") or c.get("mean") is not None:
        raise site.node.unsupported(
            "only the adapted, non-inverted Normalization over the last axis is supported "
            f"(axis={c['axis']}, invert={c.get('invert')}, mean given={c.get('mean') is not None})"
        )
    weights = [("mean", None), ("variance", None), ("count", None)]
    return _single(site, code("ptref.nn.Normalization", site.node.inputs[0].shape[-1]), CHANNELS_LAST, weights)


def merge(site: Site) -> Translation:
    """Add/Subtract/Multiply/Average/Maximum/Minimum of same-rank inputs (elementwise: any layout)."""
    ranks = {t.rank for t in site.node.inputs}
    if len(ranks) != 1:
        raise site.node.unsupported(f"inputs of ranks {sorted(ranks)} (one rank is supported)")
    return _single(site, f"ptref.nn.{type(site.node.layer).__name__}()", ANY)


def concatenate(site: Site) -> Translation:
    """Concatenate(axis): the axis moved to where it sits in the inputs' layout."""
    rank = site.node.output.rank
    if {t.rank for t in site.node.inputs} != {rank}:
        raise site.node.unsupported("inputs of different ranks")
    dim = torch_axis(site.config["axis"], rank, site.layout)
    return _single(site, code("ptref.nn.Concatenate", dim=dim, defaults={"dim": -1}), ANY)
