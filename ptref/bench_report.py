"""``ptref bench``'s output: the raw numbers as JSON, a markdown table and a bar chart."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

RUNNERS = ("lightning", "plain", "keras")


def throughput(row: dict, runner: str, warmup: int) -> float:
    """Samples/s from the median epoch after the warm-up epochs."""
    return row["samples"] / statistics.median(row[runner][warmup:])


def markdown(report: dict) -> str:
    """The tables of ``bench.md``."""
    machine, settings = report["machine"], report["settings"]
    lines = [
        f"# ptref bench ({machine['cores']} cores, {machine['torch_threads']} torch threads, load average "
        f"{machine['loadavg_start'][0]:.1f} → {machine['loadavg_end'][0]:.1f}; torch {machine['torch']}, "
        f"Lightning {machine['lightning']})",
        "",
    ]
    if "mnist" in report:
        warmup = settings["warmup"]
        flags = ", ".join(name for name in ("channels_last", "compile") if settings[name]) or "defaults"
        lines += [
            f"## MNIST training throughput (samples/s; n={settings['n']}, batch {settings['batch_size']}, median of "
            f"{settings['epochs'] - warmup} epochs after {warmup} warm-up; model options: {flags})",
            "",
            "| workflow | ptref (Lightning) | plain PyTorch loop | Keras fit | Lightning / plain | ptref / Keras |",
            "|---|---|---|---|---|---|",
        ]
        for row in report["mnist"]:
            rates = {runner: throughput(row, runner, warmup) for runner in RUNNERS if runner in row}
            keras = rates.get("keras")
            keras_rate, versus_keras = (f"{keras:,.0f}", f"{rates['lightning'] / keras:.2f}") if keras else ("-", "-")
            lines.append(
                f"| {row['workflow']} | {rates['lightning']:,.0f} | {rates['plain']:,.0f} | {keras_rate} | "
                f"{rates['lightning'] / rates['plain']:.2f} | {versus_keras} |"
            )
        lines.append("")
    if "house_price_ms_per_step" in report:
        lines += ["## House price, 500 full-batch steps on 47 rows (ms per step)", "", "| run | ms/step |", "|---|---|"]
        lines += [f"| {name} | {ms:.3f} |" for name, ms in report["house_price_ms_per_step"].items()]
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

    rows, warmup = report["mnist"], report["settings"]["warmup"]
    figure, axis = plt.subplots(figsize=(7, 4))
    width = 0.8 / len(RUNNERS)
    for index, runner in enumerate(RUNNERS):
        values = [throughput(row, runner, warmup) if runner in row else 0.0 for row in rows]
        positions = [i + (index - 1) * width for i in range(len(rows))]
        axis.bar(positions, values, width, label={"lightning": "ptref (Lightning)", "plain": "plain PyTorch",
                                                   "keras": "Keras fit"}[runner])
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
