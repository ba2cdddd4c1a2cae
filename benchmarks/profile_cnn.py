"""Where a training step of the course CNN spends its time, layer by layer, in Keras and in PyTorch.

From the repository root: ``OMP_WAIT_POLICY=PASSIVE PYTHONPATH=. python benchmarks/profile_cnn.py``.

Each layer of the course CNN is timed alone on its real input shape (batch 128): forward, and forward + backward
(the gradients of its input and weights for a fixed output gradient), medians of ``--repeats`` interleaved rounds.
Keras: each layer called inside one ``tf.function`` (a ``GradientTape`` for the backward), TensorFlow's defaults
(oneDNN on). PyTorch: eager, once with ``nn`` defaults in NCHW (``nn.Conv2d`` + ``nn.ReLU``, ``nn.Dropout``,
``nn.Flatten``, ``nn.Linear``), once as ptref trains it (channels-last memory, :class:`~ptref.nn.Conv2dReLU`,
:class:`~ptref.nn.Dropout`, Keras-order Flatten, :class:`~ptref.nn.Dense`). Every layer's input gradient is computed
(the first convolution's too, which training skips). Then ``torch.profiler``'s table of a whole ptref step (which
kernels). Prints markdown (``docs/bench/profile-cnn.md`` is this output).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence

import torch
from torch import nn
from torch.nn import functional as F
from torch.profiler import ProfilerActivity, profile

from ptref.callbacks.speed import to_channels_last
from ptref.models import CNN
from ptref.nn import Conv2dReLU, Dense, Dropout, FlattenChannelsLast
from ptref.parity.tf import import_tensorflow

BATCH = 128
# name, Keras input shape (NHWC)
LAYERS: list[tuple[str, tuple[int, ...]]] = [
    ("conv 1→32 3×3 + relu", (28, 28, 1)),
    ("conv 32→64 3×3 + relu", (26, 26, 32)),
    ("max pool 2", (24, 24, 64)),
    ("dropout 0.25", (12, 12, 64)),
    ("flatten", (12, 12, 64)),
    ("dense 9216→128 + relu", (9216,)),
    ("dropout 0.5", (128,)),
    ("dense 128→10", (128,)),
]


def keras_layers(keras) -> list:
    layers = keras.layers
    return [layers.Conv2D(32, 3, activation="relu"), layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2),
            layers.Dropout(0.25), layers.Flatten(), layers.Dense(128, activation="relu"), layers.Dropout(0.5),
            layers.Dense(10)]


def torch_layers(ptref: bool) -> list[nn.Module]:
    conv = (lambda i, o: Conv2dReLU(i, o, 3)) if ptref else (lambda i, o: nn.Sequential(nn.Conv2d(i, o, 3),
                                                                                           nn.ReLU()))
    dropout, linear = (Dropout, Dense) if ptref else (nn.Dropout, nn.Linear)
    return [conv(1, 32), conv(32, 64), nn.MaxPool2d(2), dropout(0.25), FlattenChannelsLast() if ptref else
            nn.Flatten(), nn.Sequential(linear(9216, 128), nn.ReLU()), dropout(0.5), linear(128, 10)]


def seconds(function: Callable[[], object], repeats: int) -> float:
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def torch_timers(layer: nn.Module, shape: tuple[int, ...], channels_last: bool) -> tuple[Callable, Callable]:
    """Forward, and forward + backward, of one torch layer on an input of Keras ``shape`` (NHWC) laid out NCHW."""
    x = torch.rand(BATCH, *shape)
    if x.dim() == 4:
        x = x.permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last if channels_last else
                                             torch.contiguous_format)
        if channels_last:
            layer.to(memory_format=torch.channels_last)
    x.requires_grad_(True)
    layer.train()
    grad = torch.rand_like(layer(x))

    def forward() -> None:
        with torch.no_grad():
            layer(x)

    def both() -> None:
        layer(x).backward(grad)

    return forward, both


def keras_timers(tf, layer, shape: tuple[int, ...]) -> tuple[Callable, Callable]:
    x = tf.random.uniform((BATCH, *shape))
    layer.build(x.shape)
    grad = tf.random.uniform(layer(x, training=True).shape)

    @tf.function
    def forward() -> object:
        return layer(x, training=True)

    @tf.function
    def both() -> object:
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, training=True)
        return tape.gradient(y, [x, *layer.trainable_weights], output_gradients=grad)

    return (lambda: forward().numpy()), (lambda: [g.numpy() for g in both() if g is not None])


def per_layer_table(repeats: int) -> str:
    tf = import_tensorflow()
    import keras

    rows = []
    for (name, shape), k_layer, t_layer, p_layer in zip(LAYERS, keras_layers(keras), torch_layers(False),
                                                        torch_layers(True)):
        timers = {"keras": keras_timers(tf, k_layer, shape), "torch": torch_timers(t_layer, shape, False),
                  "ptref": torch_timers(p_layer, shape, True)}
        results = {side: ([], []) for side in timers}
        for _ in range(repeats):  # interleaved rounds
            for side, (forward, both) in timers.items():
                results[side][0].append(seconds(forward, 3))
                results[side][1].append(seconds(both, 3))
        ms = {side: (1e3 * statistics.median(f), 1e3 * statistics.median(b)) for side, (f, b) in results.items()}
        rows.append((name, ms))
    lines = ["| layer (batch 128) | Keras fwd | Keras fwd+bwd | torch NCHW fwd | torch NCHW fwd+bwd | ptref fwd | "
             "ptref fwd+bwd | ptref / Keras (fwd+bwd) |", "|---|---|---|---|---|---|---|---|"]
    totals = {side: 0.0 for side in ("keras", "torch", "ptref")}
    for name, ms in rows:
        for side in totals:
            totals[side] += ms[side][1]
        lines.append(f"| {name} | {ms['keras'][0]:.2f} | {ms['keras'][1]:.2f} | {ms['torch'][0]:.2f} | "
                     f"{ms['torch'][1]:.2f} | {ms['ptref'][0]:.2f} | {ms['ptref'][1]:.2f} | "
                     f"{ms['ptref'][1] / ms['keras'][1]:.2f} |")
    lines.append(f"| **sum** | | {totals['keras']:.1f} | | {totals['torch']:.1f} | | {totals['ptref']:.1f} | "
                 f"{totals['ptref'] / totals['keras']:.2f} |")
    return "\n".join(lines)


def kernel_table(steps: int) -> str:
    """``torch.profiler``: self CPU time per aten op over ``steps`` training steps of ptref's course CNN."""
    torch.manual_seed(0)
    model = CNN(layers="course")
    to_channels_last(model)
    optimizer = model.configure_optimizers()
    x, y = torch.rand(BATCH, 1, 28, 28), torch.randint(0, 10, (BATCH,))

    def step() -> None:
        loss = F.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    step()
    with profile(activities=[ProfilerActivity.CPU]) as profiler:
        for _ in range(steps):
            step()
    events = sorted(profiler.key_averages(), key=lambda event: event.self_cpu_time_total, reverse=True)
    total = sum(event.self_cpu_time_total for event in events)
    lines = ["| op | ms per step (self) | share |", "|---|---|---|"]
    for event in events[:12]:
        lines.append(f"| `{event.key}` | {event.self_cpu_time_total / 1e3 / steps:.2f} | "
                     f"{event.self_cpu_time_total / total:.0%} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks/profile_cnn.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--steps", type=int, default=5, help="profiled training steps (default 5)")
    args = parser.parse_args(argv)
    print(f"## Per layer (ms, median of {args.repeats} interleaved rounds; {torch.get_num_threads()} torch threads)\n")
    print(per_layer_table(args.repeats))
    print(f"\n## ptref's training step by aten op (torch.profiler, {args.steps} steps)\n")
    print(kernel_table(args.steps))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
