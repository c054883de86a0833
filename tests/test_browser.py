"""The built book in headless Chromium: pages load without console errors or outside requests, images load, math
is typeset by the book's own MathJax, explore controls work without a kernel (a slider changes the figure)."""
import functools
import http.server
import shutil
import threading
from pathlib import Path

import pytest

from paper_repro import runner
from paper_repro.results import REPO_ROOT

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
CHAPTERS = [c.name for c in runner.chapters(REPO_ROOT)]


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
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", server


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
    """Press ArrowRight on the first explorer slider; return the visible frame before and after."""
    explorer = page.locator(".paper-repro-explorer").first
    explorer.wait_for(state="visible", timeout=20000)
    before = explorer.evaluate(VISIBLE_FRAME)
    handle = explorer.locator(".noUi-handle").first
    handle.focus()
    handle.press("ArrowRight")
    page.wait_for_timeout(500)
    return before, explorer.evaluate(VISIBLE_FRAME)


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


def test_demo_book_in_browser(browser, tmp_path):
    from test_foundation_pipeline import write_demo_book

    root = write_demo_book(tmp_path / "demo")
    (chapter,) = runner.chapters(root)
    runner.run_chapter(chapter, "smoke", "cpu", out=tmp_path / "out", progress=False)
    html = runner.build_book(root, out=tmp_path / "out", strict=True, dest=tmp_path / "site")
    check_site(browser, html, ["demo"])


def test_smoke_book_in_browser(browser, smoke_site):
    check_site(browser, smoke_site, CHAPTERS)
