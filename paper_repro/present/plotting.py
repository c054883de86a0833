"""Figure helpers: one style, every figure saved as PNG and PDF under the chapter's output folder."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg") if matplotlib.get_backend().lower() in {"", "agg"} else None
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..core.results import output_dir  # noqa: E402

PAGE_WIDTH = 7.0  # inches: the book's text column; a figure this wide is shown at about its natural size
MAX_WIDTH = 8.0  # inches: wider figures are shrunk by the page and their text becomes too small to read
STYLE = {  # legible at page width: 10-11 pt text on a <= 7 in figure is 14-16 px on screen
    "figure.dpi": 100, "savefig.dpi": 200, "savefig.bbox": "tight", "figure.figsize": (PAGE_WIDTH, 3.6),
    "font.size": 11, "axes.titlesize": 11.5, "axes.labelsize": 11, "xtick.labelsize": 10, "ytick.labelsize": 10,
    "legend.fontsize": 9.5, "legend.framealpha": 0.85, "lines.linewidth": 1.6, "lines.markersize": 5,
    "axes.grid": True, "grid.alpha": 0.3,
}
plt.rcParams.update(STYLE)


class SavedFigure(list):
    """The paths :func:`save_figure` wrote (a list); shows nothing when it ends a notebook cell."""

    def _ipython_display_(self) -> None:
        pass


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def save_figure(fig: plt.Figure, chapter: str, name: str) -> list[Path]:
    """Save ``fig`` as ``figures/<name>.png`` (200 dpi) and ``.pdf`` in the chapter's output folder.

    In a notebook it also puts an invisible anchor (``id="fig-<chapter>-<name>"``) above the figure, which the
    scorecard rows link to. The returned list of paths displays nothing.
    """
    folder = output_dir(chapter) / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    paths = SavedFigure(folder / f"{name}.{ext}" for ext in ("png", "pdf"))
    for path in paths:
        fig.savefig(path, bbox_inches="tight")
    if _in_kernel():
        from IPython.display import HTML, display

        from .scorecard import figure_anchor

        display(HTML(f'<div class="pr-figure-anchor" id="{figure_anchor(chapter, name)}"></div>'))
    return paths


def loglog_fit_line(ax, x, y, slope: float, *, anchor: str = "first", **kwargs):
    """Draw a line of given ``slope`` on log-log axes through the first (or last) point of (x, y)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    i = 0 if anchor == "first" else -1
    xs = np.array([x.min(), x.max()])
    ax.plot(xs, y[i] * (xs / x[i]) ** slope, "--", **kwargs)
    return ax


def fit_loglog(x, y) -> tuple[float, float]:
    """Least-squares slope and intercept of log y against log x (finite, positive points only)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(x) & np.isfinite(y) & (x > 0) & (y > 0)
    slope, intercept = np.polyfit(np.log(x[ok]), np.log(y[ok]), 1)
    return float(slope), float(intercept)


def subplots(nrows: int = 1, ncols: int = 1, *, width: float | None = None, height: float = 3.2, **kwargs):
    """``plt.subplots`` with a panel size in inches and constrained layout.

    Without ``width`` the panels share the page width (:data:`PAGE_WIDTH`); more than two panels in a row are
    too small to read at page width: use :func:`stacked` (one panel per row) or two columns.
    """
    width = width if width is not None else (PAGE_WIDTH / ncols if ncols > 1 else PAGE_WIDTH * 0.8)
    return plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), layout="constrained", **kwargs)


def stacked(n: int, *, height: float = 2.8, width: float = PAGE_WIDTH, sharex: bool = False, ncols: int = 1,
            **kwargs):
    """``n`` panels at full page width, stacked vertically (``ncols=2``: two per row); returns (fig, flat axes).

    Spare axes of an incomplete last row are removed.
    """
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(width, height * nrows), layout="constrained", sharex=sharex,
                             squeeze=False, **kwargs)
    flat = list(axes.ravel())
    for ax in flat[n:]:
        ax.remove()
    return fig, np.array(flat[:n], dtype=object)
