"""What a reader sees in the executed chapters (issue 16 §2-3): no progress-bar residue (text or widget), no numpy
reprs, config or dict dumps, no text wider than the column, no to-do lines or warnings, no stale live-panel
figure, figures no wider than the page can show legibly.

The checks run on the smoke notebooks of ``tests/conftest.py``'s ``smoke_notebook`` (each chapter executed once per
session, whichever test asks first); ``audit_notebook`` is also usable on any executed notebook (e.g. a quick build).
"""
from __future__ import annotations

import base64
import json
import re
import struct
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

from paper_repro.core.results import REPO_ROOT
from paper_repro.present import plotting  # noqa: F401 - its STYLE (savefig.dpi 200) is what the audit assumes
from paper_repro.pipeline import chapters

CHAPTERS = [c.name for c in chapters.chapters(REPO_ROOT)]
MAX_LINE = 100  # characters: wider text is clipped by the book's column
MIN_FONT_PT = 11.0  # paper_repro.present.plotting.MIN_FONT_PT: the smallest text at the page width (issue 27)
MAX_PNG_PX = 920  # pixels at figure.dpi=100: about 9 in, the widest figure still legible at page width
JUNK = {  # pattern -> what it is (checked in every text output)
    r"np\.(float|int|str_|bool_)\w*\(": "numpy repr",
    r"\barray\(\[": "numpy array repr",
    r"\btensor\(": "torch tensor repr",
    r"\bPosixPath\(": "path repr",
    r"\d+%\|[█▏▎▍▌▋▊▉ #]*\|": "progress-bar residue",
    r"\bit/s\]|s/it\]": "progress-bar residue",
    r"(?i)\b(todo|fixme|xxx)\b|benchmark: run|python benchmarks/": "to-do line",
    r"^\s*[A-Z]\w*(Config|Preset|Options)?\(\w+=": "dataclass/config repr",
    r"^\s*\{['\"][^'\"]+['\"]\s*:": "dict dump",
    r"^\s*<\w[\w.]* (object|at 0x)": "object repr",
}
PROGRESS_MODELS = {"FloatProgressModel", "IntProgressModel"}


def _texts(output: dict) -> list[tuple[str, str]]:
    """(kind, text) of an output: stream text, text/plain of results, error tracebacks."""
    if output["output_type"] == "stream":
        return [(output.get("name", "stdout"), "".join(output.get("text", "")))]
    if output["output_type"] == "error":
        return [("error", f"{output.get('ename')}: {output.get('evalue')}")]
    data = output.get("data", {})
    if "text/plain" in data and not ({"text/html", "image/png", "application/vnd.jupyter.widget-view+json",
                                       "text/markdown", "text/latex"} & set(data)):
        return [("text/plain", "".join(data["text/plain"]))]
    return []


def _png_width(output: dict) -> int | None:
    """Width in screen pixels (100 per inch) of a figure output: an image/png at figure.dpi, or the 2x PNG that
    ``plotting.save_figure`` embeds in its HTML figure (savefig.dpi 200, shown at half its pixel width)."""
    data = output.get("data", {})
    png = data.get("image/png")
    scale = 1.0
    if not png:
        html = "".join(data.get("text/html", ""))
        m = re.search(r'class="pr-figure".*?src="data:image/png;base64,([^"]+)"', html, flags=re.S)
        if not m:
            return None
        png, scale = m.group(1), 100 / plt.rcParams["savefig.dpi"]
    raw = base64.b64decode("".join(png) if isinstance(png, list) else png)
    return round(struct.unpack(">II", raw[16:24])[0] * scale)


def _list_repr(text: str) -> bool:
    """A bare Python list/tuple/set repr printed as output (e.g. ``[0.1, 0.2]`` or ``('a', 'b')``)."""
    t = text.strip()
    return bool(t) and t[0] in "[(" and t[-1] in "])" and "\n" not in t and ("," in t or "'" in t)


def audit_notebook(path: Path) -> list[str]:
    """Every reader-visible defect of an executed notebook, as ``cell N: what: excerpt`` lines."""
    nb = json.loads(Path(path).read_text())
    problems = []
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        for out in cell.get("outputs", []):
            for kind, text in _texts(out):
                where = f"cell {i} ({kind})"
                if kind == "error":
                    problems.append(f"{where}: error: {text[:120]}")
                    continue
                if kind == "stderr" and text.strip():
                    problems.append(f"{where}: stderr/warning text: {text.strip()[:120]!r}")
                for line in text.splitlines():
                    if len(line) > MAX_LINE:
                        problems.append(f"{where}: line of {len(line)} chars: {line[:80]!r}…")
                for pattern, what in JUNK.items():
                    m = re.search(pattern, text, flags=re.M)
                    if m:
                        problems.append(f"{where}: {what}: {text[max(0, m.start() - 20):m.end() + 40]!r}")
                if kind == "text/plain" and _list_repr(text):
                    problems.append(f"{where}: list repr: {text.strip()[:80]!r}")
            small = re.search(r'data-min-font-pt="([0-9.]+|inf)"', "".join(out.get("data", {}).get("text/html", "")))
            if small and float(small.group(1)) < MIN_FONT_PT:
                problems.append(f"cell {i}: figure text of {float(small.group(1)):.1f} pt at the page width "
                                f"(< {MIN_FONT_PT:g} pt): enlarge it or make the figure narrower")
            width = _png_width(out)
            if width and width > MAX_PNG_PX:
                problems.append(f"cell {i}: figure {width} px wide (> {MAX_PNG_PX}): shrunk by the page, its text "
                                "becomes too small; stack panels or use plotting.PAGE_WIDTH")
    state = nb.get("metadata", {}).get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    for model_id, model in state.get("state", {}).items():
        name = model.get("model_name", "")
        if name in PROGRESS_MODELS:
            problems.append(f"widget {model_id[:8]}: a progress bar ({name}) was saved in the notebook")
        if name == "OutputModel" and model.get("state", {}).get("outputs"):
            problems.append(f"widget {model_id[:8]}: an Output widget kept {len(model['state']['outputs'])} "
                            "output(s) (a stale live-panel figure)")
    return problems


@pytest.mark.chapters
@pytest.mark.parametrize("name", CHAPTERS)
def test_chapter_outputs_are_clean(name, smoke_notebook):
    problems = audit_notebook(smoke_notebook(name))
    assert not problems, f"{name}: {len(problems)} output problem(s):\n" + "\n".join(problems)


def _nb(*outputs, widgets=None) -> dict:
    meta = {"widgets": {"application/vnd.jupyter.widget-state+json": {"state": widgets}}} if widgets else {}
    return {"cells": [{"cell_type": "code", "source": "", "outputs": list(outputs)}], "metadata": meta}


def _text(s, name="stdout"):
    return {"output_type": "stream", "name": name, "text": s}


def _result(s):
    return {"output_type": "execute_result", "data": {"text/plain": s}, "metadata": {}}


@pytest.mark.parametrize("output, what", [
    (_result("np.float64(1.5)"), "numpy repr"),
    (_result("{np.str_('capped'): np.int64(9)}"), "numpy repr"),
    (_result("{'lr': 0.1, 'batch': 4}"), "dict dump"),
    (_result("TailIndexConfig(profile='smoke', widths=(16, 32))"), "dataclass/config repr"),
    (_text("settings: 100%|██████████| 4/4 [02:06<00:00, 31.6s/it]"), "progress-bar residue"),
    (_text("benchmark: run `python benchmarks/bench_tail.py`"), "to-do line"),
    (_text("x" * 101), "chars"),
    (_text("UserWarning: something", name="stderr"), "stderr"),
    (_result("[PosixPath('a.png'), PosixPath('a.pdf')]"), "path repr"),
    (_result("[0.1, 0.2, 0.3]"), "list repr"),
])
def test_audit_catches(tmp_path, output, what):
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(_nb(output)))
    problems = audit_notebook(path)
    assert any(what in p for p in problems), problems


def test_audit_catches_widgets_and_wide_figures(tmp_path):
    import io

    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(12, 3), dpi=100)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    png = {"output_type": "display_data", "data": {"image/png": base64.b64encode(buf.getvalue()).decode()},
           "metadata": {}}
    widgets = {"a" * 32: {"model_name": "FloatProgressModel", "state": {}},
               "b" * 32: {"model_name": "OutputModel", "state": {"outputs": [{"output_type": "display_data"}]}}}
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(_nb(png, widgets=widgets)))
    problems = "\n".join(audit_notebook(path))
    assert "px wide" in problems and "progress bar" in problems and "stale live-panel" in problems


@pytest.mark.parametrize("inches, wide", [(12, True), (7, False)])
def test_audit_measures_the_figures_save_figure_embeds(tmp_path, inches, wide):
    """save_figure shows a 2x PNG inside HTML: the audit measures it at the page's 100 px per inch."""
    import io

    from paper_repro.present import plotting

    fig = plt.figure(figsize=(inches, 3))
    buf = io.BytesIO()
    fig.savefig(buf, format="png")  # savefig.dpi: 200
    plt.close(fig)
    out = {"output_type": "display_data", "metadata": {},
           "data": {"text/html": plotting.figure_html(buf.getvalue(), "ch", "f", "A caption.", inches)}}
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(_nb(out)))
    assert ("px wide" in "\n".join(audit_notebook(path))) == wide


def test_audit_flags_small_figure_text(tmp_path):
    from paper_repro.present import plotting

    fig, ax = plt.subplots(figsize=(7, 3))
    ax.set_title("t")
    ax.legend(handles=ax.plot([0, 1], label="a"), fontsize=8)
    assert plotting.smallest_font_pt(fig) == 8
    plt.close(fig)
    html = plotting.figure_html(b"\x89PNG\r\n\x1a\n" + b"\0" * 16, "ch", "f", "", 7.0, 8.0)
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(_nb({"output_type": "display_data", "metadata": {}, "data": {"text/html": html}})))
    assert "8.0 pt at the page width" in "\n".join(audit_notebook(path))


def test_audit_passes_clean_outputs(tmp_path):
    html = {"output_type": "display_data", "data": {"text/html": "<table></table>", "text/plain": "<HTML>"},
            "metadata": {}}
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(_nb(html, _text("Fitted slope 1.52 ± 0.08 over 12 points.\n"))))
    assert audit_notebook(path) == []


def test_progress_is_silent_in_batch_runs(monkeypatch, capsys):
    from paper_repro.core.progress import BATCH_ENV, progress

    monkeypatch.setenv(BATCH_ENV, "1")
    assert list(progress(range(3), desc="work")) == [0, 1, 2]
    captured = capsys.readouterr()
    assert "work" not in captured.err + captured.out


def test_precomputed_frames_leave_no_progress_bar(monkeypatch, capsys):
    import matplotlib.pyplot as plt

    from paper_repro.core.progress import BATCH_ENV
    from paper_repro.present import widgets

    monkeypatch.setenv(BATCH_ENV, "1")

    def render(a):
        fig, ax = plt.subplots(figsize=(4, 3))
        ax.plot([0, a])
        return fig

    box = widgets.precomputed(render, {"a": [1, 2]})
    captured = capsys.readouterr()
    assert "precomputing" not in captured.err + captured.out
    frame = box.children[1].children[0]
    assert struct.unpack(">II", frame.value[16:24])[0] >= widgets.FRAME_MIN_PX  # frames >= 560 px wide


def test_live_panel_draws_nothing_until_opened():
    import matplotlib.pyplot as plt

    from paper_repro.present import widgets

    calls = []

    def render(lr, batch_size=1):
        calls.append((lr, batch_size))
        fig, ax = plt.subplots()
        ax.set_title(f"{lr}")
        return fig

    section = widgets.explorer(render, {"lr": [0.1, 0.2]}, live_controls={"lr": (0.05, 1.5, 0.05),
                               "batch_size": (1, 8, 1)}, labels={"lr": "η", "batch_size": "B"})
    n_precomputed = len(calls)
    panel = section.children[-1]
    body = panel.children[0]
    assert len(calls) == n_precomputed and not body.children[1].outputs  # nothing drawn: no stale figure saved
    assert [w.description for w in body.children[0].children] == ["η", "B"]  # labels in the paper's symbols
    panel.selected_index = 0  # the reader opens the panel (in a kernel): it draws
    assert len(calls) == n_precomputed + 1


def _cells(chapter):
    import jupytext

    return jupytext.read(chapter.path).cells


def _reading_follows(cells, i: int) -> bool:
    """A markdown cell comes after figure cell ``i`` before the next figure (a table cell may sit between)."""
    for cell in cells[i + 1:]:
        if cell.cell_type == "markdown":
            return True
        if "save_figure(" in cell.source:
            return False
    return False


@pytest.mark.parametrize("chapter", chapters.chapters(REPO_ROOT), ids=CHAPTERS)
def test_every_figure_has_a_reading_and_explorers_stack(chapter):
    """A markdown reading follows every cell that saves a figure; explorers are combined with side_by_side (never
    an HBox, which pushes a phone page wider than its screen); no config printed."""
    cells = _cells(chapter)
    problems = []
    for i, cell in enumerate(cells):
        if cell.cell_type != "code":
            continue
        src = cell.source
        if "save_figure(" in src and not _reading_follows(cells, i):
            problems.append(f"code cell {i} saves a figure but no markdown reading follows it")
        if re.search(r"HBox\(\s*\[\s*(\w+\.)?explorer\(", src):
            problems.append(f"code cell {i}: explorers in an HBox (use paper_repro.present.widgets.side_by_side)")
        if re.search(r"^\s*(print\(cfg\)|cfg\s*$)", src, flags=re.M):
            problems.append(f"code cell {i}: shows the config (use paper_repro.present.display.show_params or nothing)")
    assert not problems, f"{chapter.name}:\n" + "\n".join(problems)
