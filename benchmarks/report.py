"""``bench.py``'s output: the raw numbers as JSON, markdown tables and a bar chart."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

RUNNERS = {"ptref": "ptref fit", "plain": "plain PyTorch loop", "keras": "Keras fit"}


def rates(row: dict) -> dict[str, list[float]]:
    """Samples/s of every round of every runner: each from the run's median epoch after the warm-up."""
    return {name: [row["samples"] / statistics.median(epochs[row["warmup"]:]) for epochs in runs]
            for name, runs in row["runs"].items()}


def ratio(row: dict, numerator: str, denominator: str) -> float | None:
    """Median over rounds of ``numerator / denominator`` measured in the same round."""
    each = rates(row)
    if numerator not in each or denominator not in each:
        return None
    return statistics.median(a / b for a, b in zip(each[numerator], each[denominator]))


def markdown(report: dict) -> str:
    """The tables of ``bench.md``."""
    machine, settings = report["machine"], report["settings"]
    lines = [
        f"# benchmarks/bench.py ({machine['cores']} cores, {machine['torch_threads']} torch threads, "
        f"OMP_WAIT_POLICY {machine.get('OMP_WAIT_POLICY', 'unset')}, load average "
        f"{machine['loadavg_start'][0]:.1f} → {machine['loadavg_end'][0]:.1f}; torch {machine['torch']}, "
        f"Lightning {machine['lightning']}; float32 ceiling (2048² matmul) {machine['sgemm_gflops']:.0f} GFLOP/s)",
        "",
    ]
    if "mnist" in report:
        extra = " ".join(settings["ptref_flags"]) or "none"
        lines += [
            f"## MNIST training throughput (samples/s, median of {settings['repeats']} interleaved rounds; "
            f"n={settings['n']}, batch {settings['batch_size']}, {settings['epochs']} epochs of which "
            f"{settings['warmup']} warm-up; extra ptref options: {extra})",
            "",
            "| workflow | ptref fit | plain PyTorch loop | Keras fit | ptref / plain | ptref / Keras |",
            "|---|---|---|---|---|---|",
        ]
        for row in report["mnist"]:
            each = {name: statistics.median(values) for name, values in rates(row).items()}
            cells = [f"{each[name]:,.0f}" if name in each else "-" for name in RUNNERS]
            ratios = [ratio(row, "ptref", "plain"), ratio(row, "ptref", "keras")]
            cells += [f"{value:.2f}" if value is not None else "-" for value in ratios]
            lines.append(f"| {row['workflow']} | " + " | ".join(cells) + " |")
        lines.append("")
        for row in report["mnist"]:
            if "training_flops_per_sample" not in row:
                continue
            flops = row["training_flops_per_sample"]
            lines += [f"### {row['workflow']}: {flops / 1e6:.1f} MFLOP per training sample (forward + backward)",
                      "", "| runner | GFLOP/s | fraction of the float32 ceiling |", "|---|---|---|"]
            for name, values in rates(row).items():
                gflops = statistics.median(values) * flops / 1e9
                lines.append(f"| {RUNNERS[name]} | {gflops:.1f} | {gflops / machine['sgemm_gflops']:.0%} |")
            lines.append("")
    if "house_price_ms_per_epoch" in report:
        lines += ["## House price, 500 full-batch epochs on 47 rows (ms per epoch; CLI and plain loop: median of the "
                  "interleaved rounds)", "", "| run | ms/epoch |", "|---|---|"]
        lines += [f"| {name} | {ms:.3f} |" for name, ms in report["house_price_ms_per_epoch"].items()]
        lines.append("")
    if "startup_seconds" in report:
        lines += ["## Startup (s, fresh interpreter, median of 3)", "", "| command | s |", "|---|---|"]
        lines += [f"| `{name}` | {seconds:.2f} |" for name, seconds in report["startup_seconds"].items()]
        lines.append("")
    return "\n".join(lines)


def bar_chart(report: dict, path: Path) -> None:
    """Grouped bars: samples/s per workflow, one bar per runner."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = report["mnist"]
    figure, axis = plt.subplots(figsize=(7, 4))
    width = 0.8 / len(RUNNERS)
    for index, (runner, label) in enumerate(RUNNERS.items()):
        values = [statistics.median(rates(row)[runner]) if runner in row["runs"] else 0.0 for row in rows]
        axis.bar([i + (index - 1) * width for i in range(len(rows))], values, width, label=label)
    axis.set_xticks(range(len(rows)), [row["workflow"] for row in rows])
    axis.set(ylabel="training samples/s", yscale="log", title="MNIST training throughput (higher is better)")
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def write_report(report: dict, out: Path) -> str:
    """Write ``bench.json``, ``bench.md`` and (with MNIST results) ``bench.png`` into ``out``; the markdown."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(report, indent=2))
    text = markdown(report)
    (out / "bench.md").write_text(text + "\n")
    if report.get("mnist"):
        bar_chart(report, out / "bench.png")
    return text + f"\nwritten: {out / 'bench.json'}, {out / 'bench.md'}" + (
        f", {out / 'bench.png'}" if report.get("mnist") else "")
