"""Chapter 3: Mori, Ziyin, Liu & Ueda (ICML 2022), power-law escape rate of SGD.

Modules: config (settings, presets, tiny shapes), decoupling (Fig. 1), noise_strength (Fig. 2), linear_sgd and run
(linear regression, Fig. 3), mfpt (exact finite-c first-passage times of the SDEs, Eq. 19), rules and controls
(verdict rules and their positive / negative controls), figures and figures_escape, claims (scorecard), reading
(values the prose quotes), plan (costs).
"""
from .config import CHAPTER, PRESETS, EscapeRateConfig, datasets, make_config, paper_paths, shrink
from .plan import plan

__all__ = ["CHAPTER", "PRESETS", "EscapeRateConfig", "datasets", "make_config", "paper_paths", "plan", "shrink"]
