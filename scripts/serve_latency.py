"""Latency and throughput of ``ptref serve``: start the server, fire bursts of requests, print percentiles.

    python scripts/serve_latency.py --ckpt_path runs/mnist_softmax_t10k/version_0/checkpoints/last.ckpt
    python scripts/serve_latency.py --ckpt_path ... --requests 200 --clients 8 --repeats 5 -- --max-batch-size 1

Each repeat sends ``--requests`` POST /predict (t10k digits as PNG files, dark on white, 112 px) from ``--clients``
threads, each client sending its next request when its last one is answered. A request's latency is from sending
to the answer's last byte; throughput is requests over the burst's wall time. The numbers printed are the medians
over the repeats of each repeat's p50, p99 and throughput; a first burst, not counted, warms the server up.
Options after ``--`` go to ``ptref serve``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import io
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ptref.data.idx import read_images_and_labels  # noqa: E402


def digit_bodies(mnist: Path, count: int) -> list[bytes]:
    """``count`` request bodies, each a t10k digit as a PNG file the way a user would send one."""
    images, _ = read_images_and_labels(mnist / "t10k-images-idx3-ubyte.gz", mnist / "t10k-labels-idx1-ubyte.gz")
    bodies = []
    for index in range(count):
        buffer = io.BytesIO()
        Image.fromarray(255 - images[index].numpy()).resize((112, 112)).save(buffer, format="PNG")
        bodies.append(json.dumps({"image": base64.b64encode(buffer.getvalue()).decode()}).encode())
    return bodies


def timed_post(url: str, body: bytes) -> float:
    """Seconds from sending ``body`` to the whole answer (which must be 200)."""
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()
        if response.status != 200:
            raise RuntimeError(f"status {response.status}")
    return time.perf_counter() - start


def burst(url: str, bodies: list[bytes], requests: int, clients: int) -> tuple[float, float, float]:
    """``(p50 s, p99 s, requests/s)`` of ``requests`` posts from ``clients`` threads."""
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        latencies = list(pool.map(lambda i: timed_post(url, bodies[i % len(bodies)]), range(requests)))
    wall = time.perf_counter() - start
    p50, p99 = np.percentile(latencies, [50, 99])
    return float(p50), float(p99), requests / wall


def start_server(ckpt_path: str, serve_options: list[str]) -> tuple[subprocess.Popen, str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "ptref", "serve", "--ckpt_path", ckpt_path, "--port", str(port), *serve_options],
        env={**os.environ, "PYTHONPATH": str(REPO)}, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.read() == b"ok":
                    return process, url
        time.sleep(0.3)
    stop(process)
    raise SystemExit("ptref serve did not become ready")


def stop(process: subprocess.Popen) -> None:
    """The server and the workers it started (its process group)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ckpt_path", required=True)
    parser.add_argument("--mnist", default=str(REPO.parent / "shared" / "datasets" / "mnist-t10k"))
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("serve_options", nargs="*", help="after --: options of ptref serve")
    args = parser.parse_args()
    bodies = digit_bodies(Path(args.mnist), 50)
    process, url = start_server(args.ckpt_path, args.serve_options)
    try:
        burst(f"{url}/predict", bodies, args.requests, args.clients)  # warm-up
        results = [burst(f"{url}/predict", bodies, args.requests, args.clients) for _ in range(args.repeats)]
    finally:
        stop(process)
    p50, p99, throughput = (statistics.median(values) for values in zip(*results))
    print(f"{args.requests} requests from {args.clients} clients, median of {args.repeats} bursts "
          f"({platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, serve options: "
          f"{' '.join(args.serve_options) or 'defaults'}):")
    print(f"  p50 {p50 * 1000:.1f} ms   p99 {p99 * 1000:.1f} ms   {throughput:.0f} requests/s")


if __name__ == "__main__":
    main()
