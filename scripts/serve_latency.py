"""Latency and throughput of ``ptref serve``: start the server, fire bursts of requests, print percentiles, and
check every answer against ``ptref predict``.

    python scripts/serve_latency.py --config experiments/mnist_softmax_t10k.yaml \
        --ckpt_path runs/mnist_softmax_t10k/version_0/checkpoints/last.ckpt
    python scripts/serve_latency.py --config experiments/captcha.yaml --ckpt_path ... --images captchas/*.png
    python scripts/serve_latency.py ... --requests 200 --clients 8 --repeats 5 -- --max-batch-size 1

Each repeat sends ``--requests`` POST /predict from ``--clients`` threads, each client sending its next request
when its last one is answered; request i carries picture i mod the number of pictures (``--images``, or by default
50 t10k digits as PNG files, dark on white, 112 px). A request's latency is from sending to the answer's last
byte; throughput is requests over the burst's wall time. The numbers printed are the medians over the repeats of
each repeat's p50, p99 and throughput; a first burst, not counted, warms the server up. Every answer must be a 200
whose ``label`` is what ``ptref predict --config ... --ckpt_path ...`` prints for that picture; the script stops
with a message naming the first one that is not. Options after ``--`` go to ``ptref serve``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ptref.data.idx import read_images_and_labels  # noqa: E402
from shared_data import shared_dataset  # noqa: E402


def digit_files(mnist: Path, count: int, folder: Path) -> list[Path]:
    """``count`` t10k digits written to ``folder`` as PNG files, the way a user would send one."""
    images, _ = read_images_and_labels(mnist / "t10k-images-idx3-ubyte.gz", mnist / "t10k-labels-idx1-ubyte.gz")
    files = []
    for index in range(count):
        files.append(folder / f"digit_{index}.png")
        Image.fromarray(255 - images[index].numpy()).resize((112, 112)).save(files[-1])
    return files


def body(path: Path) -> bytes:
    return json.dumps({"image": base64.b64encode(path.read_bytes()).decode()}).encode()


def timed_post(url: str, body: bytes) -> tuple[float, str]:
    """``(seconds from sending body to the whole answer, the answer's label)``; the answer must be a 200."""
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:
        answer = response.read()
        if response.status != 200:
            raise RuntimeError(f"status {response.status}: {answer[:200]!r}")
    return time.perf_counter() - start, json.loads(answer)["label"]


def burst(url: str, bodies: list[bytes], requests: int, clients: int) -> tuple[float, float, float, list[str]]:
    """``(p50 s, p99 s, requests/s, labels)`` of ``requests`` posts from ``clients`` threads (request i carries
    ``bodies[i % len(bodies)]``; ``labels`` in that order)."""
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        results = list(pool.map(lambda i: timed_post(url, bodies[i % len(bodies)]), range(requests)))
    wall = time.perf_counter() - start
    p50, p99 = np.percentile([latency for latency, _ in results], [50, 99])
    return float(p50), float(p99), requests / wall, [label for _, label in results]


def predicted(config: str, ckpt_path: str, files: list[Path]) -> dict[str, str]:
    """What ``ptref predict`` prints for each file, after ``<file>: `` (e.g. ``digit 7 (probability 0.998)``)."""
    command = [sys.executable, "-m", "ptref", "predict", "--config", config, "--ckpt_path", ckpt_path,
               "--trainer.enable_progress_bar", "false", "--data.predict_files", json.dumps([str(f) for f in files])]
    printed = subprocess.run(command, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True,
                             check=True).stdout
    lines = dict(re.findall(r"^(\S+): (.+)$", printed, re.MULTILINE))
    missing = [str(f) for f in files if str(f) not in lines]
    if missing:
        raise SystemExit(f"ptref predict printed no line for {missing[0]}:\n{printed}")
    return {str(f): lines[str(f)] for f in files}


def check(files: list[Path], labels: list[str], printed: dict[str, str]) -> None:
    """Each served label is the one ``ptref predict`` printed for the same file (its text starts with the label,
    or with the class's noun and the label: ``0427 (...)``, ``digit 7 (...)``)."""
    for index, label in enumerate(labels):
        path = str(files[index % len(files)])
        if not re.match(rf"(\S+ )?{re.escape(label)} \(", printed[path]):
            raise SystemExit(f"request {index} ({path}): served label {label!r}, ptref predict: {printed[path]!r}")


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
    parser.add_argument("--config", required=True, help="the checkpoint's experiment YAML, for ptref predict")
    parser.add_argument("--images", nargs="+", type=Path, help="pictures to send (default: 50 t10k digits)")
    parser.add_argument("--mnist", default=str(shared_dataset("mnist-t10k")))
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("serve_options", nargs="*", help="after --: options of ptref serve")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        files = args.images or digit_files(Path(args.mnist), 50, Path(temporary))
        bodies = [body(path) for path in files]
        printed = predicted(args.config, args.ckpt_path, files)
        process, url = start_server(args.ckpt_path, args.serve_options)
        try:
            bursts = [burst(f"{url}/predict", bodies, args.requests, args.clients) for _ in range(1 + args.repeats)]
        finally:
            stop(process)
        for *_, labels in bursts:
            check(files, labels, printed)
    results = [timings for *timings, _ in bursts[1:]]  # the first burst warms the server up
    p50, p99, throughput = (statistics.median(values) for values in zip(*results))
    print(f"{args.requests} requests from {args.clients} clients, median of {args.repeats} bursts "
          f"({platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, serve options: "
          f"{' '.join(args.serve_options) or 'defaults'}):")
    print(f"  p50 {p50 * 1000:.1f} ms   p99 {p99 * 1000:.1f} ms   {throughput:.0f} requests/s")
    distinct = len({label for *_, labels in bursts for label in labels})
    print(f"  all {len(bursts) * args.requests} answers 200, each label the one ptref predict prints "
          f"({len(files)} pictures, {distinct} distinct labels)")


if __name__ == "__main__":
    main()
