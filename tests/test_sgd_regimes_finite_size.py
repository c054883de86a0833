"""Chapter 2, issue 24: perceptron exponents at finite size (rule and controls), seed-drawn training sets, the
capped T -> 0 baseline, the opposite effects of T and alpha, and the error at T_c."""
import numpy as np
import pytest
import torch

from paper_repro.core.verdicts import run_controls
from paper_repro.experiments import sgd_regimes as sr
from paper_repro.experiments.sgd_regimes import effects as fx
from paper_repro.experiments.sgd_regimes import finite_size as fs
from paper_repro.experiments.sgd_regimes.claims import regime_verdict
from paper_repro.experiments.sgd_regimes.data import split_indices
from paper_repro.experiments.sgd_regimes.ensemble import train_ensemble
from paper_repro.experiments.sgd_regimes.nets import mlp
from paper_repro.testing import assert_close_dtype

QUICK = sr.PRESETS["quick"]
PS = np.array(QUICK.perc_P, float)
N_T = sum(T >= QUICK.perc_fit_T_min for T in QUICK.perc_T)


def _draw(exponent, noise=0.15):
    return lambda rng: (fs.seed_slopes(fs.synthetic(rng, exponent, PS, N_T, QUICK.perc_seeds, np.full(len(PS), noise)),
                                       PS), 0.5, (0.0, 1.0))


def test_quick_perceptron_reaches_p_over_d_64_with_three_temperatures():
    assert max(QUICK.perc_P) / QUICK.perc_d >= 64 and N_T >= 3 and QUICK.perc_fit_P_min >= 2 * QUICK.perc_d


def test_finite_size_rule_controls_chi1():
    """Positive: the asymptotic law (gamma = 1/2) with the quick grid and a measured-size noise -> reproduced;
    negative: gamma = 1 at chi = 1 -> not reproduced. 200 draws each, at least 80 %."""
    res = run_controls(fs.finite_size_verdict, _draw(0.5), _draw(1.0), n_rep=200, seed=1)
    assert res.passed(0.8), (res.counts("positive"), res.counts("negative"))


def test_pre_asymptotic_drift_toward_the_target_is_inconclusive_not_a_failure():
    rng = np.random.default_rng(0)
    toward = np.array([0.5, 0.6, 0.7, 0.8, 0.9])[None, :] + 0.01 * rng.standard_normal((16, 5))  # -> 1
    away = toward[:, ::-1]  # ends at 0.5, drifting away from 1
    assert fs.finite_size_verdict(toward, 1.0, (0.0,)) == "inconclusive" and fs.drifts_toward(toward, 1.0)
    assert fs.finite_size_verdict(away, 1.0, (0.0,)) == "not reproduced" and not fs.drifts_toward(away, 1.0)
    assert fs.finite_size_verdict(np.ones((16, 5)) + 0.01 * rng.standard_normal((16, 5)), 1.0, (0.0,)) == "reproduced"


def test_local_exponent_reads_the_table():
    """A noise-free table w_par = T P^g, w_perp = T: slopes g (signal, ratio) and 0 (noise) at every pair."""
    rows = [(c, P, T, s) for c in (0.0, 1.0) for P in PS for T in QUICK.perc_T for s in range(3)]
    c, P, T, s = (np.array(v, float) for v in zip(*rows))
    g = 1 / (1 + c)
    tab = {"chi": c, "P": P, "T": T, "seed": s, "w_par": T * P ** g * (1 + 0.01 * s), "w_perp": T * (1 + 0.01 * s),
           "status": np.array(["fitted"] * len(c))}
    local = fs.all_local(QUICK, tab)
    for (chi, key), ex in local.items():
        want = 0.0 if key == "w_perp" else 1 / (1 + chi)
        assert_close_dtype(ex.slope, np.full(len(ex.pairs), want), n_reduce=len(PS))
        assert ex.pairs[-1] == (PS[-2], PS[-1])


def test_each_seed_draws_its_own_training_set_from_train_and_test():
    test, train = split_indices(70_000, 10_000, [0, 1], 512)
    test2, train2 = split_indices(70_000, 10_000, [1], 256)
    assert len(set(test)) == 10_000 and np.array_equal(test, test2)  # one fixed test set
    assert not set(test) & set(train[0]) and not set(test) & set(train[1])
    assert np.array_equal(train2[1], train[1][:256])  # nested in P at one seed, as released
    assert len(set(train[0]) & set(train[1])) < 64  # two seeds: two draws (expected overlap 512^2/60000 ~ 4)
    with pytest.raises(ValueError):
        split_indices(1000, 900, [0], 200)


def test_train_index_trains_each_member_on_its_own_rows():
    """An ensemble over a shared pool with per-member indices equals each member trained on its rows alone."""
    torch.manual_seed(0)
    x, y = torch.randn(40, 6, dtype=torch.float64), torch.sign(torch.randn(40, dtype=torch.float64))
    index = torch.stack([torch.randperm(40)[:16] for _ in range(2)])
    kw = dict(alpha=[1.0, 1.0], lr=[0.5, 0.5], seeds=[3, 4], batch_size=4, max_steps=30, check_every=10)
    models = [mlp(6, 8, 2, "relu", seed=s).double() for s in range(2)]
    both = train_ensemble(models, x, y, x[:5], y[:5], n_train=[16, 12], train_index=index, **kw)
    for i, n in enumerate((16, 12)):
        one = train_ensemble([mlp(6, 8, 2, "relu", seed=i).double()], x[index[i]], y[index[i]], x[:5], y[:5],
                             n_train=[n], **{k: v[i:i + 1] if isinstance(v, list) else v for k, v in kw.items()})
        assert one.status[0] == both.status[i] and one.steps[0] == both.steps[i]
        for name, p in one.params.items():
            assert_close_dtype(both.params[name][i], p[0], n_reduce=x.shape[1] * 8)


def _phase(capped_below: bool):
    """Two alphas x 5 temperatures x 3 seeds: lazy error rises with T (hurts), feature error falls (helps)."""
    rng = np.random.default_rng(0)
    rows = []
    for a, slope in ((2.0 ** 11, 0.02), (2.0 ** -5, -0.02)):
        for j, T in enumerate(2.0 ** np.arange(-8, -3)):
            for s in range(3):
                st = "capped" if capped_below and a < 1 and j == 0 else "fitted"
                rows.append((a, T, 512.0, s, st, 0.2 + slope * j + 0.002 * rng.standard_normal()))
    a, T, P, s, st, e = zip(*rows)
    return {"alpha": np.array(a), "T": np.array(T), "P": np.array(P), "seed": np.array(s), "status": np.array(st),
            "test_error": np.array(e)}


def test_capped_runs_below_the_baseline_are_counted_and_downgrade_the_regime_verdict():
    clean, capped = _phase(False), _phase(True)
    lazy, feat = (fx.noise_effect(clean, a, 512.0, 10_000) for a in (2.0 ** 11, 2.0 ** -5))
    assert (lazy.verdict, feat.verdict) == ("hurts", "helps") and not feat.baseline_moved
    assert regime_verdict(lazy, feat) == "reproduced"
    feat_c = fx.noise_effect(capped, 2.0 ** -5, 512.0, 10_000)
    assert feat_c.verdict == "helps" and feat_c.n_capped_below == 3 and feat_c.T_low == 2.0 ** -7
    assert regime_verdict(lazy, feat_c) == "partly"
    assert fx.capped_counts(capped) == {(2.0 ** -5, 2.0 ** -8): 3} and fx.capped_counts(clean) == {}
    assert regime_verdict(lazy, feat, sweep=feat) == "partly"  # a lazy sweep where noise helps contradicts


def test_opposite_effects_of_raising_T_and_lowering_alpha():
    tab = _phase(False)
    lazy, feat = (fx.noise_effect(tab, a, 512.0, 10_000) for a in (2.0 ** 11, 2.0 ** -5))
    start = (tab["T"] == 2.0 ** -8)
    tie = dict(tab, test_error=np.where(start & (tab["alpha"] < 1), np.roll(tab["test_error"], 15), tab["test_error"]))
    assert np.array_equal(tie["test_error"][start][:3], tie["test_error"][start][3:])
    assert fx.opposite_effects(tie, lazy, feat, 10_000).verdict == "inconclusive"  # lowering alpha: no change
    lower = dict(tab, test_error=np.where(tab["alpha"] < 1, tab["test_error"] - 0.05, tab["test_error"]))
    assert fx.opposite_effects(lower, lazy, feat, 10_000).verdict == "reproduced"  # lower alpha helps, T hurts
    higher = dict(tab, test_error=np.where(tab["alpha"] < 1, tab["test_error"] + 0.05, tab["test_error"]))
    assert fx.opposite_effects(higher, lazy, feat, 10_000).verdict == "not reproduced"


def test_error_at_tc_rule():
    P, grid = np.array([256, 512, 1024, 2048.]), 2.0 ** np.arange(-13, -1)
    tc = 2.0 ** -4 * (P / 256) ** -0.5
    assert fx.error_at_Tc(P, tc, tc * 1.3, grid)[2] == "reproduced"
    assert fx.error_at_Tc(P, tc, tc * 16, grid)[2] == "not reproduced"
    assert fx.error_at_Tc(P[:2], tc[:2], tc[:2], grid)[2] == "inconclusive"  # too few P


def test_stopping_law_is_measured_and_prices_the_plan_below_the_cap():
    """t* = 0.5 T P^0.8 on a lazy table and t* = 2 T^0.5 on a phase table: measure recovers them, and the plan
    priced with it costs less than every run at the cap (and says by how much)."""
    T, P = (g.ravel() for g in np.meshgrid(2.0 ** np.arange(-10, -3), [256.0, 512.0, 1024.0], indexing="ij"))
    lazy = {"T": T, "P": P, "time": 0.5 * T * P ** 0.8, "status": np.array(["fitted"] * len(T))}
    A, T2 = (g.ravel() for g in np.meshgrid([2.0 ** -5, 2.0 ** 11], 2.0 ** np.arange(-10, -3), indexing="ij"))
    phase = {"alpha": A, "T": T2, "P": np.full(len(A), 512.0), "time": 2 * T2 ** 0.5,
             "status": np.array(["fitted"] * len(A))}
    law = sr.stopping.measure(lazy, phase)
    assert law["lazy"]["x"] == pytest.approx(1) and law["lazy"]["b"] == pytest.approx(0.8)
    assert law["phase"]["x"] == pytest.approx([0.5, 0.5]) and law["phase"]["P"] == 512
    assert sr.stopping.phase_time(law, 2.0 ** 3, 2.0 ** -6, 512) == pytest.approx(2 * 2.0 ** -3)
    assert sr.stopping.lazy_time(law, 2.0 ** -20, 256) == pytest.approx(0.5 * 2.0 ** -10 * 256 ** 0.8)  # held
    paper = sr.PRESETS["paper"]
    priced, capped = sr.plan(paper, law=law), sr.plan(paper, law=None)
    for a, b in zip(priced, capped):
        assert a.flops <= b.flops * (1 + 1e-9) and a.runs == b.runs
    fc = next(s for s in priced if s.name.startswith("lazy sweep (FC, mnist)"))
    assert fc.worst_flops > fc.flops and fc.steps < paper.max_steps


def test_reader_formats_powers_of_two_and_never_pm_zero():
    grid = sr.reading.explorer_grid({(2.0 ** a, 2.0 ** t): 0 for a in range(-14, 12) for t in range(-16, -3)})
    assert all(v.startswith("2^") for vals in grid.values() for v in vals) and len(grid["alpha"]) <= 7
    assert sr.reading.from_pow2("2^-14") == 2.0 ** -14
    assert sr.analysis.fmt(0.5, 0.0004) == "0.5000 ± 0.0008" and "± 0.00 " not in sr.analysis.fmt(1.0, 1e-5) + " "


def test_perceptron_rows_have_unique_ids_and_the_summary_basis():
    rows = [(c, P, T, s) for c in (0.0, 1.0) for P in PS for T in QUICK.perc_T for s in range(4)]
    c, P, T, s = (np.array(v, float) for v in zip(*rows))
    rng = np.random.default_rng(0)
    noise = lambda: np.exp(0.05 * rng.standard_normal(len(c)))  # noqa: E731
    tab = {"chi": c, "P": P, "T": T, "seed": s, "w_par": T * P ** (1 / (1 + c)) * noise(), "w_perp": T * noise(),
           "status": np.array(["fitted"] * len(c))}
    pfits = sr.analysis.perceptron_fits(tab, QUICK.perc_fit_T_min, QUICK.perc_fit_P_min, 10)
    claims = sr.claims.perceptron_claims(QUICK, fs.all_local(QUICK, tab), pfits)
    assert len({r.id for r in claims}) == len(claims) == 7 and all(r.basis == "summary" for r in claims)
    assert all(r.verdict == "reproduced" for r in claims), [(r.id, r.verdict, r.ours) for r in claims]
