"""Chapter 1 (tail index): every verdict rule on synthetic SaS nets (and synthetic tracked series) where its claim
holds and where the alternative holds; the architecture rule needs width *and* depth, per loss."""
import dataclasses

import pytest

import paper_repro.experiments.tail_index as ti
from paper_repro.core.verdicts import run_controls
from paper_repro.experiments.tail_index import NetTable, controls
from paper_repro.experiments.tail_index import claims as tc

# the quick profile's grids and seeds (3 widths, 5 batch sizes, 2 seeds), a tracked window of 31 points
QUICK = controls.ControlSetup(n_settings=3, n_batch=5, n_nets=6, seeds=2, n=200_000, n_points=31, jitter=0.01,
                              n_boot=200)


def _run(name, su, n_rep):
    rule, pos, neg = controls.rules(su)[name]
    return run_controls(rule, pos, neg, n_rep=n_rep, seed=3)


@pytest.mark.parametrize("name", ["batch size changes α̂ little", "drop then jump"])
def test_rule_says_reproduced_where_the_claim_holds_and_not_reproduced_on_the_alternative(name):
    su = dataclasses.replace(QUICK, n_points=61)  # the paper profile's dense window (quick's 31 points: ~75 %)
    res = _run(name, su, 10)
    assert res.positive_rate >= 0.8 and res.negative_rate >= 0.8, (res.counts("positive"), res.counts("negative"))


def test_alpha_below_2_rule_against_gaussian_noise_at_the_nets_size():
    su = dataclasses.replace(QUICK, n=2_000_000, n_nets=2)  # the quick nets' N: 1.5 M to 24 M components
    res = _run("α̂ < 2 in every setting", su, 8)
    assert res.positive_rate == 1.0 and res.negative_rate >= 0.8, res.counts("negative")


def test_architecture_rule_never_reproduces_a_flat_alpha_and_finds_a_span_of_0_3():
    res = _run("α̂ depends on width / depth", QUICK, 20)
    assert res.positive_rate >= 0.8 and res.false_rate == 0.0
    # with two seeds the seed spread is too rough to rule a flat alpha out: those draws are inconclusive, never
    # "reproduced" (the chapter's figure shows it)
    assert res.counts("negative")["not reproduced"] + res.counts("negative")["inconclusive"] == 20


def _sweep(name, values):
    """Rows of a width or depth sweep: {(loss, setting): [alpha-hat per seed]}."""
    return [{name: x, "seed": s, "loss": loss, "dataset": "mnist", "alpha_train": a, "alpha_train_fixed": a}
            for (loss, x), alphas in values.items() for s, a in enumerate(alphas)]


def test_width_and_depth_each_need_a_span_and_losses_are_judged_apart():
    rising = {("nll", 16): [1.0, 1.01], ("nll", 256): [1.3, 1.31], ("hinge", 16): [1.0, 1.01],
              ("hinge", 256): [1.3, 1.31]}
    flat_depth = {("nll", 2): [1.2, 1.21], ("nll", 5): [1.2, 1.21], ("hinge", 2): [1.2, 1.21],
                  ("hinge", 5): [1.2, 1.21]}
    nets = {"width": NetTable(_sweep("width", rising)), "depth": NetTable(_sweep("depth", flat_depth))}
    assert tc.arch_verdict(tc.arch_parts(nets)) == "not reproduced"  # width only: the old rule said "reproduced"
    deep = {k: [a + 0.3 * (k[1] == 5) for a in v] for k, v in flat_depth.items()}  # depth 5: 0.3 higher
    nets["depth"] = NetTable(_sweep("depth", deep))
    assert tc.arch_verdict(tc.arch_parts(nets)) == "reproduced"
    # opposite trends for the two losses: averaged they cancel; judged apart, both spans count
    opposite = {("nll", 16): [1.0, 1.01], ("nll", 256): [1.3, 1.31], ("hinge", 16): [1.3, 1.31],
                ("hinge", 256): [1.0, 1.01]}
    nets["width"] = NetTable(_sweep("width", opposite))
    parts = tc.arch_parts(nets)
    assert set(parts) == {("mnist", loss, n) for loss in ("nll", "hinge") for n in ("width", "depth")}
    assert parts[("mnist", "hinge", "width")][0] == pytest.approx(0.3)
    assert tc.sweep_span(nets["width"], "width", "alpha_train")[0] < 0.01  # what averaging the losses gave


def test_architecture_claim_is_read_at_the_papers_k1_and_shown_apart():
    rows = _sweep("width", {("nll", 16): [1.0, 1.01], ("nll", 64): [1.3, 1.31]})
    for r in rows:
        r["alpha_train_fixed"] = 1.2 + 0.001 * r["seed"]  # flat at the fixed K1
    nets = {"width": NetTable(rows), "depth": NetTable(_sweep("depth", {("nll", 2): [1.0, 1.01],
                                                                          ("nll", 3): [1.3, 1.31]}))}
    cfg = ti.PRESETS["smoke"]
    claim, fixed = tc.claim_architecture(cfg, nets), tc.claim_architecture_fixed(cfg, nets)
    assert claim.verdict == "reproduced" and fixed.verdict == "not reproduced"
    assert claim.basis == "abstract" and not claim.counted and fixed.beyond
