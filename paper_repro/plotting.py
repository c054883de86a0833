"""Figure helpers: one style, every figure saved as PNG and PDF under the chapter's output folder."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg") if matplotlib.get_backend().lower() in {"", "agg"} else None
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .results import output_dir  # noqa: E402

STYLE = {"figure.dpi": 100, "savefig.dpi": 150, "axes.grid": True, "grid.alpha": 0.3, "font.size": 10}
plt.rcParams.update(STYLE)


def save_figure(fig: plt.Figure, chapter: str, name: str) -> list[Path]:
    """Save ``fig`` as ``figures/<name>.png`` and ``.pdf`` in the chapter's output folder."""
    folder = output_dir(chapter) / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{name}.{ext}" for ext in ("png", "pdf")]
    for path in paths:
        fig.savefig(path, bbox_inches="tight")
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


def subplots(nrows: int = 1, ncols: int = 1, *, width: float = 4.2, height: float = 3.2, **kwargs):
    """``plt.subplots`` with a panel size in inches and constrained layout."""
    return plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows), layout="constrained", **kwargs)
