"""Chapter 1 (tail index): SaS sampler, estimators, noise collection, losses, SDE and config validation."""
import math

import numpy as np
import pytest
import torch
from scipy import stats

from paper_repro.core.config import ConfigError, from_profile
from paper_repro.core.estimators import TailIndexResult, tail_index
from paper_repro.core.estimators.tail import StreamingMohammadi, block_plan, largest_divisor_below_sqrt
from paper_repro.core.models import mlp
from paper_repro.experiments import tail_index as ti
from paper_repro.experiments.tail_index.noise import sample_sas
from paper_repro.experiments.tail_index.sde import brownian_exit_theory, levy_exit_theory, simulate_exit
from paper_repro.testing import assert_close_dtype, eps_of, mc_tol


def gen(seed=0):
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("alpha", [0.8, 1.0, 1.5, 1.9])
def test_sas_matches_scipy_levy_stable(alpha):
    ours = sample_sas(alpha, 20000, generator=gen(1)).double().numpy()
    ref = stats.levy_stable.rvs(alpha, 0.0, size=20000, random_state=np.random.default_rng(2))
    assert stats.ks_2samp(ours, ref).pvalue > 1e-3


def test_sas_alpha_two_is_gaussian_with_variance_two_scale_squared():
    x = sample_sas(2.0, 200_000, scale=3.0, generator=gen()).double()
    assert abs(x.var().item() - 18.0) < mc_tol((x - x.mean()) ** 2)  # four standard errors of the variance (0.057)
    assert stats.kstest(x.numpy() / math.sqrt(18.0), "norm").pvalue > 1e-3


def test_sas_is_seeded_and_validated():
    assert torch.equal(sample_sas(1.3, 100, generator=gen(5)), sample_sas(1.3, 100, generator=gen(5)))
    with pytest.raises(ConfigError, match="alpha"):
        sample_sas(2.5, 10)


def naive_mohammadi(x: np.ndarray, k1: int, eps=np.spacing(1)) -> float:
    """The released code's formula, written out with numpy."""
    y = x[: len(x) // k1 * k1].reshape(-1, k1).sum(1)
    return 1.0 / ((np.log(np.abs(y) + eps).mean() - np.log(np.abs(x[: len(y) * k1]) + eps).mean()) / np.log(k1))


def test_mohammadi_matches_formula_and_default_k1():
    x = sample_sas(1.4, 1000, generator=gen()).double()
    assert largest_divisor_below_sqrt(1000) == 25 and largest_divisor_below_sqrt(997) == 1
    res = tail_index(x)
    assert isinstance(res, TailIndexResult) and res.k == 25 and res.n == 1000
    assert_close_dtype(res.alpha, naive_mohammadi(x.numpy(), 25), n_reduce=1000)  # float64 means of 1000 logs
    assert_close_dtype(tail_index(x, k1=7).alpha, naive_mohammadi(x.numpy(), 7), n_reduce=1000)


@pytest.mark.parametrize("alpha", [1.0, 1.2, 1.5, 1.8, 2.0])
def test_mohammadi_recovers_alpha(alpha):
    res = tail_index(sample_sas(alpha, 1_000_000, generator=gen(int(alpha * 10))))
    assert abs(res.alpha - alpha) < 4 * res.stderr  # standard errors of the 10^6 samples: 0.007 - 0.019
    assert res.ci95[0] < alpha < res.ci95[1] or abs(res.alpha - alpha) < 3 * res.stderr


def test_hill_recovers_pareto_tail():
    u = torch.rand(100_000, generator=gen(3), dtype=torch.float64)
    res = tail_index(u.pow(-1 / 1.5), method="hill", k=10_000)
    assert abs(res.alpha - 1.5) < 4 * res.stderr and res.method == "hill"  # stderr alpha / sqrt(k) = 0.015
    with pytest.raises(ConfigError):
        tail_index(u, method="pickands")


def test_streaming_equals_one_shot():
    x = sample_sas(1.3, 60_000, generator=gen(4)).double()
    acc = StreamingMohammadi(x.numel())
    for piece in torch.split(x, [1, 999, 17_000, 3, 41_997]):
        acc.update(piece)
    one, streamed = tail_index(x), acc.result()
    # float64 sums over the 60,000 samples in another order (sqrt rule); the streamed variance is E x^2 - (E x)^2
    assert streamed.k == one.k
    assert_close_dtype(streamed.alpha, one.alpha, n_reduce=x.numel())
    assert_close_dtype(streamed.stderr, one.stderr, n_reduce=x.numel())


def test_losses_match_naive_loops():
    out, y = torch.randn(32, 10, generator=gen()), torch.randint(0, 10, (32,), generator=gen())
    target = -torch.ones_like(out)
    for i in range(len(y)):  # the released code's per-sample loop
        target[i, y[i]] = 1
    delta = 1 - target * out
    delta[delta <= 0] = 0
    f32 = dict(dtype=torch.float32, n_reduce=out.numel())  # float32 means over the 32 x 10 outputs (sqrt rule)
    assert_close_dtype(ti.linear_hinge_loss(out, y).item(), delta.mean().item(), **f32)
    nll = -torch.stack([torch.log_softmax(out[i], 0)[y[i]] for i in range(len(y))]).mean()
    assert_close_dtype(ti.nll_loss(out, y).item(), nll.item(), **f32)


@pytest.mark.parametrize("loss", ["nll", "hinge"])
@pytest.mark.parametrize("max_elements", [10**8, 3000])  # one pass / streamed in chunks
def test_measure_noise_matches_per_batch_loop(loss, max_elements):
    torch.manual_seed(0)
    x, y = torch.randn(400, 20, generator=gen()), torch.randint(0, 10, (400,), generator=gen(1))
    net, loss_fn = mlp(20, [16], 10), ti.LOSS_FNS[loss]
    grads = []
    for b in range(8):  # released-code style: one backward per batch, copied out
        net.zero_grad()
        loss_fn(net(x[b * 50:(b + 1) * 50]), y[b * 50:(b + 1) * 50]).backward()
        grads.append(torch.cat([p.grad.reshape(-1) for p in net.parameters()]).clone())
    g = torch.stack(grads)
    expect = naive_mohammadi((g - g.mean(0)).reshape(-1).double().numpy(), largest_divisor_below_sqrt(g.numel()))
    m = ti.measure_noise(net, loss_fn, x, y, 50, max_elements=max_elements)
    assert m.n_batches == 8 and m.n_params == 16 * 20 + 160
    # float32 gradients of two loops; the estimator averages logs of the N noise elements (sqrt rule over N)
    assert_close_dtype(m.alpha, expect, dtype=torch.float32, n_reduce=g.numel())


def test_pooling_mixed_scales_pulls_alpha_down_and_standardising_restores_two():
    scales = torch.exp(2.0 * torch.randn(2000, generator=gen()))  # per-parameter noise scales
    noise = torch.randn(200, 2000, generator=gen(1)) * scales
    v = ti.pooling_variants(noise, k1=500)
    assert v["k1"] == 500 and v["pooled"] < 1.5 and v["permuted"] < 1.5
    se = tail_index(torch.randn(400_000, generator=gen(3)).double(), k1=500).stderr  # at this size: 0.027
    assert abs(v["standardised_permuted"] - 2.0) < 4 * se


def test_sde_exit_times_match_theory():
    res = simulate_exit([1.5, 2.0], [0.2, 0.5], 1.0, n_particles=1000, dt=0.01, t_max=400.0, seed=0)
    assert res.censored_fraction.max() < 0.02
    levy, brown = levy_exit_theory(1.5, 0.2, 1.0), brownian_exit_theory(math.sqrt(2) * 0.5, 1.0, dt=0.01)
    # Levy: the small-noise asymptotics is a bias at eps = 0.2 (the simulation reads 10 - 15 % lower), stated; then
    # four standard errors of the mean of the 1000 particles (2.7 % of the mean). Brownian: exact theory.
    assert abs(res.mean[0] - float(levy)) < 0.15 * float(levy) + mc_tol(res.times[0])
    assert abs(res.mean[1] - float(brown)) < mc_tol(res.times[1])


def test_brownian_theory_recovers_small_basin_limit():
    # |x| << 1: drift negligible, E tau = a^2 / sigma^2 for Brownian motion started at 0
    # not rounding: the drift correction is O(a^2 / sigma^2) = 1e-4 relative (measured 3.3e-5), the grid's O(1/n^2)
    assert brownian_exit_theory(1.0, 0.01) == pytest.approx(1e-4, rel=1e-3)


def test_config_validation():
    cfg = from_profile(ti.PRESETS, "smoke", steps=7)
    assert cfg.steps == 7 and cfg.profile == "smoke"
    bad = [dict(profile="huge"), dict(device="tpu"), dict(widths=(0, 4)), dict(losses=("mse",)),
           dict(synth_alphas=(2.5,)), dict(batch_size=6000), dict(depths=(1,)), dict(seeds=(-1,)), dict(lr=-0.1)]
    for kw in bad:
        with pytest.raises(ConfigError):
            ti.TailIndexConfig(**kw)
    with pytest.raises(ConfigError, match="unknown"):
        from_profile(ti.PRESETS, "quick", width=3)


def test_fc_net_is_the_released_architecture():
    net = ti.fc_net(784, 100, 3, 10)  # released defaults: width 100, depth 3
    shapes = [tuple(p.shape) for p in net.parameters()]
    assert shapes == [(100, 784), (100, 100), (10, 100)]  # depth Linear layers, no biases
    w = next(net.parameters())
    # PyTorch default U(-1/sqrt(fan_in), 1/sqrt(fan_in)); the float32 bound is the float64 one rounded: 1 eps
    assert w.abs().max().item() <= 1 / math.sqrt(784) * (1 + eps_of(torch.float32))


def test_measure_noise_of_a_cnn_matches_per_batch_loop():
    from paper_repro.core.models import alexnet_like

    torch.manual_seed(0)
    x, y = torch.randn(40, 3, 32, 32, generator=gen()), torch.randint(0, 10, (40,), generator=gen(1))
    net = alexnet_like(4).eval()  # the released eval() measures in eval mode (dropout off)
    grads = []
    for b in range(4):
        net.zero_grad()
        ti.nll_loss(net(x[b * 10:(b + 1) * 10]), y[b * 10:(b + 1) * 10]).backward()
        grads.append(torch.cat([p.grad.reshape(-1) for p in net.parameters()]).clone())
    g = torch.stack(grads).double()
    used, k1 = block_plan(g.numel())
    expect = naive_mohammadi((g - g.mean(0)).reshape(-1).numpy()[:used], k1)
    got = ti.measure_noise(net, ti.nll_loss, x, y, 10).alpha  # float32 gradients: sqrt rule over the N elements
    assert_close_dtype(got, expect, dtype=torch.float32, n_reduce=used)


def test_reading_trend_words_and_noise_sizes():
    from paper_repro.experiments.tail_index import NetTable
    from paper_repro.experiments.tail_index.reading import _change, noise_sizes

    assert _change(np.array([1.2, 1.3, 1.4]), np.zeros(3)).startswith("rises")
    assert _change(np.array([1.4, 1.0]), np.zeros(2)).startswith("falls")
    assert _change(np.array([1.40, 1.41]), np.full(2, 0.01)).startswith("barely moves")
    rows = [{"n_params": 10, "n_train": 1000, "batch_size": 100}, {"n_params": 30, "n_train": 1000, "batch_size": 500},
            {"n_params": 99, "n_train": 1000, "batch_size": 10, "status": "diverged"}]
    assert noise_sizes({"width": NetTable(rows)}) == {"n_noise_min": 60, "n_noise_max": 100}
