"""Chapter 1 (tail index): prime sizes, streamed histograms, fixed K1, released AlexNet, tracked runs, paper paths."""
import dataclasses
import math

import numpy as np
import pytest
import torch

from paper_repro.core.config import ConfigError
from paper_repro.core.estimators import tail_index
from paper_repro.core.estimators.tail import StreamingMohammadi, block_plan, largest_divisor_below_sqrt
from paper_repro.core.models import alexnet_like, count_params
from paper_repro.experiments import tail_index as ti
from paper_repro.experiments.tail_index.noise import sample_sas
from paper_repro.testing import assert_close_dtype


def naive(x: np.ndarray, k1: int, eps=np.spacing(1)) -> float:
    y = x[: len(x) // k1 * k1].reshape(-1, k1).sum(1)
    return 1.0 / ((np.log(np.abs(y) + eps).mean() - np.log(np.abs(x[: len(y) * k1]) + eps).mean()) / np.log(k1))


def test_prime_n_gives_an_estimate_and_says_what_it_used():
    x = np.random.default_rng(5).standard_cauchy(1_000_003)  # the reproducer (prime N)
    assert largest_divisor_below_sqrt(1_000_003) == 1
    res = tail_index(x)
    assert res.n_total == 1_000_003 and res.n_used == 1_000_000 and res.k1 == 1000 and res.dropped == 3
    assert_close_dtype(res.alpha, naive(x[:1_000_000], 1000), n_reduce=res.n_used)  # float64 means of 10^6 logs
    assert abs(res.alpha - 1.0) < 4 * res.stderr  # four standard errors of the 10^6 samples (0.007)


@pytest.mark.parametrize("n", [5, 7, 97, 1009, 65_537, 999_983])
def test_block_plan_drops_fewest_samples_for_a_divisor_near_sqrt(n):
    used, k1 = block_plan(n)
    assert used % k1 == 0 and 2 <= k1 <= math.isqrt(used) and k1 >= math.isqrt(n) / 2
    assert all(not any((n - d) % k == 0 for k in range(max(2, -(-math.isqrt(n) // 2)), math.isqrt(n - d) + 1))
               for d in range(n - used))  # no smaller drop would do
    assert block_plan(1000) == (1000, 25)  # a good divisor: the released rule, nothing dropped


def test_vectors_with_many_exact_zeros_and_streaming_on_prime_sizes():
    x = sample_sas(1.5, 200_003, generator=torch.Generator().manual_seed(1)).double()
    x[::3] = 0.0
    nonzero = x[x != 0]
    res = tail_index(nonzero)  # 133,335 non-zero samples: any count must work
    assert math.isfinite(res.alpha) and res.n_used <= nonzero.numel() and res.n_used % res.k1 == 0
    acc = StreamingMohammadi(x.numel())
    for piece in torch.split(x, [10_000, 77, 190_000 - 77, 3]):
        acc.update(piece)
    one = tail_index(x)
    assert acc.result().k1 == one.k1 and acc.result().n == one.n_used
    assert_close_dtype(acc.result().alpha, one.alpha, n_reduce=x.numel())  # float64 sums in another order
    with pytest.raises(ConfigError):
        tail_index(x, k1=1)


def test_released_alexnet_shapes():
    net = alexnet_like(64)
    assert count_params(net) == 451_146  # released models.AlexNet(ch=64, num_classes=10)
    convs = [m for m in net if isinstance(m, torch.nn.Conv2d)]
    assert [(c.kernel_size, c.stride, c.padding) for c in convs[:2]] == [((4, 4), (2, 2), (2, 2)), ((5, 5), (1, 1),
                                                                                                      (2, 2))]
    pools = [m for m in net if isinstance(m, torch.nn.MaxPool2d)]
    assert len(pools) == 3 and all(p.kernel_size == 3 and p.stride == 2 for p in pools)
    lin = [m for m in net if isinstance(m, torch.nn.Linear)]
    assert lin[0].in_features == 64 and lin[0].out_features == 64 * 7  # ch x 1 x 1 -> ch * floor(1 + log2 ch)
    assert sum(isinstance(m, torch.nn.Dropout) for m in net) == 2


def test_streamed_measurement_keeps_a_histogram_and_fixed_k1():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(60, 3, 32, 32, generator=g), torch.randint(0, 10, (60,), generator=g)
    net = alexnet_like(4)
    one = ti.measure_noise(net, ti.nll_loss, x, y, 10, k1_fixed=50)
    streamed = ti.measure_noise(net, ti.nll_loss, x, y, 10, max_elements=500, k1_fixed=50)
    assert streamed.hist["n"] > 0 and "edges" in streamed.hist and not streamed.variants  # streamed: no matrix
    # float32 gradient noise reduced in chunks: the estimators average logs (the std squares) of its N elements;
    # the sqrt rule over N (measured: under 1 eps)
    f32 = dict(dtype=torch.float32, n_reduce=one.hist["n"])
    assert_close_dtype(streamed.alpha, one.alpha, **f32)
    assert streamed.k1_fixed == one.k1_fixed == 50
    assert_close_dtype(streamed.alpha_fixed, one.alpha_fixed, **f32)
    assert streamed.hist["n"] == one.hist["n"]
    assert_close_dtype(streamed.hist["std"], one.hist["std"], **f32)
    fig, ax = ti.figures.subplots()
    ti.figures.plot_histogram(streamed.hist, streamed.alpha, ax)  # figure 1 from a streamed net (issue's crash)


def test_pooling_variants_use_one_block_size():
    noise = sample_sas(1.5, (100, 4000), generator=torch.Generator().manual_seed(2))
    v = ti.pooling_variants(noise, k1=1000)
    assert v["k1"] == 1000
    # float32 noise: the estimator's means of logs over the N elements (sqrt rule) against float64 from the same values
    assert_close_dtype(v["pooled"], naive(noise.reshape(-1).double().numpy(), 1000), dtype=torch.float32,
                       n_reduce=noise.numel())
    se = tail_index(noise.reshape(-1).double(), k1=1000).stderr  # of the 400,000 samples: 0.021
    assert all(abs(v[k] - 1.5) < 4 * se for k in ("pooled", "permuted"))  # i.i.d.: pooling order does not matter


def test_calibration_reads_iid_sas_back():
    cfg = dataclasses.replace(ti.PRESETS["smoke"], calib_alphas=(1.2, 1.6, 2.0), k1_fixed=200)
    calib = ti.pooling_calibration(cfg, (40, 5000))
    se = [tail_index(sample_sas(a, 200_000, generator=torch.Generator().manual_seed(9)), k1=200).stderr
          for a in (1.2, 1.6, 2.0)]  # standard errors at the calibration's sample size: 0.012, 0.018, 0.028
    assert np.all(np.abs(calib["pooled"] - [1.2, 1.6, 2.0]) < 4 * np.array(se)), (calib["pooled"], se)
    assert np.all(np.diff(calib["standardised_permuted"]) > 0)
    eq = ti.sweeps.equivalent_alpha(calib, float(calib["standardised_permuted"][1]))
    assert eq == pytest.approx(1.6)


def test_diverged_rows_are_left_out_and_counted():
    rows = [{"width": 4, "loss": "nll", "alpha_train": 1.2, "status": "ok", "seed": 0},
            {"width": 4, "loss": "nll", "alpha_train": float("nan"), "diverged": True, "status": "diverged",
             "seed": 1}]
    t = ti.NetTable(rows)
    assert t.n_diverged == 1 and t.curve("width")[1][0] == pytest.approx(1.2)


def test_tracked_run_measures_at_the_released_cadence_and_stops_at_full_train_accuracy(monkeypatch):
    from paper_repro.experiments.tail_index import run as run_mod

    g = torch.Generator().manual_seed(0)
    data = [type("D", (), {"x": torch.randn(40, 1, 4, 4, generator=g), "y": torch.arange(40) % 2, "classes": 2})()
            for _ in range(2)]
    monkeypatch.setattr(run_mod, "_data", lambda *a, **k: tuple(data))
    run = ti.NetRun("mnist", 40, 40, 32, 2, "nll", 10, 0.5, 400, 0, track_every=20, details=False)
    out = ti.run_net(run)
    steps = [t["step"] for t in out["track"]]
    assert steps[0] == 0 and all(s % 20 == 0 for s in steps[:-1]) and np.all(np.diff(steps) > 0)
    assert {"alpha", "alpha_test", "train_acc", "test_acc", "alpha_fixed"} <= set(out["track"][0])
    stopped = out["track"][-1]["train_acc"] >= 1.0
    assert stopped == (steps[-1] < 400) and out["steps_run"] == steps[-1]


def test_batch_sweep_holds_epochs_fixed():
    cfg = ti.PRESETS["quick"]
    runs = ti.sweep_configs(cfg)["batch"]
    epochs = {round(r.steps * r.batch_size / r.n_train, 6) for r in runs}
    assert epochs == {cfg.batch_epochs} and len({r.steps for r in runs}) == len(cfg.batch_sizes)


def test_shrink_keeps_every_paper_path_and_plan_is_finite():
    paper = ti.PRESETS["paper"]
    small = ti.shrink(paper)
    assert ti.paper_paths(small) == ti.paper_paths(paper)
    assert {("alexnet", "cifar100", "cnn sweep, hinge loss"), ("fc", "mnist", "batch sweep, nll loss")} <= \
        ti.paper_paths(paper)
    assert ti.datasets(paper) == ("mnist", "cifar10", "cifar100")
    assert {("fc", "cifar10", "width sweep, hinge loss"), ("fc", "cifar10", "depth sweep, nll loss")} <= \
        ti.paper_paths(paper)  # the released run.py's FC sweep on CIFAR-10
    assert all(r.n_train == 40 for r in ti.sweep_configs(small)["width"] if r.dataset == "cifar10")
    plans = {p.name: p for p in ti.plan(paper)}
    assert plans["cnn sweep"].runs == 2 * 5 * 2 * 3 and plans["cnn sweep"].params > 9e6
    assert all(p.flops > 0 and p.peak_bytes > 0 for p in plans.values())
    cnn = plans["cnn sweep"]
    assert cnn.peak_bytes < 0.25 * 4 * 4 * 100 * cnn.params  # streamed: one chunk, not the 100 x 9.5 M matrix
