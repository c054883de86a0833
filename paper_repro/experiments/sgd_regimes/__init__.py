"""Chapter 2: Sclocchi, Geiger & Wyart (2023), SGD noise in the lazy and feature-learning regimes (released units)."""
from . import analysis, claims, effects, figures, finite_size, mnas, reading, stopping, units
from .plan import datasets, paper_paths, plan, shrink
from .run import (CHAPTER, PRESETS, SGDRegimesConfig, lazy_sweep, load_binary, make_config, mnas_phase_diagram,
                  mnas_sweep, perceptron_sweep, phase_diagram, with_overrides)

__all__ = ["CHAPTER", "PRESETS", "SGDRegimesConfig", "analysis", "claims", "datasets", "effects", "figures",
           "finite_size", "lazy_sweep", "load_binary", "make_config", "mnas", "mnas_phase_diagram", "mnas_sweep",
           "paper_paths", "perceptron_sweep", "phase_diagram", "plan", "reading", "shrink", "stopping", "units",
           "with_overrides"]
