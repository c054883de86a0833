"""Estimators: tail index of alpha-stable noise (chapter 1) and power-law fits with tests (chapter 4)."""
from __future__ import annotations

from .powerlaw import PowerLawResult, bootstrap_pvalue, fit_power_law, likelihood_ratio
from .tail import TailIndexResult, tail_index

__all__ = ["tail_index", "TailIndexResult", "fit_power_law", "PowerLawResult", "bootstrap_pvalue",
           "likelihood_ratio"]
