"""The papermill pipeline, CLI and config validation on a tiny demo book written by the test."""
import dataclasses
import textwrap

import nbformat
import papermill
import pytest

from paper_repro.core import config
from paper_repro.core.config import ConfigError
from paper_repro.pipeline import build, chapters, cli, execute, staging

DEMO = textwrap.dedent('''\
    # ---
    # jupyter:
    #   kernelspec:
    #     display_name: Python 3
    #     language: python
    #     name: python3
    # ---

    # %% [markdown]
    # # Demo chapter

    # %% tags=["parameters"]
    profile: str = "quick"  # smoke | quick | paper
    device: str = "auto"  # auto | cpu | cuda
    lr: float = 0.1  # learning rate (> 0)
    crash: bool = False  # kill the kernel in the second cell (tests of interrupted runs)
    note: "Optional[str]" = None  # free text stored with the result (None: none)

    # %%
    import os
    from paper_repro.core.config import check_choice, check_positive, resolve_device
    from paper_repro.core.results import save_json
    check_choice("profile", profile, ("smoke", "quick", "paper"))
    check_positive("lr", lr)
    save_json("demo", "result", {"lr": lr, "profile": profile, "note": note})
    if crash:
        os.kill(os.getpid(), 9)
    dev = resolve_device(device)
    import matplotlib.pyplot as plt
    from paper_repro.present.plotting import save_figure
    fig, ax = plt.subplots()
    ax.plot([0, 1], [0, lr])
    save_figure(fig, "demo", "line")
    print(f"lr = {lr} on {dev}")

    # %%
    from paper_repro.present.widgets import explorer
    def render(slope):
        fig, ax = plt.subplots(figsize=(3, 2))
        ax.plot([0, 1], [0, slope])
        ax.set_title(f"slope {slope}")
        return fig
    explorer(render, {"slope": [1, 2, 3]}, live_controls={"slope": (0.0, 5.0)})

    # %%
    import numpy as np
    from paper_repro.core.results import glue
    glue(doubled_lr=np.float64(2 * lr), verdict="partly")

    # %% [markdown]
    # Twice the rate is {glue:text}`doubled_lr:.3f`; verdict {glue:text}`verdict`.
''')


def write_demo_book(tmp_path):
    """A one-chapter book (with a kernel-free explorer) in ``tmp_path``."""
    (tmp_path / "book").mkdir(parents=True)
    (tmp_path / "book" / "demo.py").write_text(DEMO)
    (tmp_path / "book" / "intro.md").write_text("# Intro\n\nA demo book.\n")
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/intro\nchapters:\n  - file: book/demo\n")
    (tmp_path / "_config.yml").write_text(
        "title: demo\nonly_build_toc_files: true\nexecute:\n  execute_notebooks: 'off'\n"
        "sphinx:\n  config:\n    nb_custom_formats:\n      .py:\n        - jupytext.reads\n        - fmt: py:percent\n")
    return tmp_path


@pytest.fixture
def demo_root(tmp_path):
    return write_demo_book(tmp_path)


def test_parameters_are_listed_with_meaning(demo_root):
    (chapter,) = chapters.chapters(demo_root)
    params = {p.name: p for p in chapter.parameters()}
    assert chapter.title == "Demo chapter"
    assert params["lr"].default == 0.1 and params["lr"].help == "learning rate (> 0)" and params["lr"].type == "float"
    assert params["profile"].help == "smoke | quick | paper"
    assert params["note"].default is None and params["note"].type == "Optional[str]"
    old_style = chapters.parse_parameters('# %% tags=["parameters"]\nsteps = None  # steps (None = preset)\n')
    assert old_style == [chapters.Parameter("steps", None, "steps (None = preset)", "")]


def test_run_and_strict_build(demo_site):
    # conftest.py ran the demo chapter with lr=0.5 on the CPU, then built it strictly (once per session)
    demo_root, out, nb_path, html = demo_site.root, demo_site.out, demo_site.notebook, demo_site.html
    nb = nbformat.read(nb_path, as_version=4)
    meta = nb.metadata["paper_repro"]
    assert meta["profile"] == "smoke" and meta["device"] == "cpu" and meta["seconds"] > 0
    assert "lr = 0.5 on cpu" in "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert nb_path == out / "notebooks" / "smoke" / "demo.ipynb"
    figures = staging.results_root(out, "smoke") / "demo" / "figures"
    assert (figures / "line.png").exists() and (figures / "line.pdf").exists()
    assert not (demo_root / "book" / "demo.ipynb").exists()  # executed notebooks stay out of book/
    page = (html / "book" / "demo.html").read_text()
    assert "lr = 0.5 on cpu" in page and "<img" in page
    assert "Twice the rate is <span class=\"pasted-text\">1.000</span>; verdict <span class=\"pasted-text\">partly" in page


def test_bad_parameters_fail_before_compute(demo_root, tmp_path):
    (chapter,) = chapters.chapters(demo_root)
    with pytest.raises(ConfigError, match="no parameter"):
        execute.run_chapter(chapter, "smoke", "cpu", {"lr_typo": 1}, out=tmp_path, progress=False)
    with pytest.raises(ConfigError, match="profile"):
        execute.run_chapter(chapter, "huge", "cpu", out=tmp_path, progress=False)
    with pytest.raises(execute.ChapterFailed, match="lr=-1") as failed:
        execute.run_chapter(chapter, "smoke", "cpu", {"lr": -1}, out=tmp_path, progress=False)
    assert isinstance(failed.value.__cause__, papermill.PapermillExecutionError)
    assert failed.value.notebook == tmp_path / "notebooks" / "smoke" / "demo.failed.ipynb"


def test_build_refuses_to_execute_missing_notebooks(demo_root, tmp_path):
    with pytest.raises(ConfigError, match="no executed notebook"):
        build.build_book(demo_root, out=tmp_path / "nothing", dest=tmp_path / "site")


def test_cli_errors_and_values(capsys):
    assert cli.main(["run", "no_such_chapter", "--profile", "smoke"]) == 2
    assert "unknown chapter" in capsys.readouterr().err
    assert chapters.parse_value("0.5") == 0.5 and chapters.parse_value("[1, 2]") == [1, 2]
    assert chapters.parse_value("mnist") == "mnist" and chapters.parse_value("None") is None
    assert cli.main(["list"]) == 0


@dataclasses.dataclass(frozen=True)
class Toy:
    profile: str  # smoke | quick | paper
    lr: float  # learning rate

    def __post_init__(self):
        config.check_positive("lr", self.lr)


def test_config_helpers():
    presets = {"smoke": Toy("smoke", 0.1), "quick": Toy("quick", 0.2)}
    assert config.from_profile(presets, "quick", lr=None) == Toy("quick", 0.2)
    assert config.from_profile(presets, "smoke", lr=0.3).lr == 0.3
    with pytest.raises(ConfigError, match="profile='paper'"):
        config.from_profile(presets, "paper")
    with pytest.raises(ConfigError, match="lr=-1"):
        config.from_profile(presets, "smoke", lr=-1)
    with pytest.raises(ConfigError, match="unknown parameter"):
        config.from_profile(presets, "smoke", learning_rate=1)
    with pytest.raises(ConfigError, match="device"):
        config.resolve_device("tpu")
    assert str(config.resolve_device("cpu")) == "cpu"
    with pytest.raises(ConfigError):
        config.check_range("alpha", 2.5, 0, 2)
    with pytest.raises(ConfigError, match="positive integer"):
        config.check_positive("batch_size", 2.5, integer=True)


def test_downloads_and_launch_buttons(demo_site):
    html = demo_site.html  # built with PAPER_REPRO_REPOSITORY=https://github.com/example-org/paper_repro
    page = (html / "book" / "demo.html").read_text()
    assert "mybinder.org" in page and "colab.research.google.com" in page
    assert "demo.ipynb" in page and "demo.py" in page  # download links to the executed notebook and the source
    downloads = list((html / "_downloads").rglob("demo.*"))
    assert {p.suffix for p in downloads} == {".ipynb", ".py"}
    executed = nbformat.read(next(p for p in downloads if p.suffix == ".ipynb"), as_version=4)
    code = [c for c in executed.cells if c.cell_type == "code"]
    assert code and all(c.execution_count is not None for c in code)
    assert any(c.outputs for c in code)  # the download is the executed notebook, not the bare source
