"""What each speed lever buys on the course CNN: a plain PyTorch loop, the levers added one at a time, interleaved.

From the repository root: ``OMP_WAIT_POLICY=PASSIVE PYTHONPATH=. python benchmarks/cnn_levers.py --rounds 7`` (and
again with ``--keep-freed-memory``: glibc's allocator is process-wide, so that lever is compared across two runs).
Variants, each adding one lever to the previous: ``nn`` defaults in NCHW; channels-last memory
(:func:`ptref.callbacks.speed.to_channels_last`); :class:`ptref.nn.Dropout` for ``nn.Dropout``;
:class:`ptref.nn.Conv2dReLU` for ``Conv2d`` + ``ReLU``; :class:`ptref.nn.Dense` for ``nn.Linear``. Each round trains
every variant one epoch (after one warm-up epoch) on the same random batches with Keras's Adam; printed: samples/s
(median over rounds) and the median of the same-round ratios to the first variant, plus minor page faults per epoch.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from ptref.callbacks.speed import keep_freed_memory, to_channels_last
from ptref.nn import Conv2dReLU, Dense, Dropout, FlattenChannelsLast
from ptref.optim import Adam

VARIANTS = {  # name: (channels_last, ptref Dropout, fused Conv2D+ReLU, oneDNN Dense)
    "nn defaults, NCHW": (False, False, False, False),
    "+ channels-last": (True, False, False, False),
    "+ rand_like Dropout": (True, True, False, False),
    "+ fused Conv2D+ReLU": (True, True, True, False),
    "+ oneDNN Dense": (True, True, True, True),
}


def course_cnn(dropout: type[nn.Module], fused: bool, linear: type[nn.Linear]) -> nn.Sequential:
    conv = (lambda i, o: [Conv2dReLU(i, o, 3)]) if fused else (lambda i, o: [nn.Conv2d(i, o, 3), nn.ReLU()])
    return nn.Sequential(*conv(1, 32), *conv(32, 64), nn.MaxPool2d(2), dropout(0.25), FlattenChannelsLast(),
                         linear(9216, 128), nn.ReLU(), dropout(0.5), linear(128, 10))


def epoch(variant: tuple[bool, bool, bool, bool], images: torch.Tensor, labels: torch.Tensor, batch: int) -> tuple:
    """Seconds and minor page faults of the second of two epochs."""
    channels_last, ptref_dropout, fused, onednn_dense = variant
    torch.manual_seed(0)
    model = course_cnn(Dropout if ptref_dropout else nn.Dropout, fused, Dense if onednn_dense else nn.Linear)
    if channels_last:
        to_channels_last(model)
    optimizer = Adam(model.parameters(), learning_rate=1e-3)
    for _ in range(2):
        start, faults = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for i in range(0, len(images), batch):
            loss = F.cross_entropy(model(images[i:i + batch]), labels[i:i + batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks/cnn_levers.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2048, help="samples per epoch (default 2048)")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keep-freed-memory", action="store_true", help="glibc keeps freed buffers (ptref's default)")
    args = parser.parse_args(argv)
    if args.keep_freed_memory:
        keep_freed_memory()
    torch.manual_seed(0)
    images, labels = torch.rand(args.n, 1, 28, 28), torch.randint(0, 10, (args.n,))
    rates: dict[str, list[float]] = {name: [] for name in VARIANTS}
    faults: dict[str, list[int]] = {name: [] for name in VARIANTS}
    order = list(VARIANTS)
    for _ in range(args.rounds):
        for name in order:
            seconds, page_faults = epoch(VARIANTS[name], images, labels, args.batch_size)
            rates[name].append(args.n / seconds)
            faults[name].append(page_faults)
        order = order[1:] + order[:1]
    base = rates[next(iter(VARIANTS))]
    print(f"| variant (keep freed memory: {args.keep_freed_memory}) | samples/s | ratio to the first | page faults "
          "per epoch |\n|---|---|---|---|")
    for name in VARIANTS:
        ratio = statistics.median(a / b for a, b in zip(rates[name], base))
        rate, fault = statistics.median(rates[name]), statistics.median(faults[name])
        print(f"| {name} | {rate:,.0f} | {ratio:.2f} | {fault:,.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
