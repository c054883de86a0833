"""The science core, below everything else: settings (config), datasets (fetch, data), nets (models), SGD (train),
per-sample gradients (gradients), estimators (tail index, power laws), results on disk (results), the scorecard's
verdict rules and their controls (verdicts), quiet progress bars.

Nothing here imports from ``present``, ``pipeline`` or ``experiments`` (``tests/test_structure.py``).
"""
from . import config, data, estimators, fetch, gradients, models, progress, results, train, verdicts

__all__ = ["config", "data", "estimators", "fetch", "gradients", "models", "progress", "results", "train", "verdicts"]
