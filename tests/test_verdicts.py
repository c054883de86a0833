"""The verdict rules (core.verdicts): known cases and boundaries of every rule, the one rule for zero/NaN errors, and
each interval-type rule on its positive and negative controls (a rule that cannot tell the claim from its
alternative fails here)."""
from __future__ import annotations

import functools
import math

import matplotlib
import pytest

from paper_repro.core import verdicts as V
from paper_repro.core.results import Claim

matplotlib.use("Agg")
NAN, INF = float("nan"), float("inf")
R, P, N, I, NR = "reproduced", "partly", "not reproduced", "inconclusive", "not run"


@pytest.mark.parametrize("args, kw, expected", [
    ((1.5, 0.1, 1.5, (1.0,)), {}, R),
    ((1.5, 0.72, 1.5, (1.0,)), {}, I),  # the interval holds the alternative too
    ((2.5, 0.1, 1.5, (1.0,)), {}, N),
    ((1.0, 0.1, 1.5, (1.0,)), {}, N),  # holds the alternative, not the target
    ((1.3, 0.1, 1.5, ()), {}, R),  # boundary: target exactly at estimate + 2 se is inside
    ((1.3, 0.1, 1.5, ()), {"z": 1.0}, N),
    ((1.25, 0.1, 1.5, ()), {"partly_within": 0.3}, P),
    ((1.25, 0.1, 1.5, ()), {"partly_within": 0.2}, N),
    ((1.5, 0.1, 1.5, (NAN,)), {}, R),  # a NaN alternative is never inside
])
def test_interval_verdict(args, kw, expected):
    assert V.interval_verdict(*args, **kw) == expected


@pytest.mark.parametrize("x, err, expected", [
    (0.5, 0.1, R), (-0.5, 0.1, N), (0.15, 0.1, I), (-0.15, 0.1, I),
    (0.2, 0.1, I), (0.2001, 0.1, R),  # boundary: x must exceed 2 err strictly
])
def test_sign_verdict(x, err, expected):
    assert V.sign_verdict(x, err) == expected


@pytest.mark.parametrize("p, se, expected", [
    (0.9, 0.05, R), (0.6, 0.1, I), (0.1, 0.05, N), (0.7, 0.1, I), (0.7001, 0.1, R), (0.3, 0.1, I), (0.2999, 0.1, N),
])
def test_majority_verdict(p, se, expected):
    assert V.majority_verdict(p, se) == expected


@pytest.mark.parametrize("lo, hi, below, expected, without_partly", [
    (0.00, 0.08, True, R, R), (0.05, 0.15, True, I, I), (0.12, 0.20, True, P, N), (0.20, 0.30, True, I, N),
    (0.30, 0.40, True, N, N), (0.00, 0.10, True, R, R),  # boundary: hi == ok meets 'value <= ok'
    (0.12, 0.20, False, R, R), (0.05, 0.09, False, P, N), (0.00, 0.02, False, N, N),
])
def test_threshold_verdict(lo, hi, below, expected, without_partly):
    ok, partly = (0.1, 0.25) if below else (0.1, 0.03)
    assert V.threshold_verdict(lo, hi, ok, partly, below=below) == expected
    assert V.threshold_verdict(lo, hi, ok, below=below) == without_partly


@pytest.mark.parametrize("dist, expected", [(0.05, R), (0.1, R), (0.2, P), (0.3, P), (0.31, N), (NAN, I), (INF, I),
                                            (-INF, I)])
def test_tolerance(dist, expected):
    assert V.tolerance(dist, 0.1, 0.3) == expected


def test_all_of_and_worst():
    assert V.all_of(R, R) == R and V.all_of(R, I) == I and V.all_of(R, P) == I and V.all_of(I, N) == N
    assert V.all_of(R, NR) == I and V.all_of() == NR
    assert V.worst([R, P]) == P and V.worst([P, I]) == I and V.worst([I, N, R]) == N and V.worst([]) == NR


def test_pm():
    assert V.pm(0.0131, 0.004) == "0.013 ± 0.008"
    for err in (NAN, 0.0, -0.1):
        assert V.pm(0.013, err) == "0.013 (no uncertainty: one seed)"


# The one rule: an estimate, error, target or threshold that is not finite, or an error <= 0, is inconclusive.
MISSING = [
    ("interval_verdict", lambda v, e: V.interval_verdict(v, e, 1.0, (0.0,))),
    ("sign_verdict", V.sign_verdict),
    ("majority_verdict", V.majority_verdict),
    ("threshold_verdict", lambda v, e: V.threshold_verdict(v - 2 * e, v + 2 * e, 2.0)),
]


@pytest.mark.parametrize("name, rule", MISSING, ids=[m[0] for m in MISSING])
@pytest.mark.parametrize("value, err", [(1.0, 0.0), (1.0, -0.01), (1.0, NAN), (1.0, INF), (NAN, 0.01), (INF, 0.01),
                                        (-INF, 0.01)])
def test_missing_uncertainty_is_inconclusive(name, rule, value, err):
    assert rule(value, err) == I
    assert rule(1.0, 0.01) != I  # the same rule decides when the uncertainty is there


def test_missing_target_or_threshold_is_inconclusive():
    assert V.interval_verdict(1.0, 0.1, NAN) == I
    assert V.threshold_verdict(0.0, 0.1, NAN) == I and V.threshold_verdict(0.0, 0.1, 0.5, NAN) == I
    assert V.threshold_verdict(0.3, 0.3, 0.5) == I  # zero width: no uncertainty computed


def test_verdicts_are_the_claim_verdicts():
    assert V.VERDICTS == tuple(dict.fromkeys(V.VERDICTS)) and set(V.ORDER) < set(V.VERDICTS)
    with pytest.raises(ValueError, match="verdict"):
        Claim(id="k", statement="s", paper_value="p", ours="o", verdict="maybe", dataset="d", profile="smoke")


# --- controls: each interval-type rule on data where the claim holds and on data from the stated alternative ---

def mean_and_se(rng, mu, n=50, sd=1.0):
    """Sample mean of n Gaussian draws and its standard error (what a chapter computes from n seeds)."""
    x = rng.normal(mu, sd, n)
    return x.mean(), x.std(ddof=1) / math.sqrt(n)


def share_and_se(rng, p, n=100):
    """Observed share of n Bernoulli(p) outcomes and its binomial standard error (as in rate())."""
    q = rng.binomial(n, p) / n
    return q, math.sqrt(max(q * (1 - q), 0.25 / n) / n)


def interval_of(rng, mu, n=100, sd=0.05):
    """[mean - 2 se, mean + 2 se] of n draws around mu (a threshold rule's interval)."""
    m, se = mean_and_se(rng, mu, n, sd)
    return m - 2 * se, m + 2 * se


CONTROLS = {
    # slope 1 against the alternative slope 0 (escape_rate: noise ~ L), 50 points, sd 1
    "interval_verdict": (V.interval_verdict,
                         lambda rng: (*mean_and_se(rng, 1.0), 1.0, (0.0,)),
                         lambda rng: (*mean_and_se(rng, 0.0), 1.0, (0.0,))),
    # an exponent > 0 against one < 0 (sgd_regimes: T_c ~ P^-a with a > 0)
    "sign_verdict": (V.sign_verdict, lambda rng: mean_and_se(rng, 0.5), lambda rng: mean_and_se(rng, -0.5)),
    # 'usually pass' (p = 0.8) against 'usually fail' (p = 0.2), 100 outcomes (gradient_structure)
    "majority_verdict": (V.majority_verdict, lambda rng: share_and_se(rng, 0.8), lambda rng: share_and_se(rng, 0.2)),
    # |bias| <= 0.05 (partly 0.1) against a bias of 0.2 (tail_index: the estimator recovers alpha)
    "threshold_verdict": (V.threshold_verdict,
                          lambda rng: {**dict(zip(("lo", "hi"), interval_of(rng, 0.02))), "ok": 0.05, "partly": 0.1},
                          lambda rng: {**dict(zip(("lo", "hi"), interval_of(rng, 0.2))), "ok": 0.05, "partly": 0.1}),
    # 'value >= 0.1' (a span, tail_index: alpha depends on the architecture) against no dependence
    "threshold_verdict_above": (functools.partial(V.threshold_verdict, below=False),
                                lambda rng: (*interval_of(rng, 0.3), 0.1, 0.03),
                                lambda rng: (*interval_of(rng, 0.0), 0.1, 0.03)),
}


@pytest.mark.parametrize("name", sorted(CONTROLS))
def test_rule_passes_its_controls(name):
    rule, positive, negative = CONTROLS[name]
    res = V.run_controls(rule, positive, negative, n_rep=200, seed=1)
    assert res.positive_rate >= 0.9, res.counts("positive")
    assert res.negative_rate >= 0.9, res.counts("negative")
    assert res.passed(0.9) and sum(res.positive) == sum(res.negative) == 200
    assert res.rule == "threshold_verdict" if name.startswith("threshold") else res.rule == name


BOUNDARY = {  # draws exactly at the edge of the alternative: a rule at level z = 2 rarely says "reproduced" there
    "interval_verdict": lambda rng: (*mean_and_se(rng, 0.0), 1.0, (0.0,)),
    "sign_verdict": lambda rng: mean_and_se(rng, 0.0),
    "majority_verdict": lambda rng: share_and_se(rng, 0.5),
    "threshold_verdict": lambda rng: (*interval_of(rng, 0.05), 0.05, 0.1),
    "threshold_verdict_above": lambda rng: (*interval_of(rng, 0.1), 0.1, 0.03),
}


@pytest.mark.parametrize("name", sorted(BOUNDARY))
def test_rule_rarely_reproduces_at_the_edge_of_the_alternative(name):
    rule, positive, _ = CONTROLS[name]
    res = V.run_controls(rule, positive, BOUNDARY[name], n_rep=200, seed=2)
    assert res.false_rate <= 0.06, res.counts("negative")


def test_controls_catch_a_rule_that_cannot_decide():
    """A rule blind to the data (always 'reproduced') has no specificity; one blind to errors overclaims."""
    _, positive, negative = CONTROLS["interval_verdict"]
    blind = V.run_controls(lambda *a: R, positive, negative, n_rep=50)
    assert blind.positive_rate == 1.0 and blind.negative_rate == 0.0 and not blind.passed()
    wide = V.run_controls(lambda m, se, t, alt: V.interval_verdict(m, 50 * se, t, alt), positive, negative, n_rep=50)
    assert wide.counts("positive")[I] == 50 and not wide.passed()


def test_controls_are_reproducible_and_frozen():
    rule, positive, negative = CONTROLS["sign_verdict"]
    a = V.run_controls(rule, positive, negative, n_rep=30, seed=3)
    assert a == V.run_controls(rule, positive, negative, n_rep=30, seed=3)
    with pytest.raises(AttributeError):
        a.n_rep = 1
    with pytest.raises(ValueError, match="maybe"):
        V.run_controls(lambda *x: "maybe", positive, negative, n_rep=2)


def test_control_plot_shows_both_controls():
    rule, positive, negative = CONTROLS["majority_verdict"]
    res = V.run_controls(rule, positive, negative, n_rep=40)
    ax = res.plot()
    assert [t.get_text() for t in ax.get_yticklabels()] == ["claim holds", "alternative"]
    widths = [p.get_width() for p in ax.patches]
    assert len(widths) == 2 * len(V.VERDICTS) and sum(widths) == pytest.approx(2.0)
    assert "majority_verdict" in ax.get_title()
