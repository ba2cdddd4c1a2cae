"""Translators of the Keras layers that hold weights or pool over space: dense, convolutions, pooling,
normalization, embedding and recurrent layers (``ptref.port.layers`` says what a translator returns)."""

from __future__ import annotations

from typing import Any

from ptref.port.layers import CHANNELS_FIRST, CHANNELS_LAST, Module, Site, Translation, _Code, code, with_activation

DENSE, CONV = "ptref.port.convert.dense_kernel()", "ptref.port.convert.conv_kernel()"


def channels_last_only(site: Site) -> None:
    if site.config.get("data_format", "channels_last") != "channels_last":
        raise site.node.unsupported("data_format='channels_first' is not supported (Keras's default is channels_last)")


def _padding(site: Site, allowed: tuple[str, ...] = ("valid", "same")) -> bool:
    """True for 'same'; anything else than ``allowed`` is refused."""
    padding = site.config["padding"]
    if padding not in allowed:
        raise site.node.unsupported(f"padding={padding!r} is not supported ({' or '.join(allowed)})")
    return padding == "same"


def _bias(site: Site, module: str = "") -> list[tuple[str, str | None]]:
    return [(f"{module}bias", None)] if site.config["use_bias"] else []


def dense(site: Site) -> Translation:
    c = site.config
    constructor = code(
        "nn.Linear", site.node.inputs[0].shape[-1], c["units"], bias=c["use_bias"], defaults={"bias": True}
    )
    weights = [("weight", DENSE), *_bias(site)]
    return with_activation(site, [Module(site.node.name, constructor, weights)], CHANNELS_LAST)


def conv(site: Site) -> Translation:
    """Conv1D/Conv2D (groups, dilation, TF's 'same' for any stride: ``ptref.nn.Conv{1,2}dSame``)."""
    c = site.config
    channels_last_only(site)
    rank = len(c["kernel_size"])
    function = f"ptref.nn.Conv{rank}dSame" if _padding(site) else f"nn.Conv{rank}d"
    ones = (1,) * rank
    constructor = code(
        function, site.node.inputs[0].shape[-1], c["filters"], kernel_size=tuple(c["kernel_size"]),
        stride=tuple(c["strides"]), dilation=tuple(c["dilation_rate"]), groups=c["groups"], bias=c["use_bias"],
        defaults={"stride": ones, "dilation": ones, "groups": 1, "bias": True},
    )
    weights = [("weight", CONV), *_bias(site)]
    return with_activation(site, [Module(site.node.name, constructor, weights)], CHANNELS_FIRST)


def depthwise_conv(site: Site) -> Translation:
    """DepthwiseConv2D: a grouped convolution with ``depth_multiplier`` filters per channel."""
    c = site.config
    channels_last_only(site)
    channels, multiplier = site.node.inputs[0].shape[-1], c["depth_multiplier"]
    function = "ptref.nn.Conv2dSame" if _padding(site) else "nn.Conv2d"
    constructor = code(
        function, channels, channels * multiplier, kernel_size=tuple(c["kernel_size"]), stride=tuple(c["strides"]),
        dilation=tuple(c["dilation_rate"]), groups=channels, bias=c["use_bias"],
        defaults={"stride": (1, 1), "dilation": (1, 1), "bias": True},
    )
    weights = [("weight", f"ptref.port.convert.depthwise_kernel({multiplier})"), *_bias(site)]
    return with_activation(site, [Module(site.node.name, constructor, weights)], CHANNELS_FIRST)


def separable_conv(site: Site) -> Translation:
    c = site.config
    channels_last_only(site)
    multiplier = c["depth_multiplier"]
    constructor = code(
        "ptref.nn.SeparableConv2d", site.node.inputs[0].shape[-1], c["filters"], kernel_size=tuple(c["kernel_size"]),
        stride=tuple(c["strides"]), padding=c["padding"] if _padding(site) else "valid",
        dilation=tuple(c["dilation_rate"]), depth_multiplier=multiplier, bias=c["use_bias"],
        defaults={"stride": (1, 1), "padding": "valid", "dilation": (1, 1), "depth_multiplier": 1, "bias": True},
    )
    weights = [
        ("depthwise.weight", f"ptref.port.convert.depthwise_kernel({multiplier})"),
        ("pointwise.weight", CONV),
        *_bias(site, "pointwise."),
    ]
    return with_activation(site, [Module(site.node.name, constructor, weights)], CHANNELS_FIRST)


def conv_transpose(site: Site) -> Translation:
    c = site.config
    channels_last_only(site)
    if c.get("output_padding") is not None:
        raise site.node.unsupported(f"output_padding={c['output_padding']} is not supported (only None)")
    constructor = code(
        "ptref.nn.ConvTranspose2d", site.node.inputs[0].shape[-1], c["filters"], kernel_size=tuple(c["kernel_size"]),
        stride=tuple(c["strides"]), padding="same" if _padding(site) else "valid",
        dilation=tuple(c["dilation_rate"]), bias=c["use_bias"],
        defaults={"stride": (1, 1), "padding": "valid", "dilation": (1, 1), "bias": True},
    )
    weights = [("weight", CONV), *_bias(site)]
    return with_activation(site, [Module(site.node.name, constructor, weights)], CHANNELS_FIRST)


def pooling(site: Site) -> Translation:
    """Max/AveragePooling1D/2D: torch's pooling for 'valid', ``ptref.nn``'s TF-padded one for 'same'."""
    c = site.config
    channels_last_only(site)
    rank = len(c["pool_size"])
    kind = "Max" if type(site.node.layer).__name__.startswith("Max") else "Avg"
    function = f"ptref.nn.{kind}Pool{rank}dSame" if _padding(site) else f"nn.{kind}Pool{rank}d"
    size, strides = tuple(c["pool_size"]), tuple(c["strides"] or c["pool_size"])
    constructor = code(function, size, stride=strides, defaults={"stride": size})
    return Translation([Module(site.node.name, constructor)], CHANNELS_FIRST)


def global_pooling(site: Site) -> Translation:
    channels_last_only(site)
    kind = "Max" if "Max" in type(site.node.layer).__name__ else "Average"
    keepdims = site.config["keepdims"]
    constructor = code(f"ptref.nn.Global{kind}Pooling", keepdims=keepdims, defaults={"keepdims": False})
    return Translation([Module(site.node.name, constructor)], CHANNELS_FIRST)


def batch_normalization(site: Site) -> Translation:
    """BatchNormalization over the channel (last Keras) axis: ``ptref.nn.BatchNormalization`` (Keras momentum)."""
    c = site.config
    rank = site.node.inputs[0].rank
    axes = c["axis"] if isinstance(c["axis"], (list, tuple)) else [c["axis"]]
    if [a % rank for a in axes] != [rank - 1]:
        raise site.node.unsupported(f"axis={c['axis']} is not supported (only the last axis, Keras's default -1)")
    constructor = code(
        "ptref.nn.BatchNormalization", site.node.inputs[0].shape[-1], momentum=c["momentum"], epsilon=c["epsilon"],
        center=c["center"], scale=c["scale"], renorm=c.get("renorm", False),
        renorm_clipping=c.get("renorm_clipping"), renorm_momentum=c.get("renorm_momentum", 0.99),
        defaults={"momentum": 0.99, "epsilon": 1e-3, "center": True, "scale": True, "renorm": False,
                  "renorm_clipping": None, "renorm_momentum": 0.99},
    )
    weights = [("weight", None)] * c["scale"] + [("bias", None)] * c["center"]
    weights += [("running_mean", None), ("running_var", None)]
    if c.get("renorm", False):
        weights += [("moving_stddev", None), ("renorm_mean", None), ("renorm_stddev", None)]
    return Translation([Module(site.node.name, constructor, weights)], CHANNELS_FIRST)


def layer_normalization(site: Site) -> Translation:
    """LayerNormalization on Keras's layout, its axes as Keras gives them (``ptref.nn.LayerNormalization``)."""
    c = site.config
    if c.get("rms_scaling"):
        raise site.node.unsupported("rms_scaling=True is not supported")
    shape = site.node.inputs[0].shape
    axes = sorted(a % len(shape) for a in (c["axis"] if isinstance(c["axis"], (list, tuple)) else [c["axis"]]))
    sizes = [shape[a] for a in axes]
    constructor = code(
        "ptref.nn.LayerNormalization", sizes if len(sizes) > 1 else sizes[0],
        axis=axes if len(axes) > 1 else axes[0], epsilon=c["epsilon"], center=c["center"], scale=c["scale"],
        defaults={"epsilon": 1e-3, "center": True, "scale": True},
    )
    weights = [("weight", None)] * c["scale"] + [("bias", None)] * c["center"]
    return Translation([Module(site.node.name, constructor, weights)], CHANNELS_LAST)


def embedding(site: Site) -> Translation:
    c = site.config
    if c.get("mask_zero"):
        raise site.node.unsupported("mask_zero=True is not supported (masking)")
    # sparse: one gradient row per token occurrence, the IndexedSlices Keras's optimizers get (ptref.optim.sparse)
    constructor = code("nn.Embedding", c["input_dim"], c["output_dim"], sparse=True)
    return Translation([Module(site.node.name, constructor, [("weight", None)])], CHANNELS_LAST)


def _recurrent_constructor(site: Site, layer: Any, input_size: int) -> str:
    """``ptref.nn.SimpleRNN/LSTM/GRU(...)`` for a Keras recurrent layer (its options checked)."""
    c = layer.get_config()
    kind = type(layer).__name__
    for option in ("stateful", "return_state"):
        if c.get(option):
            raise site.node.unsupported(f"{kind} {option}=True is not supported")
    for option in ("activation", "recurrent_activation"):
        if option in c and not isinstance(c[option], str):
            raise site.node.unsupported(f"{kind} {option}={c[option]!r} is not supported (a Keras activation name)")
    keywords = {
        "activation": c["activation"], "use_bias": c["use_bias"], "dropout": c["dropout"],
        "recurrent_dropout": c["recurrent_dropout"], "return_sequences": c["return_sequences"],
        "go_backwards": c["go_backwards"],
    }
    defaults = {"activation": "tanh", "use_bias": True, "dropout": 0.0, "recurrent_dropout": 0.0,
                "return_sequences": False, "go_backwards": False, "recurrent_activation": "sigmoid",
                "reset_after": True}
    if kind in ("LSTM", "GRU"):
        keywords["recurrent_activation"] = c["recurrent_activation"]
    if kind == "GRU":
        keywords["reset_after"] = c["reset_after"]
    return code(f"ptref.nn.{kind}", input_size, c["units"], defaults=defaults, **keywords)


def _recurrent_weights(layer: Any, prefix: str = "") -> list[tuple[str, str | None]]:
    names = ["kernel", "recurrent_kernel"] + ["bias"] * layer.get_config()["use_bias"]
    return [(prefix + name, None) for name in names]


def recurrent(site: Site) -> Translation:
    """SimpleRNN/LSTM/GRU: ``ptref.nn``'s layers hold Keras's weights in Keras's layout (gate order included)."""
    layer = site.node.layer
    constructor = _recurrent_constructor(site, layer, site.node.inputs[0].shape[-1])
    return Translation([Module(site.node.name, constructor, _recurrent_weights(layer))], CHANNELS_LAST)


def bidirectional(site: Site) -> Translation:
    layer = site.node.layer
    if layer.merge_mode not in ("concat", "sum", "mul", "ave"):
        raise site.node.unsupported(f"merge_mode={layer.merge_mode!r} is not supported (concat, sum, mul, ave)")
    size = site.node.inputs[0].shape[-1]
    forward, backward = layer.forward_layer, layer.backward_layer
    for inner in (forward, backward):
        if type(inner).__name__ not in ("SimpleRNN", "LSTM", "GRU"):
            raise site.node.unsupported(f"wraps a {type(inner).__name__} (SimpleRNN, LSTM or GRU are supported)")
    constructor = code(
        "ptref.nn.Bidirectional", _Code(_recurrent_constructor(site, forward, size)),
        _Code(_recurrent_constructor(site, backward, size)), merge_mode=layer.merge_mode,
        defaults={"merge_mode": "concat"},
    )
    weights = _recurrent_weights(forward, "forward_layer.") + _recurrent_weights(backward, "backward_layer.")
    return Translation([Module(site.node.name, constructor, weights)], CHANNELS_LAST)
