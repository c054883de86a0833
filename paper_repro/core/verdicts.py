"""Every verdict rule of the scorecard, in one place, and the harness that checks a rule on its controls.

A rule turns a measured number (and its uncertainty) into one of ``VERDICTS``; the chapters' composite verdicts
(``regime_verdict``, ``two_phase_verdict``, ...) stay in their chapter and call these.

One rule for missing uncertainty, shared by every rule that takes an error (``interval_verdict``, ``sign_verdict``,
``majority_verdict``, ``threshold_verdict``): an estimate, error, target or threshold that is not finite (NaN, inf),
or an error <= 0 (no uncertainty was computed, e.g. one seed; for ``threshold_verdict``, an interval of zero or
negative width), gives "inconclusive". ``tolerance`` judges a distance that has no error: a distance that is not
finite gives "inconclusive". ``all_of`` and ``worst`` combine verdicts: with nothing to combine they give "not run".
A chapter that knows nothing was measured says "not run" itself before calling a rule. ``pm`` writes a missing error
as "(no uncertainty: ...)".

``run_controls`` runs a rule on draws where the claim holds and on draws from the stated alternative, at the chapter's
sample size: a rule that says "reproduced" on both has no power to decide.
"""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

VERDICTS = ("reproduced", "partly", "not reproduced", "inconclusive", "not run")
ORDER = ("reproduced", "partly", "inconclusive", "not reproduced")  # from most to least favourable (``worst``)
Z = 2.0  # half-width of every interval, in standard errors


def _missing(*values: float, err: float | None = None) -> bool:
    """True when a value is not finite, or the error is not finite or <= 0 (the module's one rule)."""
    if not all(math.isfinite(float(v)) for v in values):
        return True
    return err is not None and not (math.isfinite(float(err)) and err > 0)


def interval_verdict(estimate: float, stderr: float, target: float, alternatives: tuple[float, ...] = (),
                     *, z: float = Z, partly_within: float | None = None) -> str:
    """Verdict of ``estimate +- z*stderr`` against ``target`` and the values a skeptic would propose instead.

    reproduced: target inside the interval and every alternative outside it;
    inconclusive: the interval holds the target and an alternative (too wide to decide), or the module's rule
    (estimate, stderr or target not finite, stderr <= 0);
    partly: target outside the interval but within ``partly_within`` of the estimate (when given);
    not reproduced: otherwise (in particular when the interval holds an alternative but not the target).
    A non-finite alternative can never lie inside the interval and is ignored.
    """
    if _missing(estimate, target, err=stderr):
        return "inconclusive"
    lo, hi = estimate - z * stderr, estimate + z * stderr
    if lo <= target <= hi:
        return "inconclusive" if any(lo <= a <= hi for a in alternatives) else "reproduced"
    if partly_within is not None and abs(estimate - target) <= partly_within:
        return "partly"
    return "not reproduced"


def sign_verdict(x: float, err: float, *, z: float = Z) -> str:
    """Verdict of 'x > 0': reproduced when x > z err, not reproduced when x < -z err, else inconclusive (and by the
    module's rule)."""
    if _missing(x, err=err):
        return "inconclusive"
    return "reproduced" if x > z * err else "not reproduced" if x < -z * err else "inconclusive"


def majority_verdict(p: float, se: float, *, z: float = Z) -> str:
    """Verdict of 'usually' (a majority): reproduced when p - z se > 1/2, not reproduced when p + z se < 1/2, else
    inconclusive (and by the module's rule)."""
    if _missing(p, err=se):
        return "inconclusive"
    return "reproduced" if p - z * se > 0.5 else "not reproduced" if p + z * se < 0.5 else "inconclusive"


def threshold_verdict(lo: float, hi: float, ok: float, partly: float | None = None, below: bool = True) -> str:
    """Verdict of a quantity known to lie in [lo, hi] against 'value <= ok' (below) or 'value >= ok' (not below).

    reproduced: the whole interval meets ``ok``; partly: it fails ``ok`` but meets ``partly``; not reproduced: it
    fails both; inconclusive: it straddles a threshold it is judged by, or the module's rule (a bound or threshold
    not finite, or an interval of zero or negative width: no uncertainty computed, e.g. one seed).
    """
    if _missing(lo, hi, ok, *(() if partly is None else (partly,)), err=hi - lo):
        return "inconclusive"
    if not below:  # value >= ok  <=>  -value <= -ok
        lo, hi, ok, partly = -hi, -lo, -ok, None if partly is None else -partly
    if hi <= ok:
        return "reproduced"
    if lo <= ok or partly is None:
        return "inconclusive" if lo <= ok else "not reproduced"
    return "partly" if hi <= partly else "inconclusive" if lo <= partly else "not reproduced"


def tolerance(dist: float, good: float, fair: float) -> str:
    """Verdict of a distance with no error: reproduced if dist <= good, partly if dist <= fair, else not reproduced;
    a distance that is not finite (NaN, inf) gives inconclusive."""
    if not math.isfinite(float(dist)):
        return "inconclusive"
    return "reproduced" if dist <= good else "partly" if dist <= fair else "not reproduced"


def all_of(*verdicts: str) -> str:
    """Verdict of a claim that needs every part: not reproduced if one part is, reproduced if all are, else
    inconclusive; "not run" with no parts."""
    if not verdicts:
        return "not run"
    if "not reproduced" in verdicts:
        return "not reproduced"
    return "reproduced" if all(v == "reproduced" for v in verdicts) else "inconclusive"


def worst(verdicts) -> str:
    """The least favourable of several verdicts in ``ORDER`` ("not run" when there are none)."""
    v = list(verdicts)
    return max(v, key=ORDER.index) if v else "not run"


def pm(value: float, err: float, digits: int = 3, why: str = "one seed") -> str:
    """'0.013 ± 0.008' (value ± Z errors), or '0.013 (no uncertainty: one seed)' when the error is missing (the
    module's rule: not finite or <= 0)."""
    if _missing(err=err):
        return f"{value:.{digits}f} (no uncertainty: {why})"
    e = Z * err
    if round(e, digits) == 0:  # never "± 0.000": as many decimals as the error's 2 significant digits need
        digits = min(12, 1 - math.floor(math.log10(e)))
    return f"{value:.{digits}f} ± {e:.{digits}f}"


# --- controls: does a rule say "reproduced" when the claim holds and "not reproduced" when it does not? ---

Draw = Callable[[np.random.Generator], Any]  # rng -> the rule's arguments: a tuple (positional) or a dict (keywords)


def _call(rule: Callable[..., str], args: Any) -> str:
    """``rule(*args)`` for a tuple or list, ``rule(**args)`` for a mapping."""
    return rule(**args) if isinstance(args, Mapping) else rule(*args)


def _name(rule: Callable) -> str:
    """The rule's name (a ``functools.partial`` is named after its function)."""
    return getattr(rule, "__name__", None) or getattr(getattr(rule, "func", None), "__name__", repr(rule))


@dataclasses.dataclass(frozen=True)
class ControlResult:
    """Verdict counts of a rule on draws where the claim holds (positive) and on draws from the alternative.

    ``positive`` and ``negative`` count each verdict, in the order of ``VERDICTS``.
    """

    rule: str
    n_rep: int
    positive: tuple[int, ...]
    negative: tuple[int, ...]

    def counts(self, which: str = "positive") -> dict[str, int]:
        """{verdict: count} of the positive or the negative draws."""
        return dict(zip(VERDICTS, getattr(self, which)))

    @property
    def positive_rate(self) -> float:
        """Share of positive draws judged "reproduced" (the rule's power)."""
        return self.counts("positive")["reproduced"] / self.n_rep

    @property
    def negative_rate(self) -> float:
        """Share of draws from the alternative judged "not reproduced" (the rule's specificity)."""
        return self.counts("negative")["not reproduced"] / self.n_rep

    @property
    def false_rate(self) -> float:
        """Share of draws from the alternative judged "reproduced" (a claim the data do not support)."""
        return self.counts("negative")["reproduced"] / self.n_rep

    def passed(self, min_rate: float = 0.8) -> bool:
        """True when both rates reach ``min_rate``."""
        return self.positive_rate >= min_rate and self.negative_rate >= min_rate

    def plot(self, ax=None):
        """Stacked bars of the verdict shares on the two controls (a small panel beside a chapter's figure)."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(4.0, 1.6))
        colors = dict(zip(VERDICTS, ("#2e7d32", "#9e9d24", "#c62828", "#757575", "#bdbdbd")))
        rows = (("claim holds", self.positive), ("alternative", self.negative))
        for i, (_, counts) in enumerate(rows):
            left = 0.0
            for verdict, c in zip(VERDICTS, counts):
                share = c / self.n_rep
                ax.barh(i, share, left=left, color=colors[verdict], label=verdict if i == 0 else None)
                left += share
        ax.set_yticks(range(len(rows)), [r[0] for r in rows])
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_xlabel(f"share of {self.n_rep} draws")
        ax.set_title(f"{self.rule}: reproduced {self.positive_rate:.0%},\nnot reproduced on the alternative "
                     f"{self.negative_rate:.0%}")  # the book's sizes (>= 11 pt): legible at the page width
        ax.legend(ncol=3, loc="upper center", bbox_to_anchor=(0.5, -0.45), frameon=False)
        return ax


def run_controls(rule: Callable[..., str], positive: Draw, negative: Draw, *, n_rep: int = 200,
                 seed: int = 0) -> ControlResult:
    """Apply ``rule`` to ``n_rep`` draws of ``positive`` (data from the paper's own model, at the chapter's sample
    size) and of ``negative`` (from the stated alternative), each a callable rng -> the rule's arguments."""
    pos_rng, neg_rng = np.random.default_rng(seed).spawn(2)

    def count(draw: Draw, rng: np.random.Generator) -> tuple[int, ...]:
        got = [_call(rule, draw(rng)) for _ in range(n_rep)]
        unknown = set(got) - set(VERDICTS)
        if unknown:
            raise ValueError(f"{_name(rule)} returned {sorted(unknown)}, not one of {VERDICTS}")
        return tuple(got.count(v) for v in VERDICTS)

    return ControlResult(_name(rule), n_rep, count(positive, pos_rng), count(negative, neg_rng))

