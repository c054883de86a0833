"""Quiet progress bars: ``tqdm.auto`` interactively, nothing in batch (papermill) runs so no bar is saved in pages."""
from __future__ import annotations

import os
from typing import Any

BATCH_ENV = "PAPER_REPRO_BATCH"  # set by the runner: a batch (papermill) run shows no progress bars


def progress(iterable: Any = None, **kwargs: Any):
    """``tqdm.auto.tqdm`` for interactive use; disabled in batch runs so executed notebooks keep no bar."""
    from tqdm.auto import tqdm

    if os.environ.get(BATCH_ENV):
        kwargs["disable"] = True
    kwargs.setdefault("leave", False)
    return tqdm(iterable, **kwargs)
