"""The one plot the lessons draw: a few labelled curves against 1, 2, 3, ... saved as PNG."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path


def save_line_plot(
    path: Path,
    curves: Mapping[str, Sequence[float]],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    log_y: bool = False,
) -> Path:
    """Draw each curve against 1..len(curve) and save it to ``path`` (parents created); returns ``path``.

    Uses a bare ``Figure`` on the Agg canvas, so it works without a display and never touches pyplot's
    global state.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.4, 4.0), layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots()
    for label, values in curves.items():
        axes.plot(range(1, len(values) + 1), values, marker="o", markersize=3, label=label)
    if log_y:
        axes.set_yscale("log")
    axes.set(title=title, xlabel=xlabel, ylabel=ylabel)
    axes.legend()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    return path
