"""paper_repro: executable reproductions of four papers on stochastic-gradient noise.

Layers, each importing only from those before it: ``core`` (science), ``present`` (what a reader sees), ``pipeline``
(running and building the book), ``experiments`` (one package per paper). The names below are the common entry points.
"""
from .core import config, data, fetch, gradients, models, results, train
from .core.config import ConfigError, from_profile, resolve_device
from .core.data import Dataset, batch_indices, fixed_batches, load_dataset
from .core.results import Claim, save_claims, save_json, save_npz
from .pipeline import sweep

__all__ = ["config", "data", "fetch", "gradients", "models", "results", "sweep", "train", "ConfigError",
           "from_profile", "resolve_device", "Dataset", "batch_indices", "fixed_batches", "load_dataset", "Claim",
           "save_claims", "save_json", "save_npz"]
__version__ = "0.1.0"
