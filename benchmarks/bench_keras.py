"""The Keras side of ``benchmarks/bench.py``: a course model trained with ``model.fit``, timed per epoch.

Run by ``bench.py`` in its own process, so TensorFlow never shares an interpreter with ptref's training (nor
fights it over threads); prints one JSON line::

    {"epoch_seconds": [...], "samples": 6000, ...}

The models are the course's Keras code (:mod:`compare.course_models`); the data are the same first ``n`` MNIST
digits ptref trains on, normalized up front as the course does (``x.astype("float32") / 255``). Standalone, from
the repository root: ``PYTHONPATH=. python benchmarks/bench_keras.py cnn --data-dir ../shared/datasets/mnist-t10k``.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path

from compare.course_models import COURSE_MODELS, course_model
from ptref.data.idx import find_idx_pair, read_images_and_labels
from ptref.parity.tf import import_keras


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks/bench_keras.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("workflow", choices=COURSE_MODELS)
    parser.add_argument("--data-dir", required=True, help="the t10k IDX folder, or house price's CSV file")
    parser.add_argument("--n", type=int, default=6000)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args(argv)

    started = time.perf_counter()
    keras = import_keras()
    import numpy as np

    import_seconds = time.perf_counter() - started
    keras.utils.set_random_seed(0)
    if args.workflow == "house_price":
        table = np.loadtxt(args.data_dir, delimiter=",")
        z = ((table - table.mean(0)) / table.std(0, ddof=1)).astype("float32")
        x, y = z[:, :-1], z[:, -1:]
        batch_size = len(x)
    else:
        images, labels = read_images_and_labels(*find_idx_pair([Path(args.data_dir)], "t10k"))
        x = images[: args.n].numpy().astype("float32") / 255
        x = x.reshape(-1, 784) if args.workflow != "cnn" else x.reshape(-1, 28, 28, 1)
        y = keras.utils.to_categorical(labels[: args.n].numpy(), 10)
        batch_size = args.batch_size
    model = course_model(args.workflow)

    starts: list[float] = []

    class EpochTimer(keras.callbacks.Callback):
        """Epoch start to the next epoch's start (the last: to the end of training), as ``bench.py`` times ptref."""

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
            starts.append(time.perf_counter())

        def on_train_end(self, logs: dict | None = None) -> None:
            starts.append(time.perf_counter())

    fit_start = time.perf_counter()
    model.fit(x, y, batch_size=batch_size, epochs=args.epochs, shuffle=True, verbose=0, callbacks=[EpochTimer()])
    epoch_seconds = [end - start for start, end in zip(starts, starts[1:])]
    fit_seconds = time.perf_counter() - fit_start
    print(json.dumps({"epoch_seconds": epoch_seconds, "samples": len(x), "import_seconds": import_seconds,
                      "fit_seconds": fit_seconds, "keras": keras.__version__}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
