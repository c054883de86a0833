"""Chapter 4 experiment pieces: config validation, minibatch tricks against naive loops, synthetic checks."""
import types

import numpy as np
import pytest
import torch

from paper_repro.config import ConfigError
from paper_repro.experiments import gradient_structure as gs
from paper_repro.experiments import gradient_structure_report as gsr
from paper_repro.experiments import gradient_structure_subspace as gsub
from paper_repro.experiments import gradient_structure_synthetic as gss
from paper_repro.gradients import gram


@pytest.mark.parametrize("bad", [{"datasets": ("svhn",)}, {"models": ("resnet",)}, {"top_k": 5000},
                                 {"stages": (0.0, 1.5)}, {"lr": 0.0}, {"device": "tpu"}, {"n_batches": 0},
                                 {"test_batch_sizes": (16, 4000)}])
def test_config_rejects_bad_values(bad):
    with pytest.raises(ConfigError):
        gs.make_config("smoke", **bad)


def test_profiles_validate_and_unknown_profile_fails():
    for p in ("smoke", "quick", "paper"):
        assert gs.make_config(p).profile == p
    with pytest.raises(ConfigError, match="profile"):
        gs.make_config("huge")


def test_minibatch_means_match_naive_loop():
    values = torch.randn(50, 3, dtype=torch.float64)
    got = gs.minibatch_means(values, batch_size=7, n_batches=20, seed=3)
    idx = gs.batch_indices(50, 7, 20, seed=3)
    naive = torch.stack([values[i].mean(0) for i in idx])
    torch.testing.assert_close(got, naive)


def test_minibatch_spectrum_matches_explicit_covariance():
    g = torch.randn(40, 15, dtype=torch.float64) * torch.arange(1, 16) ** -1.0
    k = g @ g.T
    got = gs.minibatch_spectrum(k, batch_size=5, n_batches=12, seed=1)
    idx = gs.batch_indices(40, 5, 12, seed=1)
    mb = torch.stack([g[i].mean(0) for i in idx])
    mb = mb - mb.mean(0)
    ref = torch.linalg.eigvalsh(mb.T @ mb / 12).flip(0)
    torch.testing.assert_close(got[:12], ref[:12], atol=1e-10, rtol=1e-8)


def test_pass_fraction_separates_gaussian_from_pareto_columns():
    rng = np.random.default_rng(0)
    gauss = torch.tensor(rng.standard_normal((5000, 20)))
    pareto = torch.tensor((1 - rng.random((5000, 20))) ** (-1 / 1.5))
    assert gs.pass_fraction(gauss, 0.2)[0] <= 0.1
    assert gs.pass_fraction(pareto, 0.2)[0] >= 0.8
    dead = torch.zeros(100, 2, dtype=torch.float64)  # untestable columns are skipped
    assert np.isnan(gs.pass_fraction(dead, 0.2)[0])


def test_mechanism_recovers_one_plus_two_over_s():
    m = gss.mechanism(s_values=(1.0, 2.0), n_coords=50_000, n_iter=2000, n_test=10, seed=0)
    np.testing.assert_allclose(m.beta_fit, m.beta_predicted, atol=0.15)
    assert max(m.iter_pass) <= 0.2  # each coordinate alone is Gaussian


def test_free_rule_accepts_gaussians_fixed_tail_does_not():
    acc = gss.acceptance_rates("gaussian", (5000,), n_rep=10, seed=0, max_candidates=300)
    assert acc.rates["free"][0] >= 0.7 and acc.rates["top20"][0] <= 0.1


def test_analyze_checkpoint_on_a_tiny_model():
    cfg = gs.make_config("smoke", models=("fcn",), fcn_widths=(8,), n_train=300, n_spectrum=120, top_k=60,
                         n_batches=200, n_coords=12, test_batch_sizes=(4, 16), device="cpu")
    torch.manual_seed(0)
    data = types.SimpleNamespace(x=torch.rand(300, 1, 28, 28), y=torch.randint(0, 10, (300,)))
    model = gs.build_model("fcn", cfg)
    c = gs.analyze_checkpoint(model, data, cfg, step=0, dataset="mnist", name="fcn")
    assert c.dim_grad_top.n_tail == 60 and len(c.iter_pass_grad) == 2 and len(c.minibatch_s) == 2
    assert len(c.arrays["eigenvalues"]) == 120 and np.all(np.diff(c.arrays["eigenvalues"]) <= 1e-12)
    assert c.spec_fit.n_tail == 60 and c.row()["setting"] == "mnist/fcn@0"
    assert c.subspace.ks == (1, 2, 5, 10, 20, 50) and all(0 <= v <= 1 for v in c.subspace.sin_theta)
    assert all(s <= b + 1e-9 for s, b in zip(c.subspace.sin_theta, c.subspace.dk_bound)) and "sub_sin_k1" in c.row()


def test_iteration_verdict_accounts_for_test_power():
    assert gsr._iter_verdict(0.05, 0.04) == "reproduced"
    assert gsr._iter_verdict(0.85, 0.9) == "partly"  # the test cannot tell Gaussians apart at this n
    assert gsr._iter_verdict(0.9, 0.05) == "not reproduced"


def test_table_formats_rows():
    out = gsr.table([{"a": 1.23456, "b": "x"}, {"a": 2.0, "b": "yy"}])
    assert out.splitlines()[0].split() == ["a", "b"] and "1.23" in out


def _spiked_rows(n, p, spikes, seed):
    """n Gaussian rows in R^p with covariance diag(spikes, 1, ..., 1) in a random orthonormal basis."""
    rng = np.random.default_rng(seed)
    scale = np.ones(p)
    scale[: len(spikes)] = np.sqrt(spikes)
    basis = np.linalg.qr(rng.standard_normal((p, p)))[0]
    return (rng.standard_normal((n, p)) * scale) @ basis.T


@pytest.mark.parametrize("dense_below", [0, 300])  # Lanczos and dense routes to ||E||_op
def test_subspace_stability_matches_dense_covariances(dense_below):
    from scipy.linalg import subspace_angles

    rows = _spiked_rows(40, 30, [20.0, 8.0, 4.0], seed=1) * np.linspace(0.5, 2.0, 30)
    a, b = rows[:20], rows[20:]
    got = gsub.subspace_stability(torch.tensor(a), b, ks=(1, 2, 5, 10), dense_below=dense_below)
    cov = [(x - x.mean(0)).T @ (x - x.mean(0)) / len(x) for x in (a, b)]
    e = cov[0] - cov[1]
    np.testing.assert_allclose(got.e_op, np.abs(np.linalg.eigvalsh(e)).max(), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(got.e_fro, np.linalg.norm(e, "fro"), rtol=1e-8, atol=1e-10)
    (la, va), (_, vb) = (np.linalg.eigh(c) for c in cov)
    la, va, vb = la[::-1], va[:, ::-1], vb[:, ::-1]
    for k, s, bound, gap in zip(got.ks, got.sin_theta, got.dk_bound, got.rel_gap):
        np.testing.assert_allclose(s, np.sin(subspace_angles(va[:, :k], vb[:, :k]).max()), atol=1e-8)
        np.testing.assert_allclose(gap, (la[k - 1] - la[k]) / la[k - 1], rtol=1e-8)
        ref = 2 * min(np.sqrt(k) * np.abs(np.linalg.eigvalsh(e)).max(), np.linalg.norm(e, "fro")) / (la[k - 1] - la[k])
        np.testing.assert_allclose(bound, ref, rtol=1e-8)


def test_subspace_sin_theta_never_exceeds_davis_kahan_bound():
    for seed in range(5):
        rows = _spiked_rows(400, 80, [50.0, 20.0, 10.0, 5.0, 3.0], seed=seed)
        got = gsub.subspace_stability(rows[:200], rows[200:], ks=(1, 2, 3, 5, 10, 20))
        assert all(s <= b + 1e-12 for s, b in zip(got.sin_theta, got.dk_bound)), (got.sin_theta, got.dk_bound)


def test_subspace_large_gap_gives_stable_top_direction_and_split_gram_route_agrees():
    rows = _spiked_rows(600, 50, [400.0], seed=2)
    got = gsub.subspace_stability(rows[:300], rows[300:], ks=(1, 5))
    assert got.sin_theta[0] < 0.2 and got.rel_gap[0] > 0.9 and got.sin_theta[1] > got.sin_theta[0]
    g = torch.tensor(rows)
    perm = np.random.default_rng(7).permutation(600)
    via_gram = gsub.split_stability(gram(g, center=True), seed=7, ks=(1, 5))  # the route of analyze_checkpoint
    direct = gsub.subspace_stability(rows[perm[:300]], rows[perm[300:]], ks=(1, 5))
    np.testing.assert_allclose(via_gram.sin_theta, direct.sin_theta, atol=1e-8)
    np.testing.assert_allclose([via_gram.e_op, via_gram.e_fro], [direct.e_op, direct.e_fro], rtol=1e-8)


def test_reading_helpers_compute_the_quoted_values():
    assert gsr._span([3.0, float("nan"), 1.234]) == "1.23–3.00" and gsr._span([2, 2], "d") == "2"
    assert gsr._span([float("nan")]) == "n/a"
    acc = gss.AcceptanceResult("gaussian", (300, 3000), {"free": (0.9, 1.0), "top20": (0.8, 0.0)})
    mech = gss.MechanismResult(s=(0.5, 1.0), beta_fit=(5.2, 3.05), beta_predicted=(5.0, 3.0), iter_pass=(0.0, 0.02),
                               n_coords=10)
    got = gsr.synthetic_reading(acc, mech)
    assert got["accept_free_n_max"] == 1.0 and got["accept_top20_n_min"] == 0.8 and got["accept_n_max"] == 3000
    assert got["mech_s"] == 1.0 and got["mech_beta_fit"] == 3.05 and got["mech_iter_pass"] == 0.02


def test_mechanism_reading_counts_checkpoints_within_tolerance():
    ns = types.SimpleNamespace
    cps = [ns(label=f"c{i}", dim_noise=ns(beta=b), var_fit=ns(beta=v)) for i, (b, v) in
           enumerate([(3.0, 2.05), (3.0, 2.5), (4.0, 2.0)])]  # gaps 0.1, 1.0, 1.0
    got = gsr.mechanism_reading(ns(checkpoints=cps))
    assert got["mech_real_close"] == "c0" and got["mech_real_frac"] == 1 / 3 and got["mech_real_gap"] == 1.0
    assert got["mech_real_word"] == "accounts for part of"
