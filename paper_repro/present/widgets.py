"""Explore sections with two faces: kernel-free precomputed frames (static HTML book) and live controls (Jupyter).

Readable on a desktop and on a phone: short option lists become toggle buttons, long labels a dropdown, the rest a
slider whose track is at least ``SLIDER_MIN_PX`` wide; frames are at least ``FRAME_MIN_PX`` wide and shrink with the
page; several explorers go next to each other on a wide screen and stack on a narrow one (:func:`side_by_side`).
"""
from __future__ import annotations

import io
import itertools
from typing import Any, Callable, Mapping, Sequence

import ipywidgets as W
import matplotlib.pyplot as plt
from IPython.display import display

FRAME_MIN_PX = 600  # a precomputed frame is at least this many pixels wide (legible at desktop page width)
SLIDER_MIN_PX = 320  # a slider (description + track + readout) is at least this wide on a desktop
TOGGLE_MAX = 5  # up to this many options: toggle buttons instead of a slider
LABEL_MAX = 12  # an option label longer than this: a dropdown (a slider readout would truncate it)


def figure_png(fig, dpi: int = 100, min_width_px: int = FRAME_MIN_PX) -> bytes:
    """PNG bytes of a matplotlib figure at ``dpi``, raised so the image is at least ``min_width_px`` wide (the
    figure is closed afterwards, so it is not shown twice)."""
    def png(at: float) -> bytes:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=at, bbox_inches="tight")
        return buf.getvalue()

    data = png(dpi)
    width = int.from_bytes(data[16:20], "big")  # the PNG header's width (after the tight crop)
    if width < min_width_px:
        data = png(dpi * (min_width_px + 1) / width)
    plt.close(fig)
    return data


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def pow2_label(value: float) -> str | None:
    """``"2⁻¹⁴"`` for an exact power of two 2^k with k <= -4 or k >= 10 (whose decimal form, 6.10352e-05 or 1024,
    hides the grid's spacing); None otherwise."""
    import math

    if not (isinstance(value, (int, float)) and value > 0 and math.isfinite(value)):
        return None
    mantissa, exp = math.frexp(value)
    k = exp - 1
    return f"2{str(k).translate(_SUPERSCRIPT)}" if mantissa == 0.5 and (k <= -4 or k >= 10) else None


def _label(value: Any) -> str:
    """A control's option label: powers of two as 2^k, other floats in %g, anything else as str."""
    if isinstance(value, float):
        return pow2_label(value) or f"{value:g}"
    return str(value)


def control(name: str, values: Sequence[Any], label: str | None = None) -> W.Widget:
    """The control for one grid parameter (its ``index`` selects a value): toggle buttons for a short list,
    a dropdown for long labels, otherwise a slider with a wide track."""
    options = [_label(v) for v in values]
    description = label if label is not None else name
    style = {"description_width": "initial"}
    if len(options) <= TOGGLE_MAX and all(len(o) <= LABEL_MAX for o in options):
        return W.ToggleButtons(options=options, description=description, style={**style, "button_width": "auto"},
                               layout=W.Layout(width="auto", max_width="100%"))
    if any(len(o) > LABEL_MAX for o in options):
        return W.Dropdown(options=options, description=description, style=style,
                          layout=W.Layout(width="auto", min_width="240px", max_width="100%"))
    return W.SelectionSlider(options=options, description=description, continuous_update=True, style=style,
                             layout=W.Layout(width=f"{SLIDER_MIN_PX + 120}px", min_width=f"{SLIDER_MIN_PX}px",
                                             max_width="100%"))


def _controls_box(children: Sequence[W.Widget]) -> W.Box:
    box = W.Box(list(children), layout=W.Layout(display="flex", flex_flow="row wrap", align_items="center",
                                                 max_width="100%", grid_gap="4px 16px"))
    box.add_class("paper-repro-controls")
    return box


def precomputed(render: Callable[..., Any], grid: Mapping[str, Sequence[Any]], *, dpi: int = 100,
                progress: bool = True, labels: Mapping[str, str] | None = None) -> W.VBox:
    """Controls jslinked to nested Stacks of PNG frames of ``render(**params)`` for every grid point.

    Linking happens in the browser (``jslink``), so the controls work in the static HTML book without a kernel.
    ``labels`` maps a parameter name to the label the reader sees (the paper's symbol, e.g. ``{"lr": "η"}``).
    The frame-rendering progress bar is silent in batch runs (``paper_repro.core.progress.progress``).
    """
    from ..core.progress import progress as progress_bar

    labels = dict(labels or {})
    names = list(grid)
    if not names or any(len(grid[n]) == 0 for n in names):
        raise ValueError("grid needs at least one parameter with at least one value")
    combos = list(itertools.product(*(grid[n] for n in names)))
    frames = {c: W.Image(value=figure_png(render(**dict(zip(names, c))), dpi=dpi), format="png",
                         layout=W.Layout(max_width="100%", height="auto"))
              for c in progress_bar(combos, desc="precomputing frames", disable=not progress)}
    controls = [control(n, grid[n], labels.get(n)) for n in names]
    stacks_at: list[list[W.Stack]] = [[] for _ in names]

    def build(level: int, prefix: tuple) -> W.Widget:
        if level == len(names):
            return frames[prefix]
        stack = W.Stack([build(level + 1, prefix + (v,)) for v in grid[names[level]]], selected_index=0)
        stacks_at[level].append(stack)
        return stack

    view = build(0, ())
    for ctrl, stacks in zip(controls, stacks_at):
        for stack in stacks:
            W.jslink((ctrl, "index"), (stack, "selected_index"))
    box = W.VBox([_controls_box(controls), view], layout=W.Layout(max_width="100%"))
    box.add_class("paper-repro-explorer")
    return box


def _live_widget(name: str, abbrev: Any, label: str) -> W.Widget:
    widget = abbrev if isinstance(abbrev, W.Widget) else W.interactive.widget_from_abbrev(abbrev)
    if widget is None:
        raise ValueError(f"cannot make a control for {name}={abbrev!r}")
    widget.description = label
    widget.style = {"description_width": "initial"}
    if isinstance(widget, (W.IntSlider, W.FloatSlider, W.SelectionSlider)):
        widget.layout = W.Layout(width=f"{SLIDER_MIN_PX + 120}px", min_width=f"{SLIDER_MIN_PX}px", max_width="100%")
    return widget


def live(render: Callable[..., Any], controls: Mapping[str, Any], *,
         labels: Mapping[str, str] | None = None) -> tuple[W.VBox, Callable[[], None]]:
    """Live controls that call ``render(**params)`` in the kernel on every change (Jupyter, JupyterLab, Colab).

    Returns the panel and its ``draw`` function. Nothing is drawn when the panel is built, so a saved notebook keeps
    no stale figure; :func:`explorer` draws when the reader opens the panel.
    """
    labels = dict(labels or {})
    out = W.Output(layout=W.Layout(max_width="100%"))
    widgets = {n: _live_widget(n, a, labels.get(n, n)) for n, a in controls.items()}

    def draw(*_: Any) -> None:
        with out:
            out.clear_output(wait=True)
            fig = render(**{n: w.value for n, w in widgets.items()})
            display(fig)
            plt.close(fig)

    for w in widgets.values():
        w.observe(draw, "value")
    return W.VBox([_controls_box(list(widgets.values())), out]), draw


def explorer(render: Callable[..., Any], grid: Mapping[str, Sequence[Any]], *, live_controls: Mapping[str, Any]
             | None = None, title: str = "", dpi: int = 100, labels: Mapping[str, str] | None = None) -> W.VBox:
    """One explore section: the precomputed kernel-free view, plus live controls when ``live_controls`` is given.

    In the static book only the precomputed view reacts; the live panel (collapsed, empty until opened) needs a
    running kernel. ``labels`` (the papers' symbols) apply to both.
    """
    parts: list[W.Widget] = []
    if title:
        parts.append(W.HTML(f"<b>{title}</b>"))
    parts.append(precomputed(render, grid, dpi=dpi, labels=labels))
    if live_controls:
        panel_body, draw = live(render, live_controls, labels=labels)
        panel = W.Accordion([panel_body], selected_index=None)
        panel.set_title(0, "Live controls (need a running kernel: Jupyter, JupyterLab or Colab)")
        panel.add_class("paper-repro-live")  # the static book hides it (book/_static/paper_repro.css): no kernel there
        panel.observe(lambda change: draw() if change["new"] == 0 else None, "selected_index")
        parts.append(panel)
    box = W.VBox(parts, layout=W.Layout(max_width="100%", min_width="0"))
    box.add_class("paper-repro-explorer-section")
    return box


def side_by_side(*boxes: W.Widget) -> W.Box:
    """Several explorers next to each other on a wide screen, stacked on a narrow one (flex-wrap; the book's
    stylesheet stacks them below 700 px)."""
    for b in boxes:
        b.layout.flex = "1 1 560px"
        b.layout.min_width = "0"
    box = W.Box(list(boxes), layout=W.Layout(display="flex", flex_flow="row wrap", width="100%", max_width="100%",
                                             grid_gap="16px"))
    box.add_class("paper-repro-side-by-side")
    return box
