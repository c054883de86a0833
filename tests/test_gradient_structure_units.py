"""Chapter 4 scoring: the unit of count, the two tail rules, the controls beside every test, the recipe per dataset."""
import types

import numpy as np
import pytest
import torch

from paper_repro.experiments import gradient_structure as gs
from paper_repro.experiments.gradient_structure import claims as gsc
from paper_repro.experiments.gradient_structure import controls as gctl
from paper_repro.experiments.gradient_structure import recipe as grec

ns = types.SimpleNamespace


def _cp(setting, step, dim, n_draws=5):
    """A stand-in checkpoint of one setting at one step with the given dimension-wise pass fraction."""
    d, m = setting
    return ns(dataset=d, model=m, batch_size=128, step=step, dim_pass_rate=dim, dim_pass_rate_free=dim,
              dim_betas=(2.0,) * n_draws, train_acc=0.98, spectrum=None)


def _result(cps, settings):
    return ns(checkpoints=cps, settings=[(d, m, 128) for d, m in settings],
              of=lambda d, m, b: [c for c in cps if (c.dataset, c.model, c.batch_size) == (d, m, b)])


def test_units_split_init_during_end_per_setting():
    sets = [("mnist", "lenet"), ("mnist", "fcn")]
    cps = [_cp(s, step, 0.5) for s in sets for step in (0, 10, 50, 100 if s[1] == "lenet" else 80)]
    res = _result(cps, sets)
    assert [c.step for c in gsc.units(res, "init")] == [0, 0]
    assert [c.step for c in gsc.units(res, "during")] == [10, 50, 10, 50]
    assert [c.step for c in gsc.units(res, "end")] == [100, 80]


def test_clustered_draws_do_not_get_a_narrow_interval():
    """12 clusters (checkpoints) of 5 draws that are copies of one another: 60 outcomes but 12 independent ones.
    Counted per draw the interval excludes 1/2 ("not reproduced"); counted per unit it does not."""
    sets = [(f"d{i}", "m") for i in range(12)]
    per_cluster = [1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]  # one pass/fail per theta, shared by its 5 draws: p = 1/3
    cps = [_cp(s, 100, p) for s, p in zip(sets, per_cluster)]
    res = _result(cps, sets)
    per_draw = gsc.rate([c.dim_pass_rate for c in cps for _ in c.dim_betas])
    per_unit = gsc.unit_rate(gsc.units(res, "end"), "dim")
    assert per_draw[2] == 60 and per_unit[2] == 12 and per_draw[0] == pytest.approx(per_unit[0])
    assert per_unit[1] > 2 * per_draw[1]  # sqrt(60 / 12) ~ 2.2 times wider
    assert gsc.usually(per_draw) == "not reproduced" and gsc.usually(per_unit) == "inconclusive"
    # the same design with independent units all failing is still decided: the rule is not always inconclusive
    fail = _result([_cp(s, 100, 0.0) for s in sets], sets)
    assert gsc.usually(gsc.unit_rate(gsc.units(fail, "end"), "dim")) == "not reproduced"


def test_combine_rules_agree_disagree_and_ignore_rules_without_power():
    both = {"top_k": True, "free": True}
    assert gsc.combine_rules({"top_k": "reproduced", "free": "reproduced"}, both)[0] == "reproduced"
    v, note = gsc.combine_rules({"top_k": "reproduced", "free": "not reproduced"}, both)
    assert v == "inconclusive" and note.startswith("rule-dependent") and "free x_min: not reproduced" in note
    v, note = gsc.combine_rules({"top_k": "reproduced", "free": "inconclusive"}, {"top_k": True, "free": False})
    assert v == "reproduced" and "no power" in note
    assert gsc.combine_rules({"top_k": "reproduced", "free": "reproduced"}, {"top_k": False, "free": False})[0] == \
        "inconclusive"


def test_tail_controls_at_the_iteration_wise_size():
    """Fixed top-20 % tail at n = 2000: few Gaussians and most exact power laws pass (power); the free x_min passes
    most Gaussians (no power); t3 passes far more often than t10 (a fail excludes heavy tails only)."""
    ctl = gctl.tail_controls(2000, gctl.iteration_rules(0.2, max_candidates=100, ks_points=500), n_rep=30, seed=0)
    top, free = ctl.rates["top_k"], ctl.rates["free"]
    assert top["gaussian"] <= 0.1 and top["pareto"] >= 0.9 and ctl.has_power("top_k")
    assert top["t3"] > top["t10"] + 0.3
    assert free["gaussian"] >= 0.7 and not ctl.has_power("free")
    assert "exact power law (β = 2.5)" in ctl.excluded("top_k") and "Student t₁₀" in ctl.not_excluded("top_k")


def test_spectrum_controls_pass_power_laws_and_fail_marchenko_pastur():
    mp = gctl.marchenko_pastur(4000)
    assert mp[0] == pytest.approx(4.0, abs=0.05) and np.all(np.diff(mp) <= 0)  # support edge (1 + 1)^2
    ctl = gctl.spectrum_controls(1500, 1.3, seed=0)
    assert ctl.has_power
    assert abs(ctl.fits["exact k^-s"].s - 1.3) < 0.1 and abs(ctl.fits["sampled k^-s"].s - 1.3) < 0.25
    assert gctl.spectrum_fit_ratio(ctl.fits["Marchenko-Pastur"]) > 1.0
    assert not ctl.has_power_at(99)  # no such range in the scan: no power claimed


def test_augment_batch_crops_and_flips():
    x = torch.arange(2 * 3 * 6 * 6, dtype=torch.float32).reshape(2, 3, 6, 6) + 1.0
    gen = torch.Generator().manual_seed(0)
    out = grec.augment_batch(x, gen, pad=2)
    assert out.shape == x.shape
    for img, src in zip(out, x):
        padded = torch.nn.functional.pad(src, (2, 2, 2, 2))
        crops = [padded[:, dy:dy + 6, dx:dx + 6] for dy in range(5) for dx in range(5)]
        hits = [c for c in crops if torch.equal(img, c) or torch.equal(img, c.flip(-1))]
        assert len(hits) >= 1  # each image is one crop of its padded self, flipped or not
    assert not torch.equal(out, x)


def test_paper_profile_follows_the_groups_recipe_per_dataset():
    cfg = gs.make_config("paper")
    assert gs.config.epochs_of(cfg, "mnist") == 50 and gs.config.epochs_of(cfg, "fashion_mnist") == 200
    assert gs.config.epochs_of(cfg, "cifar10") == 200 and gs.config.milestones_of(cfg, "cifar100") == (0.5, 0.75)
    assert gs.config.milestones_of(cfg, "cifar10") == (0.4, 0.8) and set(cfg.augment) == {"cifar10", "cifar100"}
    assert cfg.fcn_widths == (100, 100) and cfg.fcn_bias
    data = grec.Dataset(x=torch.zeros(2, 1, 28, 28), y=torch.zeros(2, dtype=torch.long), name="mnist", classes=10)
    fcn = grec.build_model("fcn", data, cfg.fcn_widths, fcn_bias=True)
    assert sum(p.numel() for p in fcn.parameters()) == 784 * 100 + 100 + 100 * 100 + 100 + 100 * 10 + 10
    with pytest.raises(gs.config.ConfigError):
        gs.make_config("quick", epochs_by_dataset=(("svhn", 3),))


def test_quick_profile_has_spectra_at_every_stage():
    cfg = gs.make_config("quick")
    assert cfg.spectrum_stages == cfg.stages and len(cfg.stages) == 4
    assert len(gs.settings(cfg)) * (len(cfg.stages) - 1) >= 12  # trained spectra


def test_train_state_matches_one_full_forward_pass():
    from paper_repro.experiments.gradient_structure import run as grun

    torch.manual_seed(0)
    data = grec.Dataset(x=torch.randn(50, 1, 28, 28), y=torch.randint(0, 10, (50,)), name="mnist", classes=10)
    model = grec.build_model("fcn", data, (8,)).eval()
    loss, acc = grun.train_state(model, data, chunk=7)
    with torch.no_grad():
        out = model(data.x)
    # float32 sums of 50 per-sample losses in chunks against one mean (sqrt rule): a few eps of the loss
    assert loss == pytest.approx(float(torch.nn.functional.cross_entropy(out, data.y)), rel=1e-5)
    assert acc == int((out.argmax(1) == data.y).sum()) / 50


def test_control_phrases_follow_the_rates():
    from paper_repro.experiments.gradient_structure import reading as gsr

    rates = {"gaussian": 0.02, "t10": 0.06, "t5": 0.3, "t3": 0.8, "pareto": 1.0}
    ctl = gctl.TailControls(n=2000, n_rep=50, rates={"top_k": rates, "free": dict.fromkeys(rates, 1.0)})
    got = gsr.control_phrases(ctl, "iter")
    assert got["ctl_iter_excluded"] == "Student t₃, exact power law (β = 2.5)"
    assert got["ctl_iter_not_excluded"] == "Student t₁₀, Student t₅"
    assert got["ctl_iter_free_power"].startswith("it cannot tell")


def test_spectrum_row_is_range_dependent_when_ranges_disagree():
    """Every spectrum fails on k <= n/10 but passes on its top quarter, and the controls have power on both: the row
    is inconclusive and says which range gives what; with agreement it takes the common verdict."""
    def spec(full, quarter):
        return ns(s=1.5, k_max=500, n=5000, ks=(125, 250, 500), pass_by_k=(quarter, True, full), fit=ns(passes=full))

    sets = [(f"d{i}", "m") for i in range(4)]
    ctl = ns(has_power=True, has_power_at=lambda i: True)
    kw = {"id": "x", "statement": "s", "paper_value": "p", "dataset": "d", "profile": "quick"}
    for full, quarter, want in ((False, True, "inconclusive"), (False, False, "not reproduced")):
        row = gsc.spectrum_row(_result([_spec_cp(s, spec(full, quarter)) for s in sets], sets), "end", ctl, **kw)
        assert row.verdict == want, row
        assert ("rule-dependent" in row.detail) == (want == "inconclusive")


def _spec_cp(setting, spectrum):
    c = _cp(setting, 100, 0.0)
    c.spectrum = spectrum
    return c
