"""Chapter 4: Xie, Tang, Sun & Li (NeurIPS 2023), the overlooked structure of stochastic gradients."""
from .config import (CHAPTER, ITER_TAIL, PRESETS, SPEC_FRAC, GradientStructureConfig, datasets, make_config,
                     measurement_name, paper_paths, settings, shrink)
from .plan import plan
from .run import Checkpoint, GradientStructureResult, RunSpec, run_gradient_structure, run_setting

__all__ = ["CHAPTER", "ITER_TAIL", "PRESETS", "SPEC_FRAC", "Checkpoint", "GradientStructureConfig",
           "GradientStructureResult", "RunSpec", "datasets", "make_config", "measurement_name", "paper_paths", "plan",
           "run_gradient_structure", "run_setting", "settings", "shrink"]
