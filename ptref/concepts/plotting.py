"""The plots the lessons draw: labelled curves against 1, 2, 3, ... or against shared x values, saved as PNG."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
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


@dataclass
class Panel:
    """One panel of :func:`save_panels`: labelled curves (label -> one value per ``x``) against ``x``."""

    title: str
    xlabel: str
    x: Sequence[float]
    curves: Mapping[str, Sequence[float]]


def save_panels(path: Path, panels: Sequence[Panel]) -> Path:
    """Draw the panels side by side and save them to ``path`` (parents created); returns ``path``.

    Curves of up to 20 points are drawn with markers (data points), longer ones as plain lines (functions).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5.2 * len(panels), 4.0), layout="constrained")
    FigureCanvasAgg(figure)
    for axes, panel in zip(figure.subplots(1, len(panels), squeeze=False)[0], panels):
        for label, values in panel.curves.items():
            axes.plot(panel.x, values, marker="o" if len(values) <= 20 else None, markersize=4, label=label)
        axes.set(title=panel.title, xlabel=panel.xlabel)
        axes.grid(alpha=0.3)
        axes.legend()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100)
    return path
