"""What ``OMP_WAIT_POLICY`` does to PyTorch on this CPU, and that it leaves TensorFlow alone.

From the repository root: ``PYTHONPATH=. python benchmarks/wait_policy.py --rounds 3`` (on a quiet machine).

PyTorch's CPU kernels split an operation over ``torch.get_num_threads()`` OpenMP threads when it has more than
``at::internal::GRAIN_SIZE`` (32,768) elements. Between two such parallel regions the worker threads wait: with
the default policy (libgomp's) they spin for a while first, so the next region finds them awake; with
``OMP_WAIT_POLICY=PASSIVE`` they sleep at once, and every region pays a wake-up through the kernel. On a tiny model
almost every region is that short. TensorFlow runs its kernels on its own thread pool, which does not read the
variable. Each measurement runs in a fresh interpreter (the policy is read once, when the OpenMP runtime loads),
under each policy, rounds interleaved; printed: medians.

- an element-wise op on a 128 × 784 batch (above the grain size: parallel), µs, on 1 and on 2 threads;
- one training step of the course's softmax model in a plain loop (784 → 10, Keras's Adam, batch 128), ms;
- with ``--keras``: Keras ``fit`` of the same model (``bench_keras.py softmax``), ms per step.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
POLICIES = ("default", "PASSIVE")

PROBE = r"""
import json, sys, time, torch
from torch.nn import functional as F
from ptref.nn import Dense
from ptref.optim import Adam

def per_call(fn, seconds=0.5):
    for _ in range(20):
        fn()
    calls, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        fn(); calls += 1
    return (time.perf_counter() - start) / calls

torch.manual_seed(0)
batch = torch.rand(128, 784)
images = torch.randint(0, 256, (128, 784), dtype=torch.uint8)
labels = F.one_hot(torch.randint(0, 10, (128,)), 10).float()
model = Dense(784, 10)
optimizer = Adam(model.parameters(), learning_rate=1e-3)

def step():
    loss = F.cross_entropy(model(images.float() / 255), labels)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

result = {}
for threads in (1, 2):
    torch.set_num_threads(threads)
    result[f"add_us_{threads}"] = 1e6 * per_call(lambda: batch + 1)
    result[f"step_ms_{threads}"] = 1e3 * per_call(step)
print(json.dumps(result))
"""


def environment(policy: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    if policy != "default":
        env["OMP_WAIT_POLICY"] = policy
    return env


def torch_probe(policy: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True,
                         env=environment(policy)).stdout
    return json.loads(out.strip().splitlines()[-1])


def keras_ms_per_step(policy: str, mnist: str, n: int = 6000, batch_size: int = 128) -> float:
    command = [sys.executable, str(HERE / "bench_keras.py"), "softmax", "--data-dir", mnist, "--n", str(n),
               "--epochs", "4", "--batch-size", str(batch_size)]
    out = subprocess.run(command, capture_output=True, text=True, check=True, env=environment(policy)).stdout
    epochs = json.loads(out.strip().splitlines()[-1])["epoch_seconds"][1:]
    return 1e3 * statistics.median(epochs) / -(-n // batch_size)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks/wait_policy.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keras", action="store_true", help="also time Keras fit of the softmax model")
    parser.add_argument("--mnist", help="folder with the t10k IDX files (for --keras; default: the shared data)")
    args = parser.parse_args(argv)
    if args.keras and args.mnist is None:
        from shared_data import shared_dataset

        args.mnist = str(shared_dataset("mnist-t10k"))
    rows: dict[str, dict[str, list[float]]] = {policy: {} for policy in POLICIES}
    for _ in range(args.rounds):
        for policy in POLICIES:
            measured = torch_probe(policy)
            if args.keras:
                measured["keras_step_ms"] = keras_ms_per_step(policy, args.mnist)
            for key, value in measured.items():
                rows[policy].setdefault(key, []).append(value)
    columns = ["add_us_1", "add_us_2", "step_ms_1", "step_ms_2"] + (["keras_step_ms"] if args.keras else [])
    print("| OMP_WAIT_POLICY | op, 1 thread (µs) | op, 2 threads (µs) | softmax step, 1 thread (ms) | "
          "softmax step, 2 threads (ms) |" + (" Keras fit softmax step (ms) |" if args.keras else ""))
    print("|---" * (len(columns) + 1) + "|")
    for policy in POLICIES:
        cells = " | ".join(f"{statistics.median(rows[policy][key]):.{1 if 'us' in key else 3}f}" for key in columns)
        print(f"| {policy} | {cells} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
