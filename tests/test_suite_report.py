"""The lines ``make test`` ends with (tests/conftest.py, issue 20 §4): per optional part, what ran and why the rest
was skipped."""
from conftest import OPTIONAL_PARTS, optional_parts_lines


def test_optional_parts_lines_say_what_ran_and_why_the_rest_skipped():
    outcomes = {
        "tests/test_browser.py::a": ({"browser"}, "skipped", "Debian's chromium is not installed"),
        "tests/test_browser.py::b": ({"browser"}, "skipped", "Debian's chromium is not installed"),
        "tests/test_slurm.py::c": ({"slurm"}, "skipped", "not root"),
        "tests/test_chapters.py::d": ({"chapters"}, "passed", ""),
        "tests/test_chapters.py::e": ({"chapters", "book"}, "failed", ""),
    }
    lines = dict(zip(OPTIONAL_PARTS, optional_parts_lines(outcomes)))
    assert len(lines) == len(OPTIONAL_PARTS) and 3 <= len(lines) <= 6
    assert lines["browser"].endswith("2 skipped — skipped because: Debian's chromium is not installed")
    assert lines["slurm"].endswith("1 skipped — skipped because: not root")
    assert lines["chapters"].endswith(": 1 passed, 1 failed") and lines["book"].endswith(": 1 failed")
    assert lines["paper_paths"].endswith("not run (none selected)")
