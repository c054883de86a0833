"""The scorecard page and the index's tally: per chapter an HTML table of the paper's claims (verdict first, claim in
rendered math, paper value with its source, ours with uncertainty, a link to the backing figure), rows beyond the
paper apart and never counted."""
from __future__ import annotations

import html
import re

from ..core.results import counted

VERDICT_ORDER = ("reproduced", "partly", "not reproduced", "inconclusive", "not run")
VERDICT_MARK = {v: f'<span class="pr-badge pr-{v.replace(" ", "-")}">{v}</span>' for v in VERDICT_ORDER}
SHORT_TITLES = {  # chapter -> the short name a scorecard heading shows (falls back to the chapter's title)
    "tail_index": "Tail index (Şimşekli et al. 2019)",
    "sgd_regimes": "Lazy and feature regimes (Sclocchi et al. 2023)",
    "escape_rate": "Power-law escape (Mori et al. 2022)",
    "gradient_structure": "Gradient structure (Xie et al. 2023)",
    "synthesis": "Synthesis: four papers on the same runs",
}
_MATH = re.compile(r"(?<!\\)\$(.+?)(?<!\\)\$")


def figure_anchor(chapter: str, figure: str) -> str:
    """HTML id that :func:`paper_repro.present.plotting.save_figure` puts above a saved figure in the chapter's page."""
    return "fig-" + re.sub(r"[^A-Za-z0-9_-]+", "-", f"{chapter}-{figure}")


def _html_text(text: str) -> str:
    """Escape ``text`` for HTML, rendering ``$...$`` spans as MathJax inline math (typeset by the book's MathJax)."""
    out, pos = [], 0
    text = str(text or "")
    for m in _MATH.finditer(text):
        out.append(html.escape(text[pos:m.start()]))
        out.append(f'<span class="math notranslate nohighlight">\\({html.escape(m.group(1))}\\)</span>')
        pos = m.end()
    out.append(html.escape(text[pos:]))
    return "".join(out)


def short_title(name: str, title: str = "") -> str:
    """The chapter's short name for headings and tables."""
    return SHORT_TITLES.get(name, title or name)


def _as_row(c) -> dict:
    """A claim as a saved row (dict); :class:`~paper_repro.core.results.Claim` objects are converted."""
    import dataclasses

    return dataclasses.asdict(c) if dataclasses.is_dataclass(c) else dict(c)


def tally(rows: list[dict]) -> dict[str, int]:
    """Verdict counts of a chapter's counted claims: paper claims whose target the paper or its released code states
    (rows beyond the paper, and targets from an abstract, a summary or derived here, are shown apart, not counted)."""
    rows = [_as_row(c) for c in rows]
    return {v: sum(c["verdict"] == v for c in rows if counted(c)) for v in VERDICT_ORDER}


def shown_apart(rows: list[dict]) -> list[dict]:
    """Paper claims whose target the paper does not state (abstract, summary, derived here): shown, never tallied."""
    return [r for r in map(_as_row, rows) if not r.get("beyond") and not counted(r)]


def claim_anchor(chapter: str, claim_id: str) -> str:
    """HTML id of a claim's row on the scorecard page."""
    return "claim-" + re.sub(r"[^A-Za-z0-9_-]+", "-", f"{chapter}-{claim_id}")


def _sentence(text: str) -> str:
    text = str(text or "").strip()
    return text if not text or text[-1] in ".!?" else text + "."


def _finding(r: dict, note: str) -> str:
    """One claim as a sentence: verdict badge, statement, our number, then ``note`` (links or counts) in brackets."""
    return (f'{VERDICT_MARK.get(r["verdict"], html.escape(r["verdict"]))} {_html_text(_sentence(r["statement"]))} '
            f'<span class="pr-ours">Here: {_html_text(r["ours"])}</span> <span class="pr-links">({note})</span>')


def _item(chapter: str, r: dict, scorecard: str) -> str:
    links = f'<a href="{scorecard}#{claim_anchor(chapter, r["id"])}">row</a>'
    if r.get("figure"):
        links += f' · <a href="#{figure_anchor(chapter, r["figure"])}">figure</a>'
    return f"<li>{_finding(r, links)}</li>"


def totals(claims: dict[str, list[dict]], chapters: list[tuple[str, str]]) -> dict[str, int]:
    """Counted verdicts (reproduced, partly, not reproduced, inconclusive) summed over the chapters."""
    out = dict.fromkeys(VERDICT_ORDER[:4], 0)
    for name, _ in chapters:
        counts = tally(claims.get(name) or [])
        for v in out:
            out[v] += counts[v]
    return out


def verdict_box_html(chapter: str, claims: list, *, scorecard: str = "scorecard.html") -> str:
    """The box a chapter opens with: its tally (counted rows only) and one sentence per counted claim, each linked to
    its scorecard row and backing figure. A chapter with no counted row lists the paper's claims whose target the
    paper does not state (said so), else its rows beyond the papers (a synthesis); the rest is counted in one line."""
    rows = [_as_row(c) for c in claims]
    counts = tally(rows)
    parts = ", ".join(f"{VERDICT_MARK[v]}&nbsp;{counts[v]}" for v in VERDICT_ORDER if counts[v])  # "not run" too
    n = sum(counts.values())
    apart, beyond = shown_apart(rows), [r for r in rows if r.get("beyond")]
    if not rows:
        return '<div class="pr-verdict-box"><p><b>Verdicts of this run</b>: this run saved no claims.</p></div>'
    if n:
        listed, rest = [r for r in rows if counted(r)], [("whose target the paper does not state", apart),
                                                           ("beyond the paper", beyond)]
        head = f"<b>Verdicts of this run</b> ({n} claim{'s' * (n != 1)} with a target the paper states): {parts}"
    elif apart:
        listed, rest = apart, [("beyond the paper", beyond)]
        head = ("<b>Verdicts of this run</b>, none counted: the paper's text with its targets could not be read, so "
                "each target below comes from its abstract, a summary or our derivation (the row says which)")
    else:
        listed, rest = beyond, []
        head = "<b>Verdicts of this run</b>: the rows of this chapter go beyond the papers (none is counted)"
    extra = [f"{len(g)} {'more ' if listed else ''}row{'s' * (len(g) != 1)} {what}" for what, g in rest if g]
    tail = (f'<p class="pr-apart">Shown in the chapter and on the <a href="{scorecard}">scorecard</a> but not '
            f'counted: {" and ".join(extra)}.</p>') if extra else ""
    body = f'<ul class="pr-verdict-list">{"".join(_item(chapter, r, scorecard) for r in listed)}</ul>' if listed else ""
    return f'<div class="pr-verdict-box"><p>{head}{":" if listed else "."}</p>{body}{tail}</div>'


def findings_markdown(claims: dict[str, list[dict]], chapters: list[tuple[str, str]], *, link_prefix: str = "") -> str:
    """The index's opening list: per chapter one finding (its first counted claim, else its first row, with the
    verdict and our number) and its counts; chapters without results are marked not run."""
    items = []
    for name, title in chapters:
        rows = [_as_row(c) for c in claims.get(name) or []]
        link = f'<a href="{link_prefix}{name}.html">{html.escape(short_title(name, title))}</a>'
        if not rows:
            items.append(f"<li>{link}: not run in this build.</li>")
            continue
        first = next((r for r in rows if counted(r)), None) or next(iter(shown_apart(rows)), None) or rows[0]
        counts = tally(rows)
        n = sum(counts[v] for v in VERDICT_ORDER[:4])
        plural = "s" * (len(rows) != 1)
        summary = (f"{counts['reproduced']} of {n} counted claim{'s' * (n != 1)} reproduced" if n else
                   f"{len(rows)} row{plural} beyond the paper or without a stated target, none counted")
        items.append(f"<li>{link} — {_finding(first, summary)}</li>")
    total = totals(claims, chapters)
    n = sum(total.values())
    head = (f"<p><b>In this build</b>: {total['reproduced']} of the {n} claims whose target a paper states are "
            f"reproduced, {total['partly']} partly, {total['not reproduced']} not reproduced and "
            f"{total['inconclusive']} inconclusive.</p>" if n else "")
    return (f'<div class="pr-verdict-box pr-findings">{head}<ul class="pr-verdict-list">{"".join(items)}</ul>'
            "</div>\n")


def show_verdict_box(chapter: str, claims: list) -> None:
    """Glue the chapter's verdict box as ``verdict_box``; the chapter's first cell pastes it with
    ```{glue:} verdict_box``` (myst-nb pastes a later cell's output anywhere in the page)."""
    from IPython.display import HTML

    from ..core.results import glue

    glue(verdict_box=HTML(verdict_box_html(chapter, claims)))


def _claim_rows(name: str, rows: list[dict]) -> str:
    """An HTML scorecard table (verdict first; claim; paper value with source; ours with uncertainty)."""
    body = []
    for c in rows:
        claim = _html_text(c["statement"])
        if c.get("figure"):
            claim += (f' <a class="pr-fig" href="{name}.html#{figure_anchor(name, c["figure"])}" '
                      f'title="the figure behind this row">figure&nbsp;→</a>')
        if c.get("detail"):
            claim += f'<details class="pr-detail"><summary>how</summary>{_html_text(c["detail"])}</details>'
        source = c.get("source") or ""
        src = (f'<span class="pr-source">{_html_text(source)}</span>' if source
               else '<span class="pr-source pr-missing">source missing</span>')
        paper = f"{_html_text(c['paper_value'])}<br>{src}"
        ours = _html_text(c["ours"])
        if c.get("dataset"):
            ours += f'<br><span class="pr-source">{_html_text(c["dataset"])}</span>'
        verdict = c["verdict"]
        body.append(f'<tr id="{claim_anchor(name, c["id"])}" class="pr-{verdict.replace(" ", "-")}"><td data-label="verdict" class="pr-verdict">'
                    f'{VERDICT_MARK.get(verdict, html.escape(verdict))}</td><td data-label="claim">{claim}</td>'
                    f'<td data-label="paper">{paper}</td><td data-label="ours">{ours}</td></tr>')
    head = ("<thead><tr><th>verdict</th><th>claim</th><th>paper (source)</th><th>ours</th>"
            "</tr></thead>")
    return f'<div class="pr-scorecard"><table>{head}<tbody>{"".join(body)}</tbody></table></div>'


def _profiles(rows: list[dict]) -> str:
    return ", ".join(sorted({c.get("profile", "") for c in rows} - {""})) or "—"


def scorecard_markdown(claims: dict[str, list[dict]], chapters: list[tuple[str, str]]) -> str:
    """The scorecard page body: per chapter a heading linked to the chapter and an HTML table of its paper claims,
    then a table of its rows beyond the paper (never tallied); chapters without results are marked not run."""
    parts = [tally_markdown(claims, chapters)]
    for name, title in chapters:
        rows = claims.get(name) or []
        parts.append(f"## {{doc}}`{short_title(name, title)} <{name}>`\n")
        paper = [c for c in rows if counted(c)]
        apart = shown_apart(rows)
        beyond = [c for c in rows if c.get("beyond")]
        if not rows:
            parts.append("*Not run: this chapter saved no claims in this build.*\n")
            continue
        parts.append(f"Profile: `{_profiles(rows)}`.\n")
        parts.append(_claim_rows(name, paper) + "\n" if paper else
                     "No claim with a target the paper states was checked.\n")
        if apart:
            parts.append("**The paper's claims without a stated target** (target from the abstract, a summary, or "
                         f"derived here; shown, not in the tally):\n\n{_claim_rows(name, apart)}\n")
        if beyond:
            parts.append(f"**Beyond the paper** (not in the tally):\n\n{_claim_rows(name, beyond)}\n")
    return "\n".join(parts)


def tally_markdown(claims: dict[str, list[dict]], chapters: list[tuple[str, str]], *, link_prefix: str = "") -> str:
    """Per-chapter verdict counts of the papers' claims (beyond-the-paper rows excluded) and their profile, as an
    HTML table; ``link_prefix`` is the path from the page to the chapters' folder."""
    cols = VERDICT_ORDER[:4]
    head = "".join(f'<th class="pr-count">{v}</th>' for v in cols)
    body, total = [], totals(claims, chapters)
    for name, title in chapters:
        rows = claims.get(name) or []
        counts = tally(rows)
        cells = "".join(f'<td class="pr-count" data-label="{v}">{counts[v]}</td>' for v in cols)
        prof = _profiles(rows) if rows else "not run"
        body.append(f'<tr><td data-label="chapter"><a href="{link_prefix}{name}.html">'
                    f"{html.escape(short_title(name, title))}</a></td>{cells}"
                    f'<td data-label="profile">{html.escape(prof)}</td></tr>')
    cells = "".join(f'<td class="pr-count" data-label="{v}"><b>{total[v]}</b></td>' for v in cols)
    body.append(f'<tr class="pr-total"><td data-label="chapter"><b>all chapters</b></td>{cells}<td></td></tr>')
    return (f'<div class="pr-scorecard pr-tally"><table><thead><tr><th>chapter</th>{head}<th>profile</th></tr>'
            f'</thead><tbody>{"".join(body)}</tbody></table></div>\n')
