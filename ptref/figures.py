"""Figures as PNG files: the one way ptref makes and saves them (callbacks, lessons, reports).

A bare matplotlib ``Figure`` on the Agg canvas: it works without a display (CI, ssh) and never touches pyplot's
global state, so nothing has to be closed and no figure outlives its file.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DPI = 100


def new_figure(width: float, height: float, **kwargs: Any) -> Figure:
    """A ``width`` × ``height`` inch figure on the Agg canvas (``kwargs``: ``Figure``'s, e.g. ``layout``)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), **kwargs)
    FigureCanvasAgg(figure)
    return figure


def save_figure(figure: Figure, path: Path, dpi: int = DPI) -> Path:
    """Write ``figure`` to ``path`` (parents created), tightly laid out unless it has a layout; returns ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if figure.get_layout_engine() is None:
        figure.tight_layout()
    figure.savefig(path, dpi=dpi)
    return path
