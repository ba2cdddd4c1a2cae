"""The plots the lessons draw, saved as PNG: labelled curves against 1, 2, 3, ... or shared x values, and paths
over a surface."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ptref.figures import new_figure, save_figure


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

    Uses :func:`ptref.figures.new_figure`: no display needed, pyplot's global state left alone.
    """

    figure = new_figure(6.4, 4.0, layout="constrained")
    axes = figure.subplots()
    for label, values in curves.items():
        axes.plot(range(1, len(values) + 1), values, marker="o", markersize=3, label=label)
    if log_y:
        axes.set_yscale("log")
    axes.set(title=title, xlabel=xlabel, ylabel=ylabel)
    axes.legend()
    return save_figure(figure, path)


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

    figure = new_figure(5.2 * len(panels), 4.0, layout="constrained")
    for axes, panel in zip(figure.subplots(1, len(panels), squeeze=False)[0], panels):
        for label, values in panel.curves.items():
            axes.plot(panel.x, values, marker="o" if len(values) <= 20 else None, markersize=4, label=label)
        axes.set(title=panel.title, xlabel=panel.xlabel)
        axes.grid(alpha=0.3)
        axes.legend()
    return save_figure(figure, path)


def save_paths_plot(
    path: Path,
    surface: Callable[[object, object], object],
    paths: Mapping[str, Sequence[Sequence[float]]],
    *,
    title: str,
) -> Path:
    """Draw each path of (x, y) points over the contour lines of ``surface(x, y)`` and save it to ``path``.

    ``surface`` takes NumPy grids; the view spans the paths' extent plus a margin. Returns ``path``.
    """
    import numpy as np

    points = np.concatenate([np.asarray(p, dtype=float) for p in paths.values()])
    low, high = points.min(axis=0), points.max(axis=0)
    margin = 0.1 * (high - low) + 1e-3
    x, y = np.meshgrid(*(np.linspace(a - m, b + m, 200) for a, b, m in zip(low, high, margin)))
    figure = new_figure(7.2, 4.8, layout="constrained")
    axes = figure.subplots()
    axes.contour(x, y, surface(x, y), levels=np.geomspace(1e-2, surface(x, y).max(), 12), colors="0.8")
    for label, points in paths.items():
        xy = np.asarray(points, dtype=float)
        axes.plot(xy[:, 0], xy[:, 1], marker="o", markersize=2, linewidth=1, label=label)
    axes.set(title=title, xlabel="w₁", ylabel="w₂")
    axes.legend()
    return save_figure(figure, path)
