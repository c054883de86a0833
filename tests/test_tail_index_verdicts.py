"""Chapter 1 verdicts respect uncertainty: intervals against thresholds, one seed is inconclusive; which rows count."""
from __future__ import annotations

import numpy as np
import pytest

import paper_repro.experiments.tail_index as ti
from paper_repro.core.verdicts import all_of, pm, threshold_verdict
from paper_repro.experiments.tail_index import NetTable
from paper_repro.experiments.tail_index import claims as tc

CFG = ti.PRESETS["smoke"]


@pytest.mark.parametrize("lo, hi, below, expect", [
    (0.00, 0.08, True, "reproduced"),  # whole interval <= 0.1
    (0.05, 0.15, True, "inconclusive"),  # straddles 0.1
    (0.12, 0.20, True, "partly"),  # above 0.1, below 0.25
    (0.20, 0.30, True, "inconclusive"),  # straddles 0.25
    (0.30, 0.40, True, "not reproduced"),
    (0.013, 0.013, True, "inconclusive"),  # zero width: no uncertainty computed
    (np.nan, np.nan, True, "inconclusive"),
    (0.12, 0.20, False, "reproduced"),  # 'value >= 0.1'
    (0.05, 0.09, False, "partly"),  # 'value >= 0.03' only
    (0.00, 0.02, False, "not reproduced"),
])
def test_threshold_verdict(lo, hi, below, expect):
    ok, partly = (0.1, 0.25) if below else (0.1, 0.03)
    assert threshold_verdict(lo, hi, ok, partly, below=below) == expect


def test_all_of_and_pm():
    assert all_of("reproduced", "reproduced") == "reproduced"
    assert all_of("reproduced", "inconclusive") == "inconclusive"
    assert all_of("inconclusive", "not reproduced") == "not reproduced"
    assert pm(0.0131, 0.004) == "0.013 ± 0.008"
    assert "one seed" in pm(0.013, np.nan)


def _rows(x: str, values: dict) -> list:
    """Rows of one sweep: {x value: [alpha-hat per seed]}."""
    return [{x: v, "seed": s, "alpha_train_fixed": a, "alpha_train": a, "stderr_train": 0.01, "loss": "nll"}
            for v, alphas in values.items() for s, a in enumerate(alphas)]


def _nets(batch: dict) -> dict:
    flat = {16: [1.3, 1.3], 64: [1.3, 1.3]}
    return {"width": NetTable(_rows("width", flat)), "depth": NetTable(_rows("depth", {2: [1.3, 1.3], 3: [1.3, 1.3]})),
            "batch": NetTable(_rows("batch_size", batch))}


def test_one_seed_batch_span_is_inconclusive_not_reproduced():
    nets = _nets({50: [1.300], 100: [1.313]})  # the reader's case: span 0.013, one seed
    span, err = tc.sweep_span(nets["batch"], "batch_size", "alpha_train_fixed")
    assert span == pytest.approx(0.013) and np.isnan(err)
    claim = tc.claim_batch(CFG, nets)
    assert claim.verdict == "inconclusive" and "one seed" in claim.ours


def test_batch_span_needs_span_plus_two_stderr_below_threshold():
    tight = _nets({50: [1.30, 1.31], 100: [1.32, 1.33]})  # span 0.02, stderr ~0.007
    assert tc.claim_batch(CFG, tight).verdict == "reproduced"
    loose = _nets({50: [1.20, 1.40], 100: [1.25, 1.45]})  # span 0.05, stderr 0.14: straddles 0.1
    assert tc.claim_batch(CFG, loose).verdict == "inconclusive"


def test_span_uses_seed_spread_of_the_mean_curve():
    table = NetTable(_rows("width", {16: [1.0, 1.2], 64: [1.5, 1.5]}))
    span, err = tc.sweep_span(table, "width", "alpha_train_fixed")
    assert span == pytest.approx(0.4)
    assert err == pytest.approx(np.hypot(np.std([1.0, 1.2], ddof=1) / np.sqrt(2), 0.0))


def test_alpha_below_2_uses_each_nets_interval():
    rows = [{"width": 16, "seed": 0, "alpha_train": 1.75, "stderr_train": 0.05}]
    nets = {"width": NetTable(rows)}
    assert tc.claim_alpha_below_2(CFG, nets).verdict == "inconclusive"  # 1.65..1.85 straddles 1.8
    rows[0]["stderr_train"] = 0.01
    assert tc.claim_alpha_below_2(CFG, nets).verdict == "reproduced"


def test_estimator_claim_needs_repetitions():
    rng = np.random.default_rng(0)
    alphas, sizes = np.array([1.2, 1.8]), np.array([1e5])
    one = {"alphas": alphas, "sizes": sizes, "mohammadi": alphas[:, None, None] + 0.01 * np.ones((2, 1, 1))}
    assert tc.claim_estimator(CFG, one).verdict == "inconclusive"  # one repetition: no standard error
    many = {"alphas": alphas, "sizes": sizes,
            "mohammadi": alphas[:, None, None] + 0.005 * rng.standard_normal((2, 1, 50))}
    assert tc.claim_estimator(CFG, many).verdict == "reproduced"


def test_only_the_row_the_paper_states_is_counted():
    nets = _nets({50: [1.30, 1.31], 100: [1.32, 1.33]})
    rows = [tc.claim_alpha_below_2(CFG, nets), tc.claim_architecture(CFG, nets), tc.claim_batch(CFG, nets)]
    assert [c.counted for c in rows] == [True, False, False]
    assert rows[0].basis == "paper" and rows[1].basis == "abstract" and rows[2].beyond
