"""Verdict rules of the escape-rate chapter, each stated in words and run on its positive and negative controls
(:mod:`.controls`); they call the shared rules of :mod:`paper_repro.core.verdicts`."""
from __future__ import annotations

import numpy as np

from ...core.verdicts import Z, interval_verdict, sign_verdict, threshold_verdict, worst

ESCAPE_PARTLY = 0.2  # escape slope within 20 % of the prediction: partly
ESCAPE_MIN_THRESHOLDS = 3  # fewer thresholds in the fit window: inconclusive
ROUGHLY = (0.2, 0.4)  # "N roughly proportional to L": |slope - 1| <= 0.2 reproduced, <= 0.4 partly
SLIGHT = (0.2, 0.35)  # "phi slightly deviates": |phi_fit / phi_theory - 1| <= 0.2 reproduced, <= 0.35 partly


def escape_verdict(slope: float, se: float, target: float, alternative: float, n_thresholds: int) -> str:
    """Fitted escape slope against the decoupled SDE's exact slope over the same thresholds (target), with the
    constant-noise (Langevin, Arrhenius) slope as the alternative; partly within 20 % of the target."""
    if n_thresholds < ESCAPE_MIN_THRESHOLDS:
        return "inconclusive"
    return interval_verdict(slope, se, target, (alternative,), partly_within=ESCAPE_PARTLY * abs(target))


def distance_interval(value: float, se: float, ref: float) -> tuple[float, float]:
    """Interval of |x - ref| for x in value +- Z se (0 at the low end when ref lies inside)."""
    lo, hi = value - Z * se, value + Z * se
    far = max(abs(lo - ref), abs(hi - ref))
    return (0.0 if lo <= ref <= hi else min(abs(lo - ref), abs(hi - ref))), far


def roughly_proportional(slope: float, se: float) -> str:
    """'N roughly proportional to L': the whole slope +- 2 se within 1 +- 0.2 (N/L changes by at most 10^0.2 ~ 1.6x
    over the decade of L fitted) is reproduced, within 1 +- 0.4 partly, outside 1 +- 0.4 not reproduced."""
    if not (np.isfinite(slope) and np.isfinite(se) and se > 0):
        return "inconclusive"
    lo, hi = distance_interval(slope, se, 1.0)
    return threshold_verdict(lo, hi, ROUGHLY[0], ROUGHLY[1])


def slight_deviation(phi_fit, phi_se, phi_theory) -> str:
    """'phi slightly deviates from 1 + B/(eta h*)': per B, |phi_fit/phi_theory - 1| +- 2 se within 0.2 is
    reproduced, within 0.35 partly; the worst over B."""
    out = []
    for f, se, th in zip(phi_fit, phi_se, phi_theory):
        if not (np.isfinite(f) and np.isfinite(se) and se > 0 and np.isfinite(th)):
            out.append("inconclusive")
            continue
        lo, hi = distance_interval(f / th, se / th, 1.0)
        out.append(threshold_verdict(lo, hi, SLIGHT[0], SLIGHT[1]))
    return worst(out)


def critical_verdict(drifts: dict, n_c: float) -> str:
    """Eq. (19): the drift of log L at large L is negative (the minimum holds) at every d < n_c and positive
    (runaway) at every d > n_c, each by 2 standard errors; d = n_c is skipped."""
    parts = [sign_verdict(-m if d < n_c else m, se) for d, (m, se) in drifts.items() if d != n_c]
    if not parts or "not reproduced" in parts:
        return "not reproduced" if parts else "not run"
    return "reproduced" if all(p == "reproduced" for p in parts) else "inconclusive"
