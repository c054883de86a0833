"""Issue 27's presentation helpers: powers of two as 2^k in controls, never "± 0.00", tables that render math,
label their cells for phone cards and vanish when empty, figures with alt text, caption and a full-size link, and
the staged book's hidden machinery cells."""
import nbformat
import pytest

from paper_repro.core.verdicts import pm
from paper_repro.present import display, pages, plotting, widgets


@pytest.mark.parametrize("value, label", [(2.0 ** -14, "2⁻¹⁴"), (2.0 ** -4, "2⁻⁴"), (1024.0, "2¹⁰"),
                                          (0.5, "0.5"), (0.25, "0.25"), (3.0, "3"), (1e-3, "0.001")])
def test_control_labels_show_powers_of_two(value, label):
    assert widgets._label(value) == label


@pytest.mark.parametrize("value, err", [(1.0923, 1e-4), (0.5, 3e-7), (12.0, 0.004)])
def test_pm_never_prints_a_zero_error(value, err):
    text = pm(value, err)
    shown = float(text.split("±")[1])
    assert shown > 0 and abs(shown - 1.96 * err) <= 0.06 * 1.96 * err, text


def test_table_renders_math_labels_cells_and_skips_empty():
    assert display.table_html([]) == ""
    html = display.table_html([{"$K_1$": 1.5, "rule": "$d_{ks} < d_c$"}])
    assert '<span class="math notranslate nohighlight">\\(K_1\\)</span>' in html
    assert '<td data-label="$K_1$">' in html and "$d_{ks}" not in html.split("data-label")[-1].split(">", 1)[1]


def test_figure_html_has_alt_caption_and_full_size_link():
    html = plotting.figure_html(b"png", "tail_index", "fig1", "Tail index against width.", 7.0)
    assert 'alt="Tail index against width."' in html and "<figcaption>Tail index against width.</figcaption>" in html
    assert 'href="../figures/tail_index/fig1.png"' in html and "width: min(100%, 700px)" in html
    assert 'alt="fig1"' in plotting.figure_html(b"png", "ch", "fig1", "", 7.0)  # no caption: the name


def test_hide_machinery_and_copy_figures(tmp_path):
    nb = nbformat.v4.new_notebook()
    install = nbformat.v4.new_code_cell('import importlib.util\nif importlib.util.find_spec("paper_repro") is None: pass')
    params = nbformat.v4.new_code_cell("profile = 'quick'")
    params.metadata["tags"] = ["parameters"]
    injected = nbformat.v4.new_code_cell("profile = 'smoke'")
    injected.metadata["tags"] = ["injected-parameters"]
    shown = nbformat.v4.new_code_cell("save_figure(fig, CH, 'f')")
    nb.cells = [nbformat.v4.new_markdown_cell("# T"), install, params, injected, shown]
    path = tmp_path / "ch.ipynb"
    nbformat.write(nb, path)
    assert pages.hide_machinery(path) == 3
    tags = [c.metadata.get("tags", []) for c in nbformat.read(path, as_version=4).cells]
    assert ["remove-cell" in t for t in tags] == [False, True, True, True, False]
    assert tags[-1] == ["hide-input"]  # the rest folds its source behind a toggle
    (tmp_path / "res" / "figures").mkdir(parents=True)
    (tmp_path / "res" / "figures" / "f.png").write_bytes(b"x")
    (tmp_path / "res" / "figures" / "f.pdf").write_bytes(b"x")
    copied = pages.copy_figures(tmp_path / "res", "ch", tmp_path / "_extra")
    assert [p.relative_to(tmp_path).as_posix() for p in copied] == ["_extra/figures/ch/f.png"]


def test_fit_page_narrows_a_wide_figure_and_keeps_text_size():
    """A legend outside the axes makes the saved figure wider than the page, which would shrink its text:
    fit_page narrows the axes instead, and the text keeps its size in points."""
    import matplotlib.pyplot as plt

    fig, axes = plotting.subplots(1, 2, width=3.7)
    for ax in axes:
        ax.plot([1, 2], label="a long legend label here")
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1))
    assert plotting.saved_width(fig) > 1.05 * plotting.PAGE_WIDTH
    assert plotting.fit_page(fig) <= 1.005 * plotting.PAGE_WIDTH
    assert plotting.smallest_font_pt(fig) >= plotting.MIN_FONT_PT
    plt.close(fig)
