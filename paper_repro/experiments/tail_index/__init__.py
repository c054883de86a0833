"""Chapter 1: Simsekli, Sagun & Gürbüzbalaban (2019), the tail index of SGD's gradient noise."""
from __future__ import annotations

from . import claims, controls, explore, figures, phases, reading
from .config import CHAPTER, PRESETS, TailIndexConfig, sweep_configs
from .measure import LOSS_FNS, NoiseMeasurement, linear_hinge_loss, measure_noise, nll_loss, pooling_variants
from .plan import datasets, paper_paths, plan, shrink
from .run import NetRun, fc_net, init_gaussian_variants, run_net
from .sweeps import (NetTable, exit_time_study, histogram_row, measured_shape, pooling_calibration, pooling_groups,
                     run_networks, synthetic_validation)

__all__ = ["CHAPTER", "PRESETS", "TailIndexConfig", "sweep_configs", "shrink", "paper_paths", "plan", "datasets",
           "NetRun", "run_net", "fc_net", "init_gaussian_variants", "measure_noise", "NoiseMeasurement",
           "pooling_variants", "nll_loss", "linear_hinge_loss", "LOSS_FNS", "NetTable", "run_networks",
           "synthetic_validation", "pooling_calibration", "pooling_groups", "histogram_row", "measured_shape",
           "exit_time_study", "claims", "controls", "explore", "figures", "phases", "reading"]
