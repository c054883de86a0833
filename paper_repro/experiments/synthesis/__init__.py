"""Chapter 5: one set of networks, four papers -- is SGD noise heavy-tailed, and which of its properties matter?"""
from .config import CHAPTER, NET_DATA, PRESETS, SynthesisConfig, datasets, make_config, paper_paths, runs, shrink
from .plan import plan

__all__ = ["CHAPTER", "NET_DATA", "PRESETS", "SynthesisConfig", "datasets", "make_config", "paper_paths", "plan",
           "runs", "shrink"]
