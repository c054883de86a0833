"""What a reader must never meet on a page (issue 27): build history, configuration names in prose, claim ids, raw
LaTeX, "± 0.00", printed lines, empty tables, powers of two in long decimal form. Pure checks over an executed
notebook and a built HTML page; each returns the problems found, as "where: what" lines."""
from __future__ import annotations

import html as _html
import re
from typing import Iterable

HISTORY = re.compile(r"\b(earlier|first|previous|old|older|last) (version|build|draft|run)s? of (this|the) (chapter|book|page)\b"
                     r"|\bthis (chapter|book) (used to|once)\b", re.I)
ZERO_ERROR = re.compile(r"±\s*0(?:\.0+)?(?![.\d])")
RAW_MATH = re.compile(r"\$\$[^$]+\$\$|(?<![\\$])\$(?!\s)[^$\n]{1,80}?(?<![\s\\])\$(?!\d)")  # after tags are gone
LONG_SCI = re.compile(r"\b\d\.\d{4,}e[-+]?\d+\b")  # 6.10352e-05: a float printed by %g, never a reader's number
EMPTY_TABLE = re.compile(r"<tbody>\s*</tbody>|\bnone in this profile\b", re.I)
GLUE_ROLE = re.compile(r"\{glue(:\w+)?\}`[^`]*`")
INLINE_CODE = re.compile(r"`([^`\n]+)`")
FENCE_LINE = re.compile(r"^\s*(`{3,}|~{3,})\s*(\{([^}]*)\})?.*$")  # a fence: its marker and {directive}, if any


def _words(ids: Iterable[str]) -> re.Pattern | None:
    ids = sorted({i for i in ids if i}, key=len, reverse=True)
    return re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, ids)) + r")(?![\w-])") if ids else None


def prose(markdown: str) -> str:
    """A markdown cell's prose: code blocks and pasted glue outputs removed, directive fence lines and their
    ``:option:`` lines removed, the bodies of directives (admonitions, exercises) kept: they are prose."""
    out, stack = [], []  # stack of (marker, keep body?)
    for line in markdown.splitlines():
        fence = FENCE_LINE.match(line)
        if fence and stack and fence.group(1) == stack[-1][0] and not fence.group(2) and line.strip() == fence.group(1):
            stack.pop()  # the closing line of the innermost block
            continue
        if fence and (not stack or stack[-1][1]):
            directive = fence.group(3)
            keep = directive is not None and not directive.startswith("glue")  # code and glue: not prose
            stack.append((fence.group(1), keep))
            continue
        if stack and not stack[-1][1]:
            continue
        if stack and re.match(r"^\s*:[\w-]+:", line):
            continue  # a directive's option
        out.append(line)
    return GLUE_ROLE.sub("", "\n".join(out))


def text_checks(text: str, where: str, claim_ids: Iterable[str] = ()) -> list[str]:
    """Checks that hold for any text a reader sees (markdown prose, rendered page text, a text output)."""
    out = []
    for rule, pattern in (("build history", HISTORY), ('"± 0.00"', ZERO_ERROR), ("%g decimal", LONG_SCI),
                          ("empty table", EMPTY_TABLE)):
        m = pattern.search(text)
        if m:
            out.append(f"{where}: {rule}: {text[max(0, m.start() - 30):m.end() + 30]!r}")
    ids = _words(claim_ids)
    m = ids.search(text) if ids else None
    if m:
        out.append(f"{where}: claim id {m.group(1)!r} shown to the reader")
    return out


def notebook_residue(nb, config_names: Iterable[str] = (), claim_ids: Iterable[str] = ()) -> list[str]:
    """Residue in an executed notebook (nbformat node): markdown prose and rendered outputs."""
    names = _words(config_names)
    out = []
    for i, cell in enumerate(nb.cells):
        where = f"cell {i}"
        if cell.cell_type == "markdown":
            text = prose(cell.source)
            out += text_checks(text, where, claim_ids)
            for code in INLINE_CODE.findall(text):
                if names and names.fullmatch(code.strip()):
                    out.append(f"{where}: configuration name `{code}` in prose (paste its value with glue)")
            continue
        if cell.cell_type != "code":
            continue
        for o in cell.get("outputs", []):
            if o.get("output_type") == "stream":
                out.append(f"{where}: printed {o.get('name')} line {o.get('text', '')[:60]!r}")
            data = o.get("data", {})
            if "text/html" in data:
                out += html_residue(data["text/html"], f"{where} output", claim_ids)
    return out


def visible_text(page: str) -> str:
    """The text a reader sees in an HTML page or fragment: scripts, styles, code blocks, math spans and tags removed."""
    page = re.sub(r"<(script|style|pre|code|textarea)\b.*?</\1>", " ", page, flags=re.S | re.I)
    page = re.sub(r'<span class="math[^"]*">.*?</span>', " ", page, flags=re.S)
    page = re.sub(r'<div class="math[^"]*">.*?</div>', " ", page, flags=re.S)
    page = re.sub(r"<[^>]+>", " ", page)
    return _html.unescape(page)


def html_residue(page: str, where: str, claim_ids: Iterable[str] = ()) -> list[str]:
    """Residue in rendered HTML: the text checks, raw ``$...$`` outside math, and empty tables."""
    out = []
    if re.search(r"<tbody>\s*</tbody>", page):
        out.append(f"{where}: empty table")
    text = visible_text(page)
    out += [p for p in text_checks(text, where, claim_ids) if "empty table" not in p or "none in" in p]
    m = RAW_MATH.search(text)
    if m:
        out.append(f"{where}: raw LaTeX {m.group(0)!r} (not rendered)")
    return out
