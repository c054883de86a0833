"""Explore sections with two faces: kernel-free precomputed frames (static HTML book) and live controls (Jupyter)."""
from __future__ import annotations

import io
import itertools
from typing import Any, Callable, Mapping, Sequence

import ipywidgets as W
import matplotlib.pyplot as plt
from IPython.display import display
from tqdm.auto import tqdm


def figure_png(fig, dpi: int = 70) -> bytes:
    """PNG bytes of a matplotlib figure (closed afterwards, so it is not shown twice)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _label(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def precomputed(render: Callable[..., Any], grid: Mapping[str, Sequence[Any]], *, dpi: int = 70,
                progress: bool = True, labels: Mapping[str, str] | None = None) -> W.VBox:
    """Sliders jslinked to nested Stacks of PNG frames of ``render(**params)`` for every grid point.

    Linking happens in the browser (``jslink``), so the controls work in the static HTML book without a kernel.
    ``labels`` maps a parameter name to the label the reader sees (the paper's symbol, e.g. ``{"lr": "η"}``).
    """
    labels = dict(labels or {})
    names = list(grid)
    if not names or any(len(grid[n]) == 0 for n in names):
        raise ValueError("grid needs at least one parameter with at least one value")
    combos = list(itertools.product(*(grid[n] for n in names)))
    frames = {c: W.Image(value=figure_png(render(**dict(zip(names, c))), dpi=dpi), format="png")
              for c in tqdm(combos, desc="precomputing frames", disable=not progress, leave=False)}
    sliders = [W.SelectionSlider(options=[_label(v) for v in grid[n]], description=labels.get(n, n), continuous_update=True,
                                 style={"description_width": "initial"}) for n in names]
    stacks_at: list[list[W.Stack]] = [[] for _ in names]

    def build(level: int, prefix: tuple) -> W.Widget:
        if level == len(names):
            return frames[prefix]
        stack = W.Stack([build(level + 1, prefix + (v,)) for v in grid[names[level]]], selected_index=0)
        stacks_at[level].append(stack)
        return stack

    view = build(0, ())
    for slider, stacks in zip(sliders, stacks_at):
        for stack in stacks:
            W.jslink((slider, "index"), (stack, "selected_index"))
    box = W.VBox([W.HBox(sliders), view])
    box.add_class("paper-repro-explorer")
    return box


def live(render: Callable[..., Any], controls: Mapping[str, Any]) -> W.VBox:
    """Live controls that call ``render(**params)`` in the kernel on every change (Jupyter, JupyterLab, Colab)."""
    out = W.Output()

    def show(**params):
        with out:
            out.clear_output(wait=True)
            fig = render(**params)
            display(fig)
            plt.close(fig)

    ui = W.interactive(show, {"manual": False}, **controls)
    return W.VBox([W.HBox(list(ui.children[:-1])), out])  # ui.children[-1] is its own unused Output


def explorer(render: Callable[..., Any], grid: Mapping[str, Sequence[Any]], *, live_controls: Mapping[str, Any]
             | None = None, title: str = "", dpi: int = 70, labels: Mapping[str, str] | None = None) -> W.VBox:
    """One explore section: the precomputed kernel-free view, plus live controls when ``live_controls`` is given.

    In the static book only the precomputed view reacts; the live panel (collapsed) needs a running kernel.
    """
    parts: list[W.Widget] = []
    if title:
        parts.append(W.HTML(f"<b>{title}</b>"))
    parts.append(precomputed(render, grid, dpi=dpi, labels=labels))
    if live_controls:
        panel = W.Accordion([live(render, live_controls)], selected_index=None)
        panel.set_title(0, "Live controls (need a running kernel: Jupyter, JupyterLab or Colab)")
        parts.append(panel)
    return W.VBox(parts)


def side_by_side(*boxes: W.Widget) -> W.Box:
    """Several explorers next to each other on a wide screen, stacked on a narrow one (flex-wrap)."""
    return W.Box(list(boxes), layout=W.Layout(display="flex", flex_flow="row wrap", width="100%"))
