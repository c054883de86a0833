"""Chapter 4 experiment pieces: config validation, minibatch tricks against naive loops, synthetic checks."""
import types

import numpy as np
import pytest
import torch

from paper_repro.core.config import ConfigError
from paper_repro.core.gradients import gram, per_sample_grads
from paper_repro.experiments import gradient_structure as gs
from paper_repro.experiments.gradient_structure import claims as gsc
from paper_repro.experiments.gradient_structure import reading as gsr
from paper_repro.experiments.gradient_structure import recipe as grec
from paper_repro.experiments.gradient_structure import run as grun
from paper_repro.experiments.gradient_structure import spectrum as gspec
from paper_repro.experiments.gradient_structure import subspace as gsub
from paper_repro.experiments.gradient_structure import synthetic as gss
from paper_repro.testing import assert_close_dtype


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """Small problems: one thread (two contended threads busy-wait on a loaded machine, 10-100x slower)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize("bad", [{"datasets": ("svhn",)}, {"models": ("resnet",)}, {"n_spectrum": 5000},
                                 {"stages": (0.0, 1.5)}, {"lr": 0.0}, {"device": "tpu"}, {"n_batches": 0},
                                 {"test_batch_sizes": (16, 4000)}, {"spectrum_stages": (0.3,)}])
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
    got = gspec.minibatch_means(values, batch_size=7, n_batches=20, seed=3)
    idx = gspec.batch_indices(50, 7, 20, seed=3)
    naive = torch.stack([values[i].mean(0) for i in idx])
    torch.testing.assert_close(got, naive)


def test_minibatch_spectrum_matches_explicit_covariance():
    g = torch.randn(40, 15, dtype=torch.float64) * torch.arange(1, 16) ** -1.0
    k = g @ g.T
    got = gspec.minibatch_spectrum(k, batch_size=5, n_batches=12, seed=1)
    idx = gspec.batch_indices(40, 5, 12, seed=1)
    mb = torch.stack([g[i].mean(0) for i in idx])
    mb = mb - mb.mean(0)
    ref = torch.linalg.eigvalsh(mb.T @ mb / 12).flip(0)
    # eigenvalues (float64): backward-stable eigensolvers are exact for a matrix off by ~n eps ||C|| (linear in the
    # size n = 15), so by Weyl each eigenvalue is off by that much in absolute terms (scale: the largest eigenvalue)
    assert_close_dtype(got[:12], ref[:12], n_reduce=15, growth="linear")


def test_pass_fraction_separates_gaussian_from_pareto_columns():
    rng = np.random.default_rng(0)
    gauss = torch.tensor(rng.standard_normal((5000, 20)))
    pareto = torch.tensor((1 - rng.random((5000, 20))) ** (-1 / 1.5))
    assert grun.pass_fraction(gauss, 0.2)[0] <= 0.1
    assert grun.pass_fraction(pareto, 0.2)[0] >= 0.8
    dead = torch.zeros(100, 2, dtype=torch.float64)  # untestable columns are skipped
    assert np.isnan(grun.pass_fraction(dead, 0.2)[0])


def test_mechanism_recovers_one_plus_two_over_s():
    m = gss.mechanism(s_values=(1.0, 2.0), n_coords=50_000, n_iter=2000, n_test=10, seed=0)
    # four standard errors (beta - 1) / sqrt(n_tail) of each fit; measured: within 1.7
    assert np.all(np.abs(np.subtract(m.beta_fit, m.beta_predicted)) < 4 * np.array(m.beta_sigma)), m
    assert max(m.iter_pass) <= 0.2  # each coordinate alone is Gaussian


def test_free_rule_accepts_gaussians_fixed_tail_does_not():
    acc = gss.acceptance_rates("gaussian", (5000,), n_rep=10, seed=0, max_candidates=300)
    assert acc.rates["free"][0] >= 0.7 and acc.rates["top20"][0] <= 0.1


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
    # float64 eigenproblems of size n = 40 (the Gram route) against 30 x 30 covariances: errors ~ n eps ||C|| (linear
    # rule); eigenvalues relative to the largest, eigenvectors (sin theta) relative to ||C|| / gap (Davis-Kahan)
    tol = dict(n_reduce=40, growth="linear")
    assert_close_dtype(got.e_op, np.abs(np.linalg.eigvalsh(e)).max(), **tol)
    assert_close_dtype(got.e_fro, np.linalg.norm(e, "fro"), **tol)
    (la, va), (_, vb) = (np.linalg.eigh(c) for c in cov)
    la, va, vb = la[::-1], va[:, ::-1], vb[:, ::-1]
    for k, s, bound, gap in zip(got.ks, got.sin_theta, got.dk_bound, got.rel_gap):
        amp = la[0] / (la[k - 1] - la[k])  # condition of the top-k eigenspace
        assert_close_dtype(s, np.sin(subspace_angles(va[:, :k], vb[:, :k]).max()), scale=amp, **tol)
        assert_close_dtype(gap, (la[k - 1] - la[k]) / la[k - 1], scale=la[0] / la[k - 1], **tol)
        ref = 2 * min(np.sqrt(k) * np.abs(np.linalg.eigvalsh(e)).max(), np.linalg.norm(e, "fro")) / (la[k - 1] - la[k])
        assert_close_dtype(bound, ref, scale=ref * amp, **tol)


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
    # float64, a 600 x 600 Gram against 300 x 50 rows: n eps (linear, n = 600) relative to ||C||, and to ||C|| / gap for
    # the eigenvectors (1 / rel_gap stands for it; measured: 116 eps at k = 1)
    for s, ref, gap in zip(via_gram.sin_theta, direct.sin_theta, direct.rel_gap):
        assert_close_dtype(s, ref, n_reduce=600, growth="linear", scale=1 / gap)
    assert_close_dtype([via_gram.e_op, via_gram.e_fro], [direct.e_op, direct.e_fro], n_reduce=600, growth="linear")


def test_mechanism_reading_counts_checkpoints_within_tolerance():
    ns = types.SimpleNamespace
    cps = [ns(label=f"c{i}", noise_free=ns(beta=b), var_fit=ns(beta=v)) for i, (b, v) in
           enumerate([(3.0, 2.05), (3.0, 2.5), (4.0, 2.0)])]  # gaps 0.1, 1.0, 1.0
    got = gsr.mechanism_reading(ns(checkpoints=cps))
    assert got["mech_real_frac"] == pytest.approx(1 / 3) and got["mech_real_gap"] == 1.0


def test_majority_verdict_respects_uncertainty():
    assert gsc.majority_verdict(0.9, 0.05) == "reproduced"
    assert gsc.majority_verdict(0.6, 0.1) == "inconclusive"  # interval contains 1/2
    assert gsc.majority_verdict(0.1, 0.05) == "not reproduced"
    p, se, n = gsc.rate([1, 1, 0, 1])
    assert (p, n) == (0.75, 4) and se == pytest.approx(np.sqrt(0.75 * 0.25 / 4))


def test_per_pixel_normalisation_and_schedule():
    x = torch.rand(50, 1, 4, 4) * torch.linspace(0.1, 3, 16).reshape(1, 1, 4, 4)
    data = grec.Dataset(x=x, y=torch.zeros(50, dtype=torch.long), name="mnist", classes=10)
    z = grec.normalise_per_pixel(data).x
    # float32 sums over the 50 samples (sqrt rule), errors relative to the size of the normalised values
    assert_close_dtype(z.mean(0), torch.zeros(1, 4, 4), n_reduce=50, scale=float(z.abs().max()))
    assert_close_dtype(z.std(0), torch.ones(1, 4, 4), n_reduce=50, scale=float(z.abs().max()))
    lrs = [grec.lr_at(t, 100, 0.1) for t in (0, 39, 40, 79, 80, 99)]
    np.testing.assert_allclose(lrs, [0.1, 0.1, 0.01, 0.01, 0.001, 0.001])


def test_training_uses_momentum_weight_decay_and_visits_every_stage():
    cfg = gs.make_config("smoke", n_train=256, n_spectrum=200, epochs=2, stages=(0.0, 0.5, 1.0), spectrum_stages=(0.0,))
    data = grec.Dataset(x=torch.randn(256, 1, 28, 28), y=torch.randint(0, 10, (256,)), name="mnist", classes=10)
    model = grec.build_model("fcn", data, (8,))
    seen = []
    out = grec.train_with_checkpoints(model, data, cfg, 128, lambda step, m: seen.append((step, m.training)))
    assert seen == [(0, False), (2, False), (4, False)] and out["steps"] == 4 and not out["diverged"]
    # one step by hand: momentum buffer starts at the gradient plus weight decay, lr 0.1 before the first milestone
    torch.manual_seed(0)
    a, b = grec.build_model("fcn", data, (8,)), grec.build_model("fcn", data, (8,))
    cfg1 = gs.make_config("smoke", n_train=256, n_spectrum=200, epochs=1, stages=(1.0,), spectrum_stages=(1.0,),
                          milestones=(1.0,))
    grec.train_with_checkpoints(a, data, cfg1, 256, lambda *_: None)
    loss = torch.nn.functional.cross_entropy(b(data.x), data.y)
    grads = torch.autograd.grad(loss, list(b.parameters()))
    for pa, pb, g in zip(a.parameters(), b.parameters(), grads):
        # float32, one step: the gradients of two runs differ by the roundings of the 784-long fan-in (sqrt rule),
        # norm-wise relative to the weights (a missing weight decay term would be 5e-5 |p|, 4x the tolerance)
        assert_close_dtype(pa, pb.detach() - 0.1 * (g + 5e-4 * pb.detach()), n_reduce=784)


@pytest.mark.parametrize("name", ["fcn", "lenet", "resnet18"])
def test_gram_by_blocks_equals_dense_per_sample_gram(name):
    data = grec.Dataset(x=torch.randn(12, 3, 32, 32), y=torch.randint(0, 10, (12,)), name="cifar10", classes=10)
    model = grec.build_model(name, data, (16, 8), resnet_width=2).eval()
    g = per_sample_grads(model, torch.nn.functional.cross_entropy, data.x, data.y)
    budget = 4 * 12 * (g.shape[1] // 6)  # blocks of P/6 parameters: the largest tensors split, small ones grouped
    coords = torch.tensor([0, 5, g.shape[1] - 1, g.shape[1] // 2])
    parts = gspec.gram_by_blocks(model, data.x, data.y, budget, coords)
    blocks = gspec.param_blocks(model, 12, budget)
    assert len(blocks) > 3 and any(len(b) > 1 for b in blocks) and any(b[0][1] > 0 for b in blocks)
    # float32 gradients along two reduction orders (blocks against one vmap): the longest reduction of a gradient is
    # the 3072-long input (fan-in of the FCN, the 32 x 32 positions x 3 channels of a conv weight's gradient); the Gram
    # and its eigenvalues add the sum over the P parameters. Norm-wise (scale: the largest |value|): an element that
    # cancels keeps the error of its terms (one of 48 coordinates was off by 5.1e-5 relative on an AMD EPYC, and is
    # here with MKL's and ATen's AVX2 kernels). Measured: at most 2.5 eps x scale; tolerances 4 eps sqrt(n) >= 220 eps
    f32 = dict(dtype=torch.float32)
    assert_close_dtype(parts.k, g.double() @ g.double().T, n_reduce=g.shape[1], **f32)
    assert_close_dtype(parts.var, g.double().var(0, unbiased=False), n_reduce=data.x[0].numel(), **f32)
    assert_close_dtype(parts.coords, g[:, coords.sort()[0]], n_reduce=data.x[0].numel(), **f32)
    ev = gspec.centred_eigenvalues(parts.k)
    gc = (g - g.mean(0)).double()
    ref = (torch.linalg.svdvals(gc) ** 2 / 12)[:11].numpy()  # eigenvalues of the P x P covariance gc^T gc / n
    assert_close_dtype(ev[:11], ref, n_reduce=g.shape[1], **f32)  # Weyl: errors relative to the largest eigenvalue


def test_resolved_spectrum_fit_recovers_s_and_scans_past_n_over_10():
    ev = np.arange(1, 2001) ** -1.5
    fit = gspec.fit_resolved_spectrum(ev, n=2000)
    assert fit.k_max == 200 and fit.ks[:3] == (50, 100, 200) and max(fit.ks) > 200
    assert abs(fit.s - 1.5) < 0.15 and fit.s_spread < 0.2 and fit.fit.n_tail == 200


def test_finite_sample_spectrum_is_stable_within_the_resolved_range():
    """A true power law lambda_k ~ k^-1 sampled with n << P: within k <= n/10 the fitted s barely moves with k."""
    rng = np.random.default_rng(0)
    p, n = 3000, 600
    x = rng.standard_normal((n, p)) * np.arange(1, p + 1) ** -0.5
    ev = np.sort(np.linalg.eigvalsh(x @ x.T / n))[::-1]  # non-zero spectrum of the n-sample covariance
    fit = gspec.fit_resolved_spectrum(ev, n=n)
    assert abs(fit.s - 1.0) < 0.25 and fit.s_spread < 0.1


def test_shrink_keeps_the_grid_and_paper_paths_cover_cifar_resnet_and_batch_sweep():
    paper = gs.make_config("paper")
    tiny = gs.shrink(paper)
    assert gs.settings(tiny) == gs.settings(paper) and tiny.stages == paper.stages
    paths = gs.paper_paths(paper)
    assert ("resnet18", "cifar10", "spectrum") in paths and ("lenet", "cifar100", "dimension_wise") in paths
    assert ("lenet", "mnist", "spectrum@B1024") in paths and ("fcn", "fashion_mnist", "iteration_wise") in paths
    assert gs.datasets(paper) == ("mnist", "fashion_mnist", "cifar10", "cifar100")
    plans = gs.plan(paper)
    assert {p.name for p in plans} == {"LeNet / FCN", "ResNet18", "batch-size sweep"}
    assert all(p.flops > 0 and p.peak_bytes > 0 for p in plans)
    assert next(p for p in plans if p.name == "ResNet18").params > 11_000_000


def test_paper_paths_run_at_tiny_size_on_cifar_with_resnet(tmp_path, monkeypatch):
    from paper_repro.testing import tiny_data_root

    for k, v in tiny_data_root(tmp_path / "data").items():
        monkeypatch.setenv(k, v)
    cfg = gs.shrink(gs.make_config("paper", device="cpu"))
    # tiny files: 320 CIFAR-10 and 64 CIFAR-100 training images; on the latter B = 128 is capped at 64
    for d, m, b, n_data in [("cifar10", "resnet18", 128, 320), ("cifar100", "lenet", 128, 64)]:
        rec = grun.run_setting(grun.RunSpec(cfg, d, m, b))
        cps = [grun.checkpoint_from_record(c) for c in rec["checkpoints"]]
        assert rec["batch_used"] == min(b, n_data) and rec["steps"] == n_data // rec["batch_used"]
        assert [c.step for c in cps] == rec["stage_steps"] == sorted({round(f * rec["steps"]) for f in cfg.stages})
        n = min(cfg.n_spectrum, n_data)
        assert all(c.spectrum is not None and c.spectrum.n == n for c in cps)
        assert cps[-1].spectrum.k_max == max(4, n // 10) and all(c.batch_size == b for c in cps)
        assert all(0 <= c.dim_pass_rate <= 1 and len(c.dim_betas) == cfg.n_draws for c in cps)
        assert all(np.isfinite(c.var_fit.beta) and c.subspace is not None for c in cps)
