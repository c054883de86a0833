"""What a chapter shows its reader: rendered tables (HTML, collapsed when long). Progress bars: core.progress."""
from __future__ import annotations

import dataclasses
import html
from typing import Any, Iterable, Mapping, Sequence

import numpy as np


def fmt(value: Any, digits: int = 3) -> str:
    """A number or value as a reader wants it: ``0.123``, ``1.2e-05``, ``12,345``, never ``np.float64(...)``."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or value is None:
        return "—" if value is None else str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.{digits}g}" if np.isfinite(value) else "—"
    if isinstance(value, (tuple, list)):
        return ", ".join(fmt(v, digits) for v in value)
    return str(value)


def table_html(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None, *, caption: str = "",
               collapse_after: int = 12, digits: int = 3) -> str:
    """An HTML table of ``rows`` (dicts), ``$...$`` rendered as math, each cell labelled with its column (a card per
    row on a phone); wrapped in a <details> element when longer than ``collapse_after``; "" when there are no rows
    (an empty table is never shown)."""
    from .scorecard import _html_text

    rows = list(rows)
    if not rows:
        return ""
    columns = list(columns or rows[0].keys())
    head = "".join(f"<th>{_html_text(str(c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f'<td data-label="{html.escape(str(c), quote=True)}">'
                                    f"{_html_text(fmt(r.get(c), digits))}</td>" for c in columns) + "</tr>"
                   for r in rows)
    cap = f"<caption>{_html_text(caption)}</caption>" if caption else ""
    table = (f'<div class="pr-table" style="overflow-x:auto"><table class="table">{cap}<thead><tr>{head}</tr>'
             f"</thead><tbody>{body}</tbody></table></div>")
    if len(rows) > collapse_after:
        summary = html.escape(caption or "table")
        return f"<details><summary>{summary} ({len(rows)} rows)</summary>{table}</details>"
    return table


def show_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str] | None = None, **kwargs: Any) -> None:
    """Display ``rows`` as a rendered HTML table (see :func:`table_html`)."""
    from IPython.display import HTML, display

    text = table_html(rows, columns, **kwargs)
    if text:
        display(HTML(text))


def show_params(cfg: Any, fields: Iterable[str] | None = None, *, caption: str = "Settings of this run") -> None:
    """A small rendered table of a config's fields (never a dataclass repr)."""
    names = list(fields) if fields is not None else [f.name for f in dataclasses.fields(cfg)]
    show_table([{"parameter": n, "value": getattr(cfg, n)} for n in names], caption=caption, collapse_after=8)
