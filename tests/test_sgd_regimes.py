"""Chapter 2 pieces: config, the released units (and the earlier chapter's, converted), estimators, MNAS, contracts."""
import json
import math
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from paper_repro.core.config import ConfigError
from paper_repro.experiments import sgd_regimes as sr
from paper_repro.experiments.sgd_regimes import analysis as an
from paper_repro.experiments.sgd_regimes.claims import fc_claims
from paper_repro.experiments.sgd_regimes.ensemble import distinct_batches, outputs, stack, train_ensemble
from paper_repro.experiments.sgd_regimes.mnas import largest_activation, mnas
from paper_repro.experiments.sgd_regimes.nets import mlp
from paper_repro.experiments.sgd_regimes.run import EnsembleJob, run_job
from paper_repro.testing import assert_close_dtype, float_tol, mc_tol


@pytest.mark.parametrize("bad, match", [
    (dict(width=0), "width"), (dict(lazy_P=()), "lazy_P"), (dict(perc_chis=(-1.0,)), "perc_chis"),
    (dict(dtype="float16"), "dtype"), (dict(phase_T=(0.1, -1.0)), "phase_T"), (dict(device="tpu"), "device"),
    (dict(lazy_datasets=("svhn",)), "dataset"),
])
def test_config_rejects_bad_values(bad, match):
    with pytest.raises(ConfigError, match=match):
        sr.make_config("smoke", **bad)


def test_paper_preset_uses_the_released_grids():
    p = sr.PRESETS["paper_full"]
    assert p.lazy_P == (1024, 2048, 4096, 8192, 16384) and p.seeds == 5 and p.batch_size == 16
    assert p.lazy_T == tuple(2.0 ** i for i in range(-13, 3)) and p.mnas_T == tuple(2.0 ** i for i in range(-20, 1))
    assert p.phase_alphas == tuple(2.0 ** i for i in range(-14, 12))
    np.testing.assert_allclose(np.array(p.phase_T) * 16 * 128, 2.0 ** np.arange(-15, 16))  # released dt grid
    assert p.lazy_alpha == 32768 and p.width == 128 and p.depth == 5 and p.mnas_width == 64
    small = sr.PRESETS["paper"]  # every sweep and figure; the MNAS grids thinned, inside the released ranges
    assert sr.paper_paths(small) == sr.paper_paths(p) and small.phase_T == p.phase_T and small.lazy_T == p.lazy_T
    for name in ("mnas_T", "mnas_phase_alphas", "mnas_phase_T"):
        got, full = getattr(small, name), getattr(p, name)
        assert set(got) < set(full) and min(got) == min(full) and max(full) / max(got) <= 8
    q = sr.PRESETS["quick"]
    assert min(q.lazy_T) <= 2.0 ** -13 and q.seeds >= 3 and q.n_test >= 10_000


def _old_step_rule(ws, x, y, a, T_old, steps_idx, L):
    """Earlier chapter: readout / sqrt(h), plain ReLU, loss relu(1 - a y dF)/a^2, lr = T_old B (by hand)."""
    ws = [w.clone().requires_grad_(True) for w in ws]

    def f(v):
        for w in ws[:-1]:
            v = torch.relu(v @ w.T / math.sqrt(v.shape[1]))
        return (v @ ws[-1].T / math.sqrt(v.shape[1]))[:, 0]
    f0 = f(x).detach()
    for i in steps_idx:
        loss = (torch.relu(1 - a * y[i] * (f(x[i]) - f0[i])) / a ** 2).mean()
        g = torch.autograd.grad(loss, ws)
        with torch.no_grad():
            for w, gi in zip(ws, g):
                w -= T_old * len(i) * gi
    return [w.detach() for w in ws]


def test_earlier_units_are_the_released_dynamics_with_converted_alpha_and_T():
    """The issue's finding: alpha = 2a and T = T_old / (64 a) at L = 5, h = 128 (here the general formula)."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(40, 6, generator=g, dtype=torch.float64)
    y = torch.sign(x[:, 0])
    h, L, B, a, T_old = 32, 3, 8, 50.0, 4.0
    alpha, T = sr.units.released_units(T_old, a, h, L)
    assert sr.units.released_units(1.0, 1.0) == pytest.approx((2.0, 1 / 64))
    net = mlp(6, h, L, seed=1).double()
    w0 = [p.detach().clone() for p in net.parameters()]
    idx = distinct_batches(torch.Generator().manual_seed(5), 40, 200, B)
    old = _old_step_rule(w0, x, y, a, T_old, idx, L)
    new = train_ensemble([net], x, y, x, y, alpha=alpha, lr=T * h * B, seeds=[5], batch_size=B, max_steps=200,
                         check_every=200, stop_when_fitted=False)
    for p, q in zip(old, new.params.values()):  # float64, 200 steps of sums over the width h (linear rule: 200 h)
        assert_close_dtype(p, q[0], n_reduce=200 * h, growth="linear")
    assert max(float((p - q).norm() / q.norm()) for p, q in zip(old, w0)) > 1e-4  # the weights did move


def test_fit_power_recovers_exponents():
    rng = np.random.default_rng(0)
    T = np.repeat([1.0, 2.0, 4.0, 8.0], 6)
    P = np.tile([256.0, 512.0, 1024.0], 8)
    y = 3 * T ** 0.7 * P ** 0.4 * np.exp(0.02 * rng.standard_normal(len(T)))
    fit = an.fit_power(T, P, y, n_boot=100)
    assert abs(fit.e_T - 0.7) < 4 * fit.err_T and abs(fit.e_P - 0.4) < 4 * fit.err_P  # bootstrap standard errors
    assert 0 < fit.err_T < 0.05
    assert np.isnan(an.fit_power([1.0, 1.0], [1.0, 2.0], [1.0, 2.0]).e_T)  # too few points: NaN, no crash


def _lazy_table(delta=0.8, gamma=0.4, seeds=3, noise=0.0):
    rng = np.random.default_rng(1)
    T = np.tile(np.repeat(2.0 ** np.arange(-13, -1), seeds), 4)
    P = np.repeat([256.0, 512.0, 1024.0, 2048.0], 12 * seeds)
    s = np.tile(np.arange(seeds), 48)
    w = 1e3 * T ** delta * P ** gamma * 1e-4 * np.exp(noise * rng.standard_normal(len(T)))
    err = 0.15 - 0.05 * (w > 0.03) + 0.002 * rng.standard_normal(len(T))
    return {"alpha": np.full(len(T), 2.0 ** 15), "T": T, "P": P, "seed": s, "weight_change": w, "test_error": err,
            "status": np.array(["fitted"] * len(T)), "time": T * P ** 1.2}


def test_crossover_at_a_level_recovers_a_equal_gamma_over_delta():
    tab = _lazy_table()
    cross = an.crossover(tab, 0.03, n_boot=10)
    # noise-free power laws: exact up to float64 rounding of the fits over the table's runs (sqrt rule)
    assert_close_dtype(cross.a, 0.4 / 0.8, n_reduce=len(tab["T"]))
    assert_close_dtype(cross.T_c, (0.03 / (0.1 * cross.P ** 0.4)) ** (1 / 0.8), n_reduce=len(tab["T"]), scale=0)
    assert np.all(cross.T_c_err < 1e-9)  # identical seeds: no scatter
    assert np.all(np.isfinite(cross.onset)) and np.all(cross.onset >= cross.T_c / 2)
    noisy = an.crossover(_lazy_table(noise=0.3), 0.03, n_boot=50)
    assert 0 < noisy.err_a < 0.5


def test_noise_effect_needs_two_standard_errors():
    tab = _lazy_table()
    e = an.noise_effect(tab, 2.0 ** 15, 2048.0, 10_000)
    assert abs(e.effect + 0.05) < 4 * e.err and e.significant and e.verdict == "helps"  # err: its standard error
    flat = dict(tab, test_error=0.15 + 0.01 * np.random.default_rng(0).standard_normal(len(tab["T"])))
    assert an.noise_effect(flat, 2.0 ** 15, 2048.0, 10_000).verdict == "no significant effect"
    hurt = dict(tab, test_error=0.1 + 0.05 * (tab["weight_change"] > 0.03))
    assert an.noise_effect(hurt, 2.0 ** 15, 2048.0, 10_000).verdict == "hurts"


def test_optimal_temperature_slope_and_edges():
    alphas, Ts = 2.0 ** np.arange(-6, 1), 2.0 ** np.arange(-20, 4, 0.5)
    A, T = np.meshgrid(alphas, Ts, indexing="ij")
    err = 0.1 + 0.01 * (np.log(T) + 10 - (2 / 3) * np.log(A)) ** 2
    tab = {"alpha": A.ravel(), "T": T.ravel(), "test_error": err.ravel(), "status": np.array(["fitted"] * A.size)}
    opt = an.optimal_temperature(tab, alpha_max=1.0)
    # not random: T_opt is read on a half-octave grid over 6 octaves of alpha, a slope resolution of ~0.1
    assert opt.k == pytest.approx(2 / 3, abs=0.1) and not opt.at_edge.any()
    edge = {k: v[tab["T"] >= 2.0 ** -8] for k, v in tab.items()}  # every optimum below the grid
    assert an.optimal_temperature(edge).at_edge.all()
    capped = dict(tab, status=np.where(tab["T"] < 2.0 ** -8, "capped", "fitted"))  # optimum hidden by capped runs
    assert an.optimal_temperature(capped).at_edge.all()


def test_optimal_temperature_bounded_by_the_stability_edge():
    """Error falling with T up to divergence at T_div ∝ alpha^(2/3): T_opt is the last stable T, slope 2/3."""
    alphas, Ts = 2.0 ** np.arange(-14, 1, 3), 2.0 ** np.arange(-20, -2, 1.0)
    A, T = np.meshgrid(alphas, Ts, indexing="ij")
    t_div = 2.0 ** -5.5 * A ** (2 / 3)
    tab = {"alpha": A.ravel(), "T": T.ravel(), "test_error": (0.2 - 0.005 * np.log(T)).ravel(),
           "status": np.where(T >= t_div, "diverged", "fitted").ravel()}
    opt = an.optimal_temperature(tab, alpha_max=1.0)
    assert opt.at_stability.all() and not opt.at_edge.any() and opt.n_fit == 5
    # not random: T_opt is the last stable T of a one-octave grid over 12 octaves of alpha (resolution ~0.1)
    assert opt.k == pytest.approx(2 / 3, abs=0.1) and opt.k_div == pytest.approx(2 / 3, abs=0.1)
    assert 0 < opt.err_k < 0.2  # the grid box keeps the error finite even with zero residuals


@pytest.mark.parametrize("t_step", [1.0, 2.0])
def test_stability_bounded_k_interval_covers_the_true_exponent(t_step):
    """On a grid commensurate with 2/3 (T in steps of 1 or 2 octaves, alpha in steps of 3) a staircase of
    bracketed optima must not pass for k = 2/3 when the true exponent differs: k +- 2 err covers the truth."""
    alphas, Ts = 2.0 ** np.arange(-11, 0, 3), 2.0 ** np.arange(-20, -2, t_step)
    A, T = np.meshgrid(alphas, Ts, indexing="ij")
    for k_true in (0.3, 0.4, 0.5, 2 / 3, 0.8, 0.9):
        for offset in np.linspace(0, t_step, 4, endpoint=False):
            t_div = 2.0 ** (-4.3 + offset) * A ** k_true
            tab = {"alpha": A.ravel(), "T": T.ravel(), "test_error": (0.2 - 0.005 * np.log(T)).ravel(),
                   "status": np.where(T >= t_div, "diverged", "fitted").ravel()}
            opt = an.optimal_temperature(tab, alpha_max=1.0)
            slack = float_tol(np.float64, A.size)[1]  # the interval can end exactly at k_true: float64 rounding
            assert abs(opt.k - k_true) <= 2 * opt.err_k + slack, (k_true, offset, opt.k, opt.err_k)


def test_claims_have_sources_and_interval_verdicts():
    cfg = sr.make_config("smoke")
    tab = _lazy_table(noise=0.05)
    cross, fits = an.crossover(tab, 0.03, n_boot=10), an.noise_fits(tab, 2.0 ** -11, n_boot=10)
    eff = an.noise_effect(tab, 2.0 ** 15, 2048.0, 10_000)
    opt = an.OptimalT(alpha=np.array([0.25, 0.5, 1.0]), T_opt=np.array([0.1, 0.2, 0.4]), at_edge=np.zeros(3, bool),
                      at_stability=np.zeros(3, bool), T_div=np.full(3, np.nan), k=1.0, err_k=1.0, k_div=np.nan,
                      err_k_div=np.nan, fitted=np.ones(3, bool))
    opp = sr.effects.opposite_effects(tab, eff, eff, 10_000)
    claims = fc_claims(cfg, {"lazy": eff, "feat": eff, "sweep": eff, "opposite": opp}, opt, cross, fits,
                       (0, 0, "inconclusive"))
    assert all(c.source and c.basis == "abstract" for c in claims)  # the paper's body was not read
    k = next(c for c in claims if c.id == "T_opt_k")
    assert k.verdict == "inconclusive"  # 1.0 ± 2: contains 0 and 1
    assert next(c for c in claims if c.id == "noise_regimes").verdict == "not reproduced"  # same effect in both
    assert next(c for c in claims if c.id == "lazy_a_consistency").beyond


def test_mnas_matches_released_shapes_and_bounded_chunked_outputs():
    net = mnas(3, 4, seed=0)
    convs = [m for m in net.modules() if isinstance(m, sr.mnas.Conv)]
    assert convs[0].weight.shape == (16, 3, 5, 5) and convs[1].weight.shape == (16, 1, 5, 5)
    assert convs[-1].weight.shape == (80, 12, 1, 1) and net[-1].bias is not None
    x = torch.randn(7, 3, 32, 32)
    assert net(x).shape == (7, 1) and torch.isfinite(net(x)).all()
    params, base = stack([mnas(3, 2, seed=s) for s in range(3)])
    full = outputs(params, base, x, chunk=7, member_chunk=3)
    # float32 convolutions in other batch shapes: the longest reduction is over the 3 x 32 x 32 input (sqrt rule)
    assert_close_dtype(outputs(params, base, x, chunk=2, member_chunk=1), full, n_reduce=x[0].numel())
    assert largest_activation((3, 32, 32), 64) >= 6 * 64 * 16 * 16
    peak = [p for p in sr.plan(sr.PRESETS["paper"]) if "MNAS" in p.name]
    assert peak and all(p.peak_bytes < 40e9 for p in peak)  # fits one large GPU


def test_contracts_paths_plan_and_shrink():
    paper = sr.PRESETS["paper"]
    paths = sr.paper_paths(paper)
    assert ("mnas", "cifar10", "lazy_sweep") in paths and ("fc_gelu", "mnist", "phase_diagram") in paths
    assert set(sr.datasets(paper)) == {"mnist", "cifar10"}
    small = sr.shrink(paper)
    assert sr.paper_paths(small) == paths and small.lazy_T == paper.lazy_T and small.phase_alphas == paper.phase_alphas
    assert small.max_steps <= 2 and small.width <= 4 and len(small.lazy_P) == len(paper.lazy_P)
    assert all(p.runs > 0 and p.peak_bytes > 0 for p in sr.plan(paper))


@pytest.fixture
def mnist_available():
    from paper_repro.core import fetch
    try:
        sr.load_binary("mnist", 8, 8)
    except (fetch.DataError, OSError) as exc:  # no network and no local copy
        pytest.skip(f"MNIST not available: {exc}")


def test_released_mnist_normalisation(mnist_available):
    x, y, xt, yt = sr.load_binary("mnist", 512, 64, dtype="float64")
    # unit variance per pixel over the 60,000 training images: these 512 are within four standard errors of it
    assert x.shape == (512, 784) and abs(float((x ** 2).mean()) - 1) < mc_tol((x ** 2).mean(1))
    assert set(y.unique().tolist()) == {-1.0, 1.0} and len(yt) == 64


def test_run_job_in_paper_units(mnist_available):
    job = EnsembleJob(members=((1.0, 2.0 ** -9, 32, 0), (2.0 ** 15, 2.0 ** -2 * 64, 16, 1)), dataset="mnist",
                      arch="fc", width=8, depth=2, activation="relu", batch_size=4, n_test=32, dtype="float64",
                      device="cpu", max_steps=300, check_every=50)
    out = run_job(job)
    assert len(out["status"]) == 2 and set(out["status"]) <= {"fitted", "capped", "diverged"}
    assert out["time"][0] == pytest.approx(out["steps"][0] * 2.0 ** -9 * 8 * 4)  # t* = steps x dt, dt = T h B


MNAS_PEAK = textwrap.dedent('''
    import dataclasses, json, torch
    torch.set_num_threads(1)
    from paper_repro.testing import peak_rss, reset_peak_rss
    from paper_repro.experiments.sgd_regimes.ensemble import outputs, stack
    from paper_repro.experiments import sgd_regimes as sr
    from paper_repro.experiments.sgd_regimes.mnas import mnas
    from paper_repro.experiments.sgd_regimes.plan import mnas_peak_bytes
    h, k = 8, 4
    cfg = dataclasses.replace(sr.PRESETS["paper"], member_chunk=4, eval_chunk=512, members_per_job=k)
    params, base = stack([mnas(3, h, seed=s) for s in range(k)])
    x = torch.randn(1024, 3, 32, 32)
    outputs(params, base, x[:8], chunk=4, member_chunk=2)  # kernels and allocator warm, before the baseline
    before = reset_peak_rss()
    outputs(params, base, x, chunk=cfg.eval_chunk, member_chunk=cfg.member_chunk)
    peak = peak_rss()
    n = sum(p[0].numel() for p in params.values())
    print(json.dumps({"planned": mnas_peak_bytes(cfg, (3, 32, 32), h, n), "measured": peak - before}))
''')


def test_mnas_planned_peak_matches_a_measured_chunked_evaluation(tmp_path):
    """The plan's MNAS peak (chunked evaluation) against the resident-memory growth of one CPU evaluation."""
    script = tmp_path / "peak.py"
    script.write_text(MNAS_PEAK)
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["planned"] > 2e8, "large enough for the resident memory to resolve it"
    assert 0.6 <= got["measured"] / got["planned"] <= 1.5, got


def test_full_grid_parameter_selects_the_released_grid():
    """`-p full_grid True` with the paper profile runs the paper_full preset (every released cell); the paper
    preset thins the MNAS grids within the same ranges."""
    from paper_repro.pipeline import chapters

    params = {p.name: p.default for p in chapters.find_chapter("sgd_regimes").parameters()}
    assert params["full_grid"] is False
    src = chapters.find_chapter("sgd_regimes").path.read_text()
    assert 'sr.make_config("paper_full" if full_grid and profile == "paper" else profile' in src
    full, thin = sr.make_config("paper_full"), sr.make_config("paper")
    assert len(full.mnas_T) > len(thin.mnas_T) and full.profile == "paper_full"
