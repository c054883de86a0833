"""The built book in headless Chromium: pages load without console errors or outside requests, images load, math
is typeset by the book's own MathJax, explore controls work without a kernel (a slider changes the figure).

As a reader meets it (issue 16): the scorecard's verdicts visible at 1280 px without scrolling, slider tracks at
least 200 px wide and frames at least 560 px on a desktop, no page wider than a 390 px phone, every control of every
explorer changes the figure, and the whole book still works served under a sub-path (/<repo-name>/, as GitHub
Pages serves it): every page, image, script, stylesheet, download and in-page anchor resolves."""
import functools
import http.server
import os
import shutil
import threading
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from paper_repro.core.results import REPO_ROOT
from paper_repro.pipeline import chapters

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CHAPTERS = [c.name for c in chapters.chapters(REPO_ROOT)]


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield b
        b.close()


def serve(folder: Path):
    """Serve ``folder`` on a free localhost port in a background thread; returns (base_url, server)."""
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = QuietServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", server


class QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):  # the browser cancelled a request (broken pipe): not an error
        import sys

        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        if self.path == "/favicon.ico":  # the book has no favicon; Chromium asks for one on every page
            self.send_response(204)
            self.end_headers()
            return
        super().do_GET()


def open_page(browser, url):
    """Load ``url``; return the page and the console errors / failed requests it produced."""
    page = browser.new_page()
    errors = []
    page.on("console", lambda m: errors.append(f"console: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
    page.on("requestfailed", lambda r: errors.append(f"request failed: {r.url}"))
    page.on("response", lambda r: errors.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None)
    page.goto(url, wait_until="networkidle")
    page.wait_for_timeout(300)
    return page, errors


BROKEN_IMAGES = "() => Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"
MATHJAX_SRC = "() => Array.from(document.scripts).map(s => s.src).filter(s => s.includes('tex-mml')).join(' ')"
VISIBLE_FRAME = """(el) => { const imgs = Array.from(el.querySelectorAll('img')).filter(i => i.offsetParent !== null);
                            return imgs.map(i => i.src).join(' '); }"""


def move_first_slider(page):
    """Change the first control of the first explorer (slider, toggle buttons or dropdown); return the visible
    frame before and after."""
    explorer = page.locator(".paper-repro-explorer").first
    explorer.wait_for(state="visible", timeout=20000)
    kinds = explorer.evaluate(CONTROLS)
    i = next(i for i, k in enumerate(kinds) if k != "fixed")
    return change_control(page, explorer, i, kinds[i])


def check_site(browser, html: Path, chapters: list[str]):
    base, server = serve(html)
    try:
        pages = sorted(p.relative_to(html).as_posix() for p in (html / "book").glob("*.html"))
        assert pages, "no pages built"
        for rel in ["index.html", *[f"book/{Path(p).name}" for p in pages]]:
            page, errors = open_page(browser, f"{base}/{rel}")
            assert not errors, f"{rel}: {errors}"
            assert not page.evaluate(BROKEN_IMAGES), f"{rel}: images that did not load"
            page.close()
        for name in chapters:
            page, errors = open_page(browser, f"{base}/book/{name}.html")
            if page.locator(".math").count():  # MathJax typesets the page's math (every real chapter has some)
                page.wait_for_function("() => document.querySelector('mjx-container') !== null", timeout=20000)
                assert f"{base}/mathjax/es5/" in page.evaluate(MATHJAX_SRC), f"{name}: MathJax not from the book"
            else:
                assert name == "demo", f"{name}: no math on the page?"
            before, after = move_first_slider(page)
            assert before and after and before != after, f"{name}: moving the slider did not change the figure"
            assert not errors, f"{name}: {errors}"
            page.close()
    finally:
        server.shutdown()


DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
MIN_TRACK_PX = 200  # a slider's track on a desktop
MIN_FRAME_PX = 560  # a precomputed frame on a desktop
OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
WIDE_ELEMENTS = """() => Array.from(document.querySelectorAll('body *')).filter(e => {
    const r = e.getBoundingClientRect(); if (r.width === 0 || r.right <= window.innerWidth + 1) return false;
    for (let a = e.parentElement; a; a = a.parentElement) {            // inside a scroll container: fine
      const s = getComputedStyle(a); if (s.overflowX === 'auto' || s.overflowX === 'scroll' || s.overflowX === 'hidden') return false; }
    return true; }).slice(0, 5).map(e => e.tagName + '.' + (e.className || '').toString().slice(0, 60) + ' ' +
    Math.round(e.getBoundingClientRect().right))"""
CONTROLS = """(el) => Array.from(el.querySelectorAll('.paper-repro-controls > *')).map(c =>
    c.querySelectorAll('button, option').length === 1 ? 'fixed' :  // one value: shown, nothing to change
    c.classList.contains('widget-slider') ? 'slider' : c.classList.contains('widget-toggle-buttons') ? 'toggle' :
    c.classList.contains('widget-dropdown') ? 'dropdown' : 'other')"""
TRACKS = """(el) => Array.from(el.querySelectorAll('.paper-repro-controls .widget-slider .noUi-target'))
    .map(t => Math.round(t.getBoundingClientRect().width))"""
FRAME_WIDTHS = """(el) => Array.from(el.querySelectorAll('img')).filter(i => i.offsetParent !== null)
    .map(i => Math.round(i.getBoundingClientRect().width))"""


def new_page(browser, viewport):
    return browser.new_page(viewport=viewport)


def goto(page, url):
    page.goto(url, wait_until="networkidle")
    page.wait_for_timeout(300)


def change_control(page, explorer, i: int, kind: str):
    """Change the i-th control of an explorer the way a reader would; returns the visible frame before and after."""
    before = explorer.evaluate(VISIBLE_FRAME)
    ctrl = explorer.locator(".paper-repro-controls > *").nth(i)
    if kind == "slider":
        handle = ctrl.locator(".noUi-handle").first
        handle.focus()
        handle.press("End")
    elif kind == "toggle":
        ctrl.locator("button:not(.mod-active)").first.click()
    elif kind == "dropdown":
        select = ctrl.locator("select")
        options = select.locator("option").all_inner_texts()
        select.select_option(label=options[-1])
    page.wait_for_timeout(400)
    return before, explorer.evaluate(VISIBLE_FRAME)


def check_explorers(page, name):
    """Every control of every explorer on a desktop page: readable width, and it changes the figure."""
    explorers = page.locator(".paper-repro-explorer")
    for k in range(explorers.count()):
        ex = explorers.nth(k)
        ex.scroll_into_view_if_needed()
        ex.wait_for(state="visible", timeout=20000)
        tracks = ex.evaluate(TRACKS)
        assert all(w >= MIN_TRACK_PX for w in tracks), f"{name} explorer {k}: slider tracks {tracks} px"
        frames = ex.evaluate(FRAME_WIDTHS)
        assert frames and min(frames) >= MIN_FRAME_PX, f"{name} explorer {k}: frame widths {frames} px"
        kinds = ex.evaluate(CONTROLS)
        assert "other" not in kinds, f"{name} explorer {k}: unknown control kinds {kinds}"
        for i, kind in enumerate(kinds):
            if kind == "fixed":
                continue
            before, after = change_control(page, ex, i, kind)
            assert before and after and before != after, f"{name} explorer {k}: control {i} ({kind}) changed nothing"


def check_first_screen(page, name: str, viewport: dict):
    """Issue 27: a chapter opens with its verdicts: the verdict box starts on the first screen."""
    box = page.locator(".pr-verdict-box")
    assert box.count() == 1, f"{name}: {box.count()} verdict boxes"
    top = box.bounding_box()["y"]
    assert top < viewport["height"], f"{name}: the verdicts start at {top:.0f} px, below the first screen"


def check_reader_layout(browser, html: Path, chapters: list[str]):
    """Issue 16 as a reader meets the book: desktop 1280x900 and phone 390x844."""
    base, server = serve(html)
    try:
        pages = ["index.html", *sorted(f"book/{p.name}" for p in (html / "book").glob("*.html"))]
        desk = new_page(browser, DESKTOP)
        goto(desk, f"{base}/book/scorecard.html")
        verdicts = desk.locator(".pr-scorecard td.pr-verdict")
        assert verdicts.count() or desk.locator(".pr-scorecard").count(), "scorecard: no tables"
        rights = desk.evaluate("() => Array.from(document.querySelectorAll('.pr-scorecard th, .pr-scorecard td'))"
                               ".map(c => c.getBoundingClientRect().right)")
        assert rights and max(rights) <= DESKTOP["width"], f"scorecard: cells end at {max(rights):.0f} px > 1280"
        assert desk.evaluate(OVERFLOW) <= 0, "scorecard: horizontal scrolling at 1280 px"
        assert desk.locator(".pr-scorecard td.pr-verdict mjx-container, .pr-scorecard mjx-container").count() or \
            not desk.locator(".pr-scorecard .math").count(), "scorecard: math not typeset"
        goto(desk, f"{base}/book/intro.html")
        assert desk.locator(".pr-tally").count() == 1, "index: no tally table"
        top = desk.locator(".pr-findings").bounding_box()["y"]  # issue 27: one finding per paper, first
        assert top < DESKTOP["height"], f"index: the findings start at {top:.0f} px, below the first screen"
        for name in chapters:
            goto(desk, f"{base}/book/{name}.html")
            check_first_screen(desk, name, DESKTOP)
            check_explorers(desk, name)
        desk.close()
        phone = new_page(browser, PHONE)
        for rel in pages:
            goto(phone, f"{base}/{rel}")
            over = phone.evaluate(OVERFLOW)
            assert over <= 0, f"{rel}: {over} px wider than a 390 px phone: {phone.evaluate(WIDE_ELEMENTS)}"
            tracks = phone.evaluate("() => Array.from(document.querySelectorAll("
                                    "'.paper-repro-controls .widget-slider .noUi-target')).filter(t => t.offsetParent !== null)"
                                    ".map(t => Math.round(t.getBoundingClientRect().width))")
            assert all(w >= 120 for w in tracks), f"{rel}: slider tracks {tracks} px on a phone"
            if rel.startswith("book/") and rel[5:-5] in chapters:
                check_first_screen(phone, rel[5:-5], PHONE)
        phone.close()
    finally:
        server.shutdown()


LINKS = """() => {
  const out = [];
  for (const a of document.querySelectorAll('a[href]')) out.push(a.href);
  for (const i of document.querySelectorAll('img[src]')) out.push(i.src);
  for (const s of document.querySelectorAll('script[src]')) out.push(s.src);
  for (const l of document.querySelectorAll('link[rel=stylesheet][href]')) out.push(l.href);
  return out; }"""


def check_subpath(browser, html: Path, prefix: str):
    """Serve the book under ``/<prefix>/`` (as GitHub Pages does) and resolve every local link, image, script,
    stylesheet and download of every page, and every in-page anchor (e.g. the scorecard's figure links)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        os.symlink(html.resolve(), Path(tmp) / prefix)
        base, server = serve(Path(tmp))
        root = f"{base}/{prefix}/"
        try:
            pages = ["index.html", *sorted(f"book/{p.name}" for p in (html / "book").glob("*.html"))]
            bodies, anchors, bad = {}, [], []
            for rel in pages:
                page, errors = open_page(browser, root + rel)
                assert not errors, f"/{prefix}/{rel}: {errors}"
                for url in page.evaluate(LINKS):
                    if not url.startswith(base):  # outside links are not fetched; launch links must name a
                        launched = launch_target(url)  # notebook that the published gh-pages branch will hold
                        if launched is not None and not (html / launched).is_file():
                            bad.append(f"{rel}: launch link {url}: {launched} is not in the built book")
                        continue
                    target, _, frag = url.partition("#")
                    if not target.startswith(root):
                        bad.append(f"{rel}: {url} leaves /{prefix}/")
                        continue
                    if frag and target.endswith(".html") and target != root + rel:
                        anchors.append((rel, target, urllib.parse.unquote(frag)))
                    if target in bodies:
                        continue
                    try:
                        with urllib.request.urlopen(target, timeout=10) as resp:
                            bodies[target] = resp.read() if target.endswith(".html") else b""
                    except urllib.error.URLError as exc:
                        bodies[target] = b""
                        bad.append(f"{rel}: {url}: {exc}")
                page.close()
            for rel, target, frag in sorted(set(anchors)):  # links into another page land on an existing id
                if f'id="{frag}"'.encode() not in bodies.get(target, b""):
                    bad.append(f"{rel}: {target}#{frag}: no element with this id")
            assert not bad, f"{len(bad)} broken link(s) under /{prefix}/:\n" + "\n".join(bad[:30])
        finally:
            server.shutdown()


def launch_target(url: str) -> str | None:
    """The file (relative to the published branch's root) that a Colab or Binder launch link opens, else None."""
    from paper_repro.present.site import PAGES_BRANCH

    if url.startswith("https://colab.research.google.com/github/") and f"/blob/{PAGES_BRANCH}/" in url:
        return url.split(f"/blob/{PAGES_BRANCH}/", 1)[1].split("#")[0]
    if url.startswith("https://mybinder.org/v2/gh/") and "urlpath=tree/" in url:
        return urllib.parse.unquote(url.split("urlpath=tree/", 1)[1].split("&")[0])
    return None


def repo_name() -> str:
    from paper_repro.present import site

    return (site.github_slug(site.repository_url()) or "paper_repro/paper_repro").split("/")[-1]


def visible(locator) -> list[int]:
    return [i for i in range(locator.count()) if locator.nth(i).is_visible()]


def check_navigation(browser, html: Path, page_rel: str, *, contents: bool):
    """Issue 27: on a 390 px touch phone the hamburger opens the book's navigation and a tap on another page's link
    goes there; the page-contents button (when the page has sections) opens the page's contents; on a desktop the
    same hamburger hides the sidebar. (pydata-sphinx-theme 0.17.1 + sphinx-book-theme 1.3.0: both do nothing.)"""
    base, server = serve(html)
    try:
        ctx = browser.new_context(viewport=PHONE, has_touch=True, is_mobile=True)
        page = ctx.new_page()
        goto(page, f"{base}/{page_rel}")
        links = page.locator("nav.bd-docs-nav a.reference.internal")
        assert not visible(links), f"{page_rel}: the navigation is open before the tap on a phone"
        burger = page.locator("button.primary-toggle")
        assert visible(burger), f"{page_rel}: no visible hamburger on a phone"
        burger.nth(visible(burger)[0]).tap()
        page.wait_for_timeout(500)
        shown = [i for i in visible(links) if not links.nth(i).get_attribute("href").startswith("#")]
        assert shown, (f"{page_rel}: tapping the hamburger on a phone showed no navigation "
                       f"({links.count()} links, burgers {visible(burger)} of {burger.count()})")
        target = links.nth(shown[-1])
        href = urllib.parse.urljoin(page.url, target.get_attribute("href")).split("#")[0]
        with page.expect_navigation(timeout=10000):
            target.tap()
        assert page.url.split("#")[0] == href, f"{page_rel}: tapping a navigation link went to {page.url}, not {href}"
        if contents:
            goto(page, f"{base}/{page_rel}")
            toc = page.locator("button.secondary-toggle")
            assert visible(toc), f"{page_rel}: no page-contents button on a phone"
            toc.nth(visible(toc)[0]).tap()
            page.wait_for_timeout(500)
            entries = page.locator(".bd-sidebar-secondary a.nav-link")
            assert visible(entries), f"{page_rel}: tapping the page-contents button showed no contents"
        ctx.close()
        desk = new_page(browser, DESKTOP)
        goto(desk, f"{base}/{page_rel}")
        sidebar = desk.locator("#pst-primary-sidebar")
        assert sidebar.is_visible(), f"{page_rel}: no sidebar at 1280 px"
        desk.locator("button.primary-toggle").first.click()
        desk.wait_for_timeout(500)
        assert not sidebar.is_visible(), f"{page_rel}: the desktop sidebar toggle did nothing"
        desk.close()
    finally:
        server.shutdown()


def test_demo_book_navigation_on_a_phone(browser, demo_site):
    check_navigation(browser, demo_site.html, "book/demo.html", contents=False)


def test_smoke_book_navigation_on_a_phone(browser, smoke_site):
    check_navigation(browser, smoke_site, f"book/{CHAPTERS[0]}.html", contents=True)


def test_demo_book_in_browser(browser, demo_site):
    check_site(browser, demo_site.html, ["demo"])  # the demo book, run and built once (conftest.py)


def test_smoke_book_in_browser(browser, smoke_site):
    check_site(browser, smoke_site, CHAPTERS)


def test_smoke_book_as_a_reader_meets_it(browser, smoke_site):
    check_reader_layout(browser, smoke_site, CHAPTERS)


def test_smoke_book_under_a_sub_path(browser, smoke_site):
    check_subpath(browser, smoke_site, repo_name())
