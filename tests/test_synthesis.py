"""Chapter 5 (synthesis): config, measurements on tiny nets, the mechanism rules and their controls."""
import dataclasses
import math

import numpy as np
import pytest
import torch

from paper_repro.core.config import ConfigError
from paper_repro.experiments import synthesis as sy
from paper_repro.experiments.synthesis import analysis as an, measure as sm, run as sr


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_config_validates_and_separates_t_from_b():
    cfg = sy.make_config("quick")
    assert len(sy.runs(cfg)) == 2 * 2 * 4 * 2 * 3
    assert max(cfg.temperatures) / min(cfg.temperatures) >= 10 and cfg.n_seeds >= 3
    with pytest.raises(ConfigError):
        sy.make_config("quick", batch_sizes=(8,))
    with pytest.raises(ConfigError):
        sy.make_config("quick", nets=("vgg",))
    with pytest.raises(ConfigError):
        sy.make_config("quick", k1_fixed=1000)


def test_shrink_keeps_every_paper_path():
    paper = sy.PRESETS["paper"]
    assert sy.paper_paths(sy.shrink(paper)) == sy.paper_paths(paper)
    assert {n for n, _, _ in sy.paper_paths(paper)} == {"fc", "lenet", "cnn", "resnet18"}


def test_hessian_top_matches_the_exact_hessian_of_least_squares():
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(200, 5, generator=gen) * torch.tensor([3.0, 1, 1, 0.5, 0.2]), torch.randn(200, 1, generator=gen)
    model = torch.nn.Linear(5, 1, bias=False)
    h, v = sm.hessian_top(model, sm.half_sq, x, y, ncv=4)
    exact = torch.linalg.eigvalsh(x.T @ x / len(x)).max().item()
    assert h == pytest.approx(exact, rel=1e-3)
    assert abs(np.linalg.norm(v) - 1) < 1e-6


def test_scale_mixture_reproduces_heterogeneity_but_not_heavy_tails():
    gen = torch.Generator().manual_seed(1)
    hetero = torch.randn(64, 3000, generator=gen) * torch.exp(1.5 * torch.randn(3000, generator=gen))
    pooled = an.tail_index(hetero.reshape(-1), k1=64).alpha
    mix = sm.scale_mixture(hetero, 64)
    assert pooled < 1.6 and abs(mix["mix_robust"] - pooled) < 0.15 and abs(mix["mix_diag"] - pooled) < 0.15
    stable = an.sample_sas(1.3, (64, 3000), generator=gen)
    mix = sm.scale_mixture(stable, 64)
    assert mix["mix_robust"] > 1.8 > an.tail_index(stable.reshape(-1), k1=64).alpha + 0.3
    assert mix["mix_diag"] < 1.6  # sample variances of heavy-tailed columns spread out: why the rule uses robust scales


@pytest.mark.parametrize("which", ["mixture", "coordinate", "temperature", "noise_tail"])
def test_each_rule_passes_its_controls(which):
    cfg = dataclasses.replace(sy.make_config("smoke"), n_control=30, n_seeds=3)
    ctrl = {"mixture": lambda: an.mixture_controls(cfg, (32, 1000)),
            "coordinate": lambda: an.coordinate_controls(
                cfg, 300, *an.median_se(an.gaussian_coordinate_alphas(300, 400))[:1],
                float(np.median([an.tail_index(c).alpha for c in an.sample_sas(1.5, (300, 400)).double().T])), 40,
                an.median_se(an.gaussian_coordinate_alphas(300, 400))[1]),
            "temperature": lambda: an.temperature_controls(cfg, 24),
            "noise_tail": lambda: an.noise_tail_controls(reps=30)}[which]()
    assert ctrl.positive_rate >= 0.8, ctrl
    assert ctrl.negative_rate >= 0.8, ctrl


def test_dependence_and_slopes():
    rows = [{"T": t, "B": b, "q": math.log(t)} for t in (1e-3, 1e-2) for b in (8, 32) for _ in range(3)]
    for r, e in zip(rows, np.random.default_rng(0).normal(0, 0.01, len(rows))):
        r["q"] += e
    s = an.t_b_slopes(rows, "q")
    assert s["b_T"] == pytest.approx(1, abs=0.05) and an.dependence(s["t_T"], s["t_B"]) == "T"
    assert an.temperature_rule(s["t_T"], s["t_B"]) == "reproduced"
    assert an.temperature_rule(0.1, 5.0) == "not reproduced"


def test_one_tiny_run_measures_every_paper(tmp_path, monkeypatch):
    cfg = sy.shrink(sy.make_config("smoke"))
    rec = sr.run_one(sr.RunSpec(cfg, "fc", "mse", cfg.temperatures[-1], cfg.batch_sizes[-1], 0))
    assert len(rec["checkpoints"]) == len(cfg.stages)
    last = rec["checkpoints"][-1]
    for key in ("alpha_pooled", "alpha_std_cal", "mix_diag", "iter_pass", "noise_strength", "h_top",
                "weight_change", "test_error", "train_loss"):
        assert key in last
    assert last["weight_change"] > 0 and last["noise_strength"] > 0 and 0 <= last["test_error"] <= 1
    assert rec["late"]["u"] and len(rec["late"]["u"]) == cfg.late_steps + 1


def test_finite_round_trip():
    d = {"a": float("nan"), "b": [1.0, float("inf")], "c": {"d": 2}}
    assert sr.finite(d) == {"a": None, "b": [1.0, None], "c": {"d": 2}}
    assert math.isnan(sr.unfinite({"a": None})["a"])


def _end_rows(pooled: float, std: float, seeds=(0, 1, 2)):
    rng = np.random.default_rng(0)
    return [{"net": "fc", "loss": "ce", "T": 1e-3, "B": 8, "seed": s, "last": True, "stage": 1, "diverged": False,
             "alpha_sqrt_n": pooled + 0.01 * rng.standard_normal(), "alpha_std_cal": std + 0.01 * rng.standard_normal()}
            for s in seeds]


@pytest.mark.parametrize("pooled, std, word", [(1.0, 1.97, "holds only when pooled"), (1.0, 1.2, "holds"),
                                               (1.98, 1.97, "does not hold")])
def test_pooled_row_separates_pooling_from_heavy_tails(pooled, std, word):
    from paper_repro.experiments.synthesis import claims

    assert claims.pooled_row(_end_rows(pooled, std), "fc")["verdict"] == word


def test_plan_prices_every_net():
    cfg = sy.make_config("paper")
    rows = sy.plan(cfg)
    assert [r.name for r in rows] == [f"{n} shared runs" for n in cfg.nets]
    assert all(r.flops > 0 and r.peak_bytes > 0 for r in rows)
    assert sum(r.runs for r in rows) == len(sy.runs(cfg))
