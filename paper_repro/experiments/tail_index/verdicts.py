"""Chapter 1 (Simsekli et al. 2019): verdicts from intervals (estimate +- Z standard errors) against thresholds."""
from __future__ import annotations

import numpy as np

from ...core.results import all_of  # noqa: F401  (re-exported: claims of this chapter combine parts with it)

Z = 2.0  # half-width of every interval, in standard errors


def threshold_verdict(lo: float, hi: float, ok: float, partly: float | None = None, below: bool = True) -> str:
    """Verdict of a quantity known to lie in [lo, hi] against 'value <= ok' (below) or 'value >= ok' (not below).

    reproduced: the whole interval meets ``ok``; partly: it fails ``ok`` but meets ``partly``; not reproduced: it
    fails both; inconclusive: it straddles a threshold it is judged by, or it is undefined or of zero width (no
    uncertainty computed, e.g. one seed).
    """
    if not (np.isfinite(lo) and np.isfinite(hi)) or hi <= lo:
        return "inconclusive"
    if not below:  # value >= ok  <=>  -value <= -ok
        lo, hi, ok, partly = -hi, -lo, -ok, None if partly is None else -partly
    if hi <= ok:
        return "reproduced"
    if lo <= ok or partly is None:
        return "inconclusive" if lo <= ok else "not reproduced"
    return "partly" if hi <= partly else "inconclusive" if lo <= partly else "not reproduced"


def pm(value: float, err: float, digits: int = 3, why: str = "one seed") -> str:
    """'0.013 ± 0.008' (value ± Z standard errors), or '0.013 (no uncertainty: one seed)' when it is undefined."""
    if not np.isfinite(err):
        return f"{value:.{digits}f} (no uncertainty: {why})"
    return f"{value:.{digits}f} ± {Z * err:.{digits}f}"
