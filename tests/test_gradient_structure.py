"""Chapter 4 experiment pieces: config validation, minibatch tricks against naive loops, synthetic checks."""
import types

import numpy as np
import pytest
import torch

from paper_repro.config import ConfigError
from paper_repro.experiments import gradient_structure as gs
from paper_repro.experiments import gradient_structure_report as gsr
from paper_repro.experiments import gradient_structure_synthetic as gss


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


def test_iteration_verdict_accounts_for_test_power():
    assert gsr._iter_verdict(0.05, 0.04) == "reproduced"
    assert gsr._iter_verdict(0.85, 0.9) == "partly"  # the test cannot tell Gaussians apart at this n
    assert gsr._iter_verdict(0.9, 0.05) == "not reproduced"


def test_table_formats_rows():
    out = gsr.table([{"a": 1.23456, "b": "x"}, {"a": 2.0, "b": "yy"}])
    assert out.splitlines()[0].split() == ["a", "b"] and "1.23" in out
