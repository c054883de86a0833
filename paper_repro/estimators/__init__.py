"""Estimators: tail index of alpha-stable noise (chapter 1) and power-law fits with tests (chapter 4)."""
from __future__ import annotations

try:  # each chapter's estimators land in their own module
    from .tail import TailIndexResult, tail_index
except ImportError:  # pragma: no cover - during development
    pass
try:
    from .powerlaw import PowerLawResult, bootstrap_pvalue, fit_power_law, likelihood_ratio
except ImportError:  # pragma: no cover - during development
    pass

__all__ = ["tail_index", "TailIndexResult", "fit_power_law", "PowerLawResult", "bootstrap_pvalue",
           "likelihood_ratio"]
