"""Shared test fixtures: every test writes its outputs under a temporary folder."""
import os

import pytest
import torch


@pytest.fixture(autouse=True)
def _isolated_outputs(tmp_path, monkeypatch):
    """Chapter outputs of unit tests go to a temporary folder, and torch uses one thread (fast, repeatable)."""
    if "PAPER_REPRO_TEST_KEEP_OUTPUT" not in os.environ:
        monkeypatch.setenv("PAPER_REPRO_OUTPUT", str(tmp_path / "artifacts"))
    torch.manual_seed(0)
    yield
