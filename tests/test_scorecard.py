"""The scorecard page and the index's tally (issue 16 §1): one table per chapter, verdict first, claims in rendered
math, the paper's value with its source, rows linked to their figure, beyond-the-paper rows apart and never tallied."""
from __future__ import annotations

import dataclasses
import re

import pytest

from paper_repro.core.results import Claim, load_claims, save_claims
from paper_repro.core.verdicts import interval_verdict
from paper_repro.present import site


def claim(id, verdict="reproduced", beyond=False, **kw):
    base = dict(id=id, statement=r"$\hat\alpha < 2$ on MNIST", paper_value="1.2", ours="1.25 ± 0.05",
                verdict=verdict, dataset="mnist", profile="quick", detail="pooled over layers",
                source="Sec. 4, Fig. 3", beyond=beyond, figure="fig2_alpha")
    return dataclasses.asdict(Claim(**{**base, **kw}))


CHAPTERS = [("tail_index", "The tail index of SGD noise"), ("escape_rate", "Power-law escape")]
CLAIMS = {"tail_index": [claim("a"), claim("b", "inconclusive"), claim("c", "not reproduced", source=""),
                         claim("d", "reproduced", beyond=True, statement="Beyond: $T_c$ scales", figure="")]}


def tables(md: str) -> list[str]:
    return re.findall(r"<table>.*?</table>", md, flags=re.S)


def test_one_table_per_chapter_verdict_first():
    md = site.scorecard_markdown(CLAIMS, CHAPTERS)
    assert "## {doc}`Tail index (Şimşekli et al. 2019) <tail_index>`" in md  # short name, linked to the chapter
    assert "## {doc}`Power-law escape (Mori et al. 2022) <escape_rate>`" in md
    tally, paper, beyond = tables(md)  # the tally, tail_index's paper claims, its beyond-the-paper rows
    header = re.findall(r"<th>(.*?)</th>", paper)
    assert header[0] == "verdict" and header[1] == "claim" and "source" in header[2] and header[3] == "ours"
    assert paper.count("<tr id=") == 3 and beyond.count("<tr id=") == 1
    first_cells = [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<tr id=[^>]*><td[^>]*>(.*?)</td>", paper)]
    assert first_cells == ["reproduced", "inconclusive", "not reproduced"]
    assert "Not run" in md.split("escape_rate>`", 1)[1]  # a chapter without claims says so
    assert "tail_index" not in md.split("escape_rate>`", 1)[1]


def test_claims_render_math_sources_and_figure_links():
    md = site.scorecard_markdown(CLAIMS, CHAPTERS)
    assert r'<span class="math notranslate nohighlight">\(\hat\alpha &lt; 2\)</span> on MNIST' in md
    assert "$" not in "".join(tables(md))  # every $...$ became MathJax markup
    assert "Sec. 4, Fig. 3" in md and "source missing" in md  # the row without a source is flagged, not hidden
    href = f'href="tail_index.html#{site.figure_anchor("tail_index", "fig2_alpha")}"'
    assert md.count(href) == 3  # the three paper rows link to their figure; the beyond row has none
    assert "1.25 ± 0.05" in md and "mnist" in md


def test_tally_counts_paper_claims_only():
    counts = site.tally(CLAIMS["tail_index"])
    assert counts == {"reproduced": 1, "partly": 0, "not reproduced": 1, "inconclusive": 1, "not run": 0}
    html = site.tally_markdown(CLAIMS, CHAPTERS)
    row = re.search(r'<tr><td data-label="chapter"><a href="tail_index.html">.*?</tr>', html).group(0)
    assert re.findall(r'<td class="pr-count" data-label="(?:reproduced|partly|not reproduced|inconclusive)">(\d+)</td>',
                      row) == \
        ["1", "0", "1", "1"]
    assert "quick" in row  # the profile the verdicts come from
    assert re.search(r'href="escape_rate.html">.*?not run', html)
    total = re.search(r'<tr class="pr-total">.*?</tr>', html).group(0)
    assert re.findall(r"<b>(\d+)</b>", total) == ["1", "0", "1", "1"]


def test_scorecard_is_valid_for_the_saved_claims(tmp_path, monkeypatch):
    monkeypatch.setenv("PAPER_REPRO_OUTPUT", str(tmp_path))
    save_claims("tail_index", [Claim(**{k: v for k, v in claim("a").items()})])
    loaded = load_claims(tmp_path)
    assert site.tally(loaded["tail_index"])["reproduced"] == 1


@pytest.mark.parametrize("estimate, stderr, target, alternatives, expected", [
    (1.5, 0.1, 1.5, (1.0,), "reproduced"),
    (1.5, 0.72, 1.5, (1.0,), "inconclusive"),  # "T_opt ∝ α^k: 1.50 ± 1.44" contains the alternative
    (2.5, 0.1, 1.5, (1.0,), "not reproduced"),
    (1.0, 0.1, 1.5, (1.0,), "not reproduced"),  # the interval holds the alternative, not the target
    (float("nan"), 0.1, 1.5, (), "inconclusive"),
])
def test_interval_verdict(estimate, stderr, target, alternatives, expected):
    assert interval_verdict(estimate, stderr, target, alternatives) == expected


@pytest.mark.book
def test_saved_chapter_claims_have_sources(smoke_site, smoke_output):
    """Every claim every chapter saved in its smoke run names its source and a valid verdict."""
    from paper_repro.pipeline import chapters, staging

    claims = load_claims(staging.results_root(smoke_output, "smoke"))
    assert set(claims) == {ch.name for ch in chapters.chapters()}, "a chapter saved no claims"
    missing = [f"{ch}:{c['id']}" for ch, rows in claims.items() for c in rows if not c.get("source")]
    assert not missing, f"claims without a source: {missing}"


def test_index_tally_comes_from_the_staged_scorecard(tmp_path):
    """The index's ``<!-- tally -->`` becomes the scorecard page's tally table (same claims, same links)."""
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "scorecard.md").write_text("# Scorecard\n\n" + site.scorecard_markdown(CLAIMS, CHAPTERS))

    class App:
        srcdir = str(tmp_path)

    source = ["# Title\n\n<!-- tally -->\n\nmore"]
    site._fill_tally(App(), "book/intro", source)
    assert source[0].startswith("# Title\n\n" + site.tally_markdown(CLAIMS, CHAPTERS)) and "more" in source[0]
    other = ["no marker here"]
    site._fill_tally(App(), "book/running", other)
    assert other == ["no marker here"]
