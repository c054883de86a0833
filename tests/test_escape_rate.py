"""Escape-rate chapter: per-sample noise strength against naive loops, the paper's loss/init, slope fits, config."""
import dataclasses

import numpy as np
import pytest
import torch
from torch import nn

from paper_repro.core import gradients, models
from paper_repro.core.config import ConfigError
from paper_repro.experiments import escape_rate as er
from paper_repro.experiments.escape_rate import claims as ec
from paper_repro.experiments.escape_rate import decoupling as ed
from paper_repro.experiments.escape_rate import linear_sgd as ls
from paper_repro.experiments.escape_rate import noise_strength as ns
from paper_repro.experiments.escape_rate import reading as et
from paper_repro.experiments.escape_rate import run as erun
from paper_repro.testing import assert_close_dtype


def _naive_grads(model, loss_of_sample, n):
    rows = []
    for i in range(n):
        model.zero_grad()
        loss_of_sample(i).backward()
        rows.append(torch.cat([p.grad.reshape(-1) for p in model.parameters()]))
    return torch.stack(rows)


@pytest.mark.parametrize("bias", [False, True])
def test_ntk_gram_equals_jacobian_gram(bias):
    torch.manual_seed(0)
    model = models.mlp(12, [9, 7], 1, bias=bias, init="glorot", activation="tanh").double()
    x = torch.randn(15, 12, dtype=torch.float64)
    jac = _naive_grads(model, lambda i: model(x[i:i + 1]).sum(), len(x))
    assert_close_dtype(ed.ntk_gram(model, x), jac @ jac.T, n_reduce=jac.shape[1])  # float64, sums over the P params


def test_ntk_gram_falls_back_for_cnn():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 4 * 4, 1)).double()
    assert not ed.is_plain_mlp(model)
    x = torch.randn(5, 1, 6, 6, dtype=torch.float64)
    jac = _naive_grads(model, lambda i: model(x[i:i + 1]).sum(), len(x))
    assert_close_dtype(ed.ntk_gram(model, x), jac @ jac.T, n_reduce=jac.shape[1])  # float64, sums over the P params


def test_decoupling_spectrum_matches_parameter_space_matrices():
    torch.manual_seed(3)
    model = models.mlp(6, [5], 1, bias=True, init="glorot").double()
    x, y = torch.randn(40, 6, dtype=torch.float64), torch.sign(torch.randn(40, dtype=torch.float64))
    s = ed.decoupling_spectrum(model.float(), x.float(), y.float(), epoch=0, top=5)
    model = model.double()
    jac = _naive_grads(model, lambda i: model(x[i:i + 1]).sum(), len(x))
    ell = 0.5 * (model(x).reshape(-1) - y).detach() ** 2
    exact = jac.T @ (ell[:, None] * jac) / len(x)
    dec = ell.mean() * jac.T @ jac / len(x)
    # s ran in float32 (sums over the 40 samples and the 41 parameters), the reference in float64 from the same
    # weights: eigenvalues off by n eps relative to the largest (Weyl; linear rule for the eigensolver, n = 41)
    f32 = dict(dtype=torch.float32, n_reduce=41, growth="linear")
    assert_close_dtype(s.exact[:10], torch.linalg.eigvalsh(exact).flip(0)[:10], **f32)
    assert_close_dtype(s.decoupled[:10], torch.linalg.eigvalsh(dec).flip(0)[:10], **f32)
    frob = float(torch.linalg.norm(exact - dec) / torch.linalg.norm(exact))
    assert_close_dtype(s.frobenius_error, frob, scale=1.0, **f32)  # a difference relative to ||exact||: absolute


def test_half_sq_is_the_papers_loss():
    out, y = torch.randn(7, 10), torch.nn.functional.one_hot(torch.arange(7) % 10, 10).float()
    naive = sum(0.5 * ((out[i] - y[i]) ** 2).sum() for i in range(7)) / 7
    assert_close_dtype(float(ns.half_sq(out, y)), float(naive), dtype=torch.float32, n_reduce=out.numel())
    assert not hasattr(ns, "mse")  # one meaning of "MSE" only


def test_noise_strength_equals_naive_per_sample_loop():
    torch.manual_seed(2)
    model = models.mlp(10, [8, 8], 3, bias=True).double()
    x, y = torch.randn(23, 10, dtype=torch.float64), torch.randn(23, 3, dtype=torch.float64)
    g = _naive_grads(model, lambda i: ns.half_sq(model(x[i:i + 1]), y[i:i + 1]), len(x))
    naive = float((g * g).sum(1).mean() - g.mean(0).pow(2).sum())
    # E|g|^2 - |E g|^2 cancels: errors relative to E|g|^2, over the N x P summed terms (float64, sqrt rule)
    got = ns.noise_strength(model, ns.half_sq, x, y, chunk_size=7)
    assert_close_dtype(got, naive, n_reduce=g.numel(), scale=float((g * g).sum(1).mean()))
    cnn = nn.Sequential(nn.Unflatten(1, (1, 10)), nn.Conv1d(1, 2, 3), nn.Flatten(), nn.Linear(16, 3))
    xf, yf = x.float(), y.float()
    g = gradients.per_sample_grads(cnn, ns.half_sq, xf, yf).double()
    naive = float((g * g).sum(1).mean() - g.mean(0).pow(2).sum())
    got = ns.noise_strength(cnn, ns.half_sq, xf, yf, chunk_size=5)  # float32 now, the reference float64 from its g
    assert_close_dtype(got, naive, dtype=torch.float32, n_reduce=g.numel(), scale=float((g * g).sum(1).mean()))


def test_cnn_chunk_respects_the_memory_bound():
    assert ns.cnn_chunk(2_000_000, 2 * 2 ** 30) * 8 * 2_000_000 <= 2 * 2 ** 30
    assert ns.cnn_chunk(10 ** 12, 1) == 1


def test_vgg_small_starts_from_glorot():
    torch.manual_seed(0)
    net = models.vgg_small((8, 16, 32))
    conv = next(m for m in net if isinstance(m, nn.Conv2d))
    bound = np.sqrt(6 / (3 * 9 + 8 * 9))
    w = float(conv.weight.detach().abs().max())
    assert 0.9 * bound < w <= bound
    assert all(float(m.bias.detach().abs().max()) == 0 for m in net if isinstance(m, (nn.Conv2d, nn.Linear)))


def test_loglog_fit_recovers_slope_over_last_decade():
    ep = np.arange(0, 60)
    loss = 0.5 * np.exp(-ep / 10)
    noise = np.where(ep < 20, 3.0, 1.7 * loss ** 1.0 * np.exp(0.01 * np.sin(ep)))
    r = ns.NoiseVsLoss("t", ep, loss, noise, False)
    s, se = r.fit
    # not random: the exp(0.01 sin) wiggle on a window where ln(loss) spans 2.4 tilts the slope by at most ~0.02
    assert r.late and r.window.sum() == 24 and s == pytest.approx(1.0, abs=0.05) and 0 < se < 0.05
    assert ec.noise_verdict(r) == "reproduced"
    short = ns.NoiseVsLoss("t", ep[:10], loss[:10], noise[:10], False)
    assert not short.late and ec.noise_verdict(short) == "inconclusive"


def test_escape_slope_recovers_power_law_with_censoring():
    c = np.array([1.25, 1.5, 2.0, 2.5, 3.0])
    t = np.random.default_rng(0).exponential(1.0, (1, 400)) * (c ** 4.0)[:, None]
    cap = np.quantile(t[-1], 0.8)
    e = ls.EscapeTimes(c, np.where(t > cap, np.inf, t), cap, "sgd", 1)
    one = {"sgd/gaussian/1": 1.0}
    res = erun.EscapeResult({"sgd/gaussian/1": e}, {"sgd/gaussian/1": 4.0}, one, one, max_censored=0.1, boot=50)
    s, se = res.slope("sgd/gaussian/1")
    assert abs(s - 4.0) < 3 * se and se < 0.3
    # 20 % of the runs are censored at c = 3 (outside the window), about 3.5 % at c = 2.5 (inside)
    assert res.window("sgd/gaussian/1").tolist() == [True, True, True, True, False]


def test_config_presets_shrink_paths_and_plan():
    assert er.make_config("quick", esc_lr=0.1).esc_lr == 0.1
    with pytest.raises(ConfigError, match="profile"):
        er.make_config("huge")
    with pytest.raises(ConfigError, match="esc_lr"):
        er.make_config("smoke", esc_lr=-1.0)
    with pytest.raises(ConfigError, match="esc_c"):
        dataclasses.replace(er.PRESETS["smoke"], esc_c=(0.5, 2.0))
    with pytest.raises(ConfigError, match="arch"):
        dataclasses.replace(er.PRESETS["smoke"], noise_runs=(("mnist", "rnn", (4,)),))
    paper = er.PRESETS["paper"]
    tiny = er.shrink(paper)
    assert er.paper_paths(tiny) == er.paper_paths(paper)
    assert ("vgg_small", "cifar10", "noise_vs_loss") in er.paper_paths(paper)
    assert er.datasets(paper) == ("mnist", "fashion_mnist", "cifar10")
    assert (tiny.stat_lrs, tiny.stat_batches, tiny.esc_dims) == (paper.stat_lrs, paper.stat_batches, paper.esc_dims)
    plans = er.plan(paper)
    assert all(p.runs > 0 and p.flops > 0 and p.peak_bytes > 0 for p in plans)
    cnn = next(p for p in plans if "cnn" in p.name)
    assert cnn.params == sum(q.numel() for q in models.vgg_small((64, 128, 256)).parameters())
    assert cnn.peak_bytes < 4 * 2 ** 30


def test_cnn_noise_run_on_tiny_cifar(tmp_path, monkeypatch):
    from paper_repro.testing import tiny_data_root

    for k, v in tiny_data_root(tmp_path).items():
        monkeypatch.setenv(k, v)
    run = ns.NoiseRun("cifar10", "cnn", (2, 2, 2), 64, 0.1, 32, 2, 1, 2 ** 20, device="cpu")
    m = ns.noise_run(run)
    assert m["epochs"] == [0, 1, 2] and all(np.isfinite(m["noise"])) and m["chunk_bytes"] <= 2 ** 20
    assert ns.from_record(run, {"metrics": m, "status": "ok"}).loss.shape == (3,)


def test_stationary_rows_and_claims_run_at_tiny_size():
    cfg = er.shrink(er.PRESETS["smoke"])
    stat = erun.run_stationary(cfg)
    assert len(stat.rows) == len(cfg.stat_lrs) * len(cfg.stat_batches)
    rows = ec.stationary_claims(cfg, stat)
    assert len(rows) == len(cfg.stat_lrs) + 1 and rows[0].source.startswith("Sec. 5.3")
    assert rows[-1].source == "derived here" and rows[-1].beyond


def test_prose_words_follow_the_numbers():
    assert et.side([1.1, 1.2]) == "above" and et.side([0.9, 0.8]) == "below"
    assert et.side([0.9, 1.1]) == "on both sides of"
    assert [et.trend(r, "up", "down", "flat") for r in (1.5, 0.5, 1.05, float("nan"))] == ["up", "down", "flat",
                                                                                           "not measured"]
    assert et.per_run([0.321], ["a"], ".2f") == "0.32"
    assert et.per_run([0.321, 1.0], ["a", "b"], ".1f") == "0.3 (a); 1.0 (b)"


def test_escape_slope_error_includes_the_spread_of_data_sets():
    """Runs on different data sets (x, y) are not exchangeable: when the data sets' slopes differ, the slope's error
    is at least their sd / sqrt(k), whatever the bootstrap over runs says (a verdict must not hang on one draw)."""
    import dataclasses as dc

    from paper_repro.experiments.escape_rate import linear_sgd as ls
    from paper_repro.experiments.escape_rate.run import EscapeResult

    c = np.array([1.25, 1.5, 2.0])
    rng = np.random.default_rng(0)
    cols, label = [], []
    for j, slope in enumerate((6.0, 8.0, 10.0, 12.0)):  # each data set its own slope, runs nearly deterministic
        t = np.exp(slope * np.log(c))[:, None] * rng.uniform(0.99, 1.01, size=(3, 50))
        cols.append(t)
        label += [j] * 50
    times = ls.EscapeTimes(c, np.concatenate(cols, axis=1), 1e9, "sgd", 1)
    res = EscapeResult({"k": times}, {"k": 0.0}, {"k": 1.0}, {"k": 0.1}, 0.1, 50, {"k": np.array(label)})
    slope, se = res.slope("k")
    spread = np.std(res.draw_slopes("k"), ddof=1) / 2
    assert 8.0 < slope < 11.0 and se >= spread > 0.5
    pooled = dc.replace(res, draws={})
    assert pooled.slope("k")[1] < 0.5 * se  # the bootstrap over runs alone would claim a narrow interval
