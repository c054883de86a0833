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
STYLE = {  # legible at page width: >= 11 pt text on a <= 7 in figure shown at 100 px/in is >= 15 px on screen
    "figure.dpi": 100, "savefig.dpi": 200, "savefig.bbox": "tight", "figure.figsize": (PAGE_WIDTH, 3.6),
    "font.size": 11, "axes.titlesize": 12, "axes.labelsize": 11, "xtick.labelsize": 11, "ytick.labelsize": 11,
    "legend.fontsize": 11, "legend.framealpha": 0.85, "lines.linewidth": 1.6, "lines.markersize": 5,
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


FIGURE_URL = "../figures/{chapter}/{name}.png"  # full-size PNG from a chapter page (build copies it there)


MIN_FONT_PT = 11.0  # the smallest text a figure may show at the page width (issue 27); tests/test_outputs.py checks


def smallest_font_pt(fig: plt.Figure) -> float:
    """Size in points of the smallest visible, non-empty text of ``fig`` (inf when it has none)."""
    from matplotlib.text import Text

    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    return min(sizes, default=float("inf"))


def figure_html(png: bytes, chapter: str, name: str, caption: str, width_in: float,
                min_font_pt: float = float("inf")) -> str:
    """The figure as a page shows it: the 2x PNG embedded at its natural width (``width_in`` x 100 CSS px), linked
    to the full-size file, alt text and a caption from ``caption`` (else the figure's name)."""
    import base64
    import html

    alt = html.escape(caption or name.replace("_", " "), quote=True)
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    src = base64.b64encode(png).decode()
    shown = min_font_pt * min(1.0, PAGE_WIDTH / width_in) if width_in > 0 else min_font_pt  # shrunk to the page
    return (f'<figure class="pr-figure" data-min-font-pt="{shown:.1f}"><a href="{FIGURE_URL.format(chapter=chapter, name=name)}" '
            f'title="open the full-size figure"><img src="data:image/png;base64,{src}" alt="{alt}" '
            f'style="width: min(100%, {round(width_in * 100)}px)"></a>{cap}</figure>')


def _draw(fig: plt.Figure) -> tuple[float, bool]:
    """(saved width in inches, whether the constrained layout collapsed) of a draw of ``fig``."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.canvas.draw()
    collapsed = any("constrained_layout not applied" in str(w.message) for w in caught)
    box = fig.get_tightbbox(fig.canvas.get_renderer()).padded(plt.rcParams["savefig.pad_inches"])
    return box.width, collapsed


def saved_width(fig: plt.Figure) -> float:
    """Width in inches of ``fig`` as ``savefig(bbox_inches="tight")`` writes it (legends outside the axes included)."""
    return _draw(fig)[0]


def fit_page(fig: plt.Figure, width: float = PAGE_WIDTH, tries: int = 4) -> float:
    """Narrow ``fig`` until its saved width is at most ``width`` (text keeps its size in points; the axes give way),
    so that the page never shrinks it and its text stays >= MIN_FONT_PT. When that cannot work (the layout collapses,
    or something wider than the page does not shrink, e.g. a wide legend) the figure keeps the size the chapter drew
    it at. Returns the saved width."""
    original = fig.get_size_inches().copy()
    w, _ = _draw(fig)
    for _ in range(tries):
        if w <= width:
            return w
        size = fig.get_size_inches()
        fig.set_size_inches(max(size[0] - (w - width) - 0.05, 1.0), size[1])
        narrower, collapsed = _draw(fig)
        if collapsed or narrower >= w - 0.01:
            break
        w = narrower
    if w > width:
        fig.set_size_inches(*original)
        w, _ = _draw(fig)
    return w


def save_figure(fig: plt.Figure, chapter: str, name: str, caption: str = "") -> list[Path]:
    """Save ``fig`` as ``figures/<name>.png`` (200 dpi, twice the screen's 100 px per inch) and ``.pdf`` in the
    chapter's output folder, narrowed to the page width first (:func:`fit_page`).

    In a notebook it shows the figure right there (and closes it, so it is not drawn twice): an invisible anchor
    (``id="fig-<chapter>-<name>"``, which the scorecard rows link to), the 2x PNG linked to its full-size file, with
    ``caption`` (one sentence: what the figure shows) as alt text and caption. The returned paths display nothing.
    """
    folder = output_dir(chapter) / "figures"
    folder.mkdir(parents=True, exist_ok=True)
    paths = SavedFigure(folder / f"{name}.{ext}" for ext in ("png", "pdf"))
    fit_page(fig)
    for path in paths:
        fig.savefig(path, bbox_inches="tight")
    if _in_kernel():
        from IPython.display import HTML, display

        from .scorecard import figure_anchor

        png = paths[0].read_bytes()
        width = int.from_bytes(png[16:20], "big") / plt.rcParams["savefig.dpi"]  # inches of the saved (tight) PNG
        display(HTML(f'<div class="pr-figure-anchor" id="{figure_anchor(chapter, name)}"></div>'
                     + figure_html(png, chapter, name, caption, width, smallest_font_pt(fig))))
        plt.close(fig)
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
