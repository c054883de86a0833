"""Chapter 4 scorecard: pass rates per (setting, stage) with their uncertainty, and every verdict computed.

The paper states its findings in words ("usually pass", "usually do not"). The unit of count is one checkpoint, a
(setting, stage): its minibatch draws, coordinates and test batch sizes share theta, the training subset and the full
gradient, so they are never counted as independent. A claim of "usually" is reproduced when the binomial 2-sigma
interval over units of the pass (or fail) fraction lies above 1/2, not reproduced when it lies below, inconclusive when
it contains 1/2. Each KS test is run with two x_min rules (a fixed tail and a free, KS-minimising x_min); a rule counts
only where its controls at the same n show power (few Gaussian samples pass, most exact power laws do); rules with
power that disagree make the row inconclusive ("rule-dependent").
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats

from ...core.results import Claim
from ...core.verdicts import interval_verdict, majority_verdict

SUBSPACE_SIN_TOL = 0.3  # sin Theta_1 at most this (principal angle <= 17.5 degrees): a stable top direction
# The findings as the paper's abstract states them, in words (its body, tables and figures could not be read here:
# the stored copies of the paper give its first page only), so no row has a paper number.
SOURCE = "qualitative (abstract)"
SOURCE_SPEC = "qualitative (abstract)"
SOURCE_SUBSPACE = "third-party summary (liner.com): the Davis-Kahan argument; the paper's section could not be read"


def rate(values) -> tuple[float, float, int]:
    """Mean of 0/1 (or fractional) outcomes, its binomial standard error and the count (NaN dropped)."""
    v = np.asarray([x for x in values if np.isfinite(x)], dtype=float)
    if not len(v):
        return float("nan"), float("nan"), 0
    p = float(v.mean())
    return p, math.sqrt(max(p * (1 - p), 0.25 / len(v)) / len(v)), len(v)


def usually(r: tuple[float, float, int]) -> str:
    """``majority_verdict`` of a (rate, stderr, count) of ``rate``; "not run" when nothing was counted."""
    return majority_verdict(r[0], r[1]) if r[2] else "not run"


STAGES = ("init", "during", "end")  # random init; early and middle checkpoints; end of training
RULES = ("top_k", "free")  # fixed tail (top K values) and free, KS-minimising x_min
RULE_NAMES = {"top_k": "fixed tail", "free": "free x_min", "resolved": "top k ≤ n/10",
              "quarter": "top quarter of that"}  # tail rules, and the two fitted ranges of a spectrum


def _mean(values) -> float:
    v = [x for x in values if np.isfinite(x)]
    return float(np.mean(v)) if v else float("nan")


MEASURES = {  # measurement -> rule -> the value of one unit (one checkpoint: a setting at a stage)
    "dim": {"top_k": lambda c: c.dim_pass_rate, "free": lambda c: c.dim_pass_rate_free},
    "noise_dim": {"top_k": lambda c: c.noise_pass_rate, "free": lambda c: c.noise_pass_rate_free},
    "iter": {"top_k": lambda c: _mean(c.iter_pass_grad), "free": lambda c: _mean(c.iter_pass_grad_free)},
    "iter_noise": {"top_k": lambda c: _mean(c.iter_pass_noise), "free": lambda c: _mean(c.iter_pass_noise_free)},
    "spec": {"top_k": lambda c: float(c.spectrum.fit.passes) if c.spectrum else float("nan")},
}


def units(result, stage: str, sweep: bool = False) -> list:
    """The checkpoints of one stage, one per (setting, stage): the unit of count. ``sweep``: the settings of the
    batch-size sweep instead of those at the recipe's batch size."""
    b0, out = result.settings[0][2], []
    for d, m, b in result.settings:
        cps = result.of(d, m, b)
        if (b != b0) != sweep or not cps:
            continue
        last = cps[-1].step
        out += [c for c in cps if {"init": c.step == 0, "end": c.step == last and c.step > 0,
                                   "during": 0 < c.step < last}[stage]]
    return out


def unit_rate(cps, measure: str, rule: str = "top_k") -> tuple[float, float, int]:
    """Mean over units of the unit's pass fraction, with the binomial error at the number of units (conservative:
    a fraction in [0, 1] with mean p has variance <= p (1 - p)); draws, coordinates and batch sizes of one unit
    share theta and are never counted as independent."""
    return rate([MEASURES[measure][rule](c) for c in cps])


def stage_rates(result, sweep: bool = False) -> dict:
    """'{measure}_{rule}_{stage}' -> (rate, stderr, units) for every measurement, rule and stage."""
    return {f"{m}_{r}_{st}": unit_rate(units(result, st, sweep), m, r)
            for st in STAGES for m, rules in MEASURES.items() for r in rules}


def rule_verdict(r, fail_claim: bool) -> str:
    """'usually pass' (or, with ``fail_claim``, 'usually fail') from a unit rate (rate, stderr, units)."""
    if not r[2]:
        return "not run"
    return usually((1 - r[0], r[1], r[2]) if fail_claim else r)


def combine_rules(verdicts: dict, power: dict) -> tuple[str, str]:
    """One verdict from the rules that have power at this n (their controls): theirs when they agree; inconclusive,
    "rule-dependent", when they disagree, or when no rule has power. The note says which rule gives what."""
    informative = {k: v for k, v in verdicts.items() if power[k]}
    parts = [f"{RULE_NAMES[k]}: {v}" + ("" if power[k] else " (no power at this n)") for k, v in verdicts.items()]
    if not informative:
        return "inconclusive", "no rule has power at this n (" + "; ".join(parts) + ")"
    if len(set(informative.values())) > 1:
        return "inconclusive", "rule-dependent (" + "; ".join(parts) + ")"
    return next(iter(informative.values())), "; ".join(parts) if len(parts) > 1 else ""


def _pct(r) -> str:
    """'83 % ± 25 % of 4 units' (2 standard errors)."""
    return "not measured" if not r[2] else f"{r[0]:.0%} ± {2 * r[1]:.0%} of {r[2]} units"


def spectrum_s(result, stage: str = "end") -> dict:
    """s of the spectra of one stage (at the recipe's batch size) with their resolved k-range and the largest spread
    of s over k <= k_max."""
    sp = [c.spectrum for c in units(result, stage) if c.spectrum]
    if not sp:
        return {"s_min": float("nan"), "s_max": float("nan"), "k_max": 0, "n": 0, "s_spread": float("nan")}
    s = [x.s for x in sp]
    return {"s_min": min(s), "s_max": max(s), "k_max": sp[0].k_max, "n": sp[0].n,
            "s_spread": max(x.s_spread for x in sp)}


def subspace_claim(result, **common) -> Claim:
    """Stable top subspace: sin Theta_1 <= SUBSPACE_SIN_TOL and sin Theta growing to the largest k, per checkpoint."""
    st = [c.subspace for c in result.checkpoints if c.subspace and c.subspace.ks]
    statement = ("The top learning subspace is stable across independent halves of the samples (sin Θ_k small for "
                 "small k, growing with k as the eigengaps shrink; Davis-Kahan)")
    if not st:
        return Claim(id="subspace_stable", statement=statement,
                     paper_value="large eigengaps make the top subspace robust", ours="not measured",
                     verdict="not run", dataset="", source=SOURCE_SUBSPACE, figure="fig3b_subspace_stability",
                     **common)
    ok = [s.sin_theta[0] <= SUBSPACE_SIN_TOL and s.sin_theta[-1] > s.sin_theta[0] for s in st]
    p, se, n = rate(ok)
    rho = stats.spearmanr(np.concatenate([s.rel_gap for s in st]), np.concatenate([s.sin_theta for s in st]))[0]
    return Claim(id="subspace_stable", statement=statement,
                 paper_value="large eigengaps make the top subspace robust",
                 ours=f"{p:.0%} of {n} spectra stable; Spearman(relative gap, sin Theta) = {rho:.2f}",
                 verdict=majority_verdict(p, se), dataset="all settings", source=SOURCE_SUBSPACE,
                 figure="fig3b_subspace_stability",
                 detail=f"sin Theta_1 <= {SUBSPACE_SIN_TOL} and larger at k = {st[0].ks[-1]}", **common)


def _acc(cps) -> str:
    a = [c.train_acc for c in cps if np.isfinite(c.train_acc)]
    if not a:
        return "training accuracy not measured"
    return f"training accuracy {a[0]:.1%}" if min(a) == max(a) else f"training accuracy {min(a):.1%}–{max(a):.1%}"


def tail_row(result, measure: str, stage: str, controls, fail_claim: bool, detail: str = "", **row) -> Claim:
    """A 'usually pass' (or fail) row of a KS-tested measurement: unit = (setting, stage), both rules, verdict from
    the rules with power in the controls at the same n. ``row``: the Claim's other fields."""
    cps = units(result, stage)
    if not cps:
        return Claim(**row, ours=f"not measured at the {STAGE_NAMES[stage]} in this profile", verdict="not run",
                     detail=detail)
    rates = {r: unit_rate(cps, measure, r) for r in MEASURES[measure]}
    raw = {r: rule_verdict(x, fail_claim) for r, x in rates.items()}
    verdict, note = combine_rules(raw, {r: controls.has_power(r) for r in rates})
    ours = "; ".join(f"{RULE_NAMES[r]} {_pct(x)} pass" for r, x in rates.items())
    gauss = ", ".join(f"{RULE_NAMES[r]} {controls.rates[r]['gaussian']:.0%}" for r in rates)
    return Claim(**row, ours=f"{STAGE_NAMES[stage]}: {ours} (units: settings x stages; Gaussian controls at the same "
                 f"n: {gauss}); {_acc(cps)}", verdict=verdict if cps else "not run",
                 detail="; ".join(x for x in (note, detail) if x))


STAGE_NAMES = {"init": "random init", "during": "early and middle checkpoints", "end": "end of training"}


def spectrum_row(result, stage: str, spec_controls, sweep: bool = False, fail_claim: bool = False, **row) -> Claim:
    """A spectrum row: the share of (setting, stage) spectra passing on the resolved k <= n/10 and on its top quarter
    (the fitted range is our choice): each range counts where the control spectra show power there; ranges with
    power that disagree make the row inconclusive ("rule-dependent")."""
    cps = [c for c in units(result, stage, sweep) if c.spectrum]
    if not cps:
        return Claim(**row, ours=f"no spectrum at the {STAGE_NAMES[stage]} in this profile", verdict="not run")
    rates = {"resolved": unit_rate(cps, "spec"),
             "quarter": rate([float(c.spectrum.pass_by_k[0]) for c in cps if c.spectrum.ks])}
    power = {"resolved": spec_controls.has_power, "quarter": spec_controls.has_power_at(0)}
    verdict, note = combine_rules({k: rule_verdict(r, fail_claim) for k, r in rates.items()}, power)
    s = [c.spectrum.s for c in cps]
    k0 = min((c.spectrum.ks[0] for c in cps if c.spectrum.ks), default=0)
    return Claim(**row, ours=f"{STAGE_NAMES[stage]}: {_pct(rates['resolved'])} pass on k ≤ {cps[0].spectrum.k_max} "
                 f"of n = {cps[0].spectrum.n} (s = {min(s):.2f}–{max(s):.2f}), {_pct(rates['quarter'])} on the top "
                 f"{k0}", verdict=verdict, detail=note)


def claims(result, cfg, acceptance, mech, controls: dict) -> list[Claim]:
    """The chapter's scorecard rows, every number and verdict computed here. ``controls``: "dim" and "iter"
    (TailControls at the real tests' n) and "spec" (SpectrumControls)."""
    data = "+".join(dict.fromkeys(d for d, _, _ in result.settings))
    common = dict(profile=cfg.profile, dataset=data)
    dim, it, sp = controls["dim"], controls["iter"], controls["spec"]
    i1 = int(np.argmin(np.abs(np.asarray(mech.s) - 1.0)))
    gauss_free = acceptance.rates["free"][-1]
    tail = dict(paper_value="usually pass", source=SOURCE, basis="abstract", **common)
    fail = dict(paper_value="usually fail", source=SOURCE, basis="abstract", **common)
    spec = dict(source=SOURCE_SPEC, figure="fig3_covariance_spectrum", **common)
    rows = [
        tail_row(result, "dim", "end", dim, False, id="dim_grad_powerlaw", **tail, figure="fig1_dimension_wise",
                 statement=f"Dimension-wise gradients usually have power-law tails (KS distance below d_c on the "
                 f"top {cfg.top_k} |g_i| of a minibatch gradient, or with a free x_min)"),
        tail_row(result, "dim", "during", dim, False, id="dim_grad_powerlaw_during", **tail,
                 figure="fig1_dimension_wise", statement="Dimension-wise gradients usually have power-law tails, "
                 "early and midway through training"),
        tail_row(result, "noise_dim", "end", dim, True, id="dim_noise_not_powerlaw", **fail,
                 figure="fig1_dimension_wise", statement="Dimension-wise minibatch noise g_B − ∇L usually does not "
                 "have a power-law tail", detail="the abstract's noise clause does not say dimension- or "
                 "iteration-wise: we test both"),
        tail_row(result, "iter", "end", it, True, id="iter_grad_not_powerlaw", **fail, figure="fig2_iteration_wise",
                 statement="Iteration-wise gradients (one coordinate over minibatches at a fixed θ, our reading of "
                 "'iteration-wise') usually do not have power-law tails"),
        tail_row(result, "iter_noise", "end", it, True, id="iter_noise_not_powerlaw", **fail,
                 figure="fig2_iteration_wise", statement="Iteration-wise minibatch noise usually does not have a "
                 "power-law tail"),
        tail_row(result, "iter", "during", it, True, id="iter_grad_not_powerlaw_during", **fail,
                 figure="fig2_iteration_wise", statement="Iteration-wise gradients usually do not have power-law "
                 "tails, early and midway through training"),
        spectrum_row(result, "end", sp, id="spectrum_powerlaw", paper_value="power law", basis="abstract", **spec,
                     statement="The covariance spectrum of stochastic gradients is a power law λ_k ∝ k^(−s) (KS "
                     "distance below d_c on the resolved top k ≤ n/10)"),
        spectrum_row(result, "during", sp, id="spectrum_powerlaw_during", paper_value="power law", basis="abstract",
                     **spec, statement="The covariance spectrum is a power law early and midway through training"),
        spectrum_row(result, "init", sp, fail_claim=True, id="spectrum_init_not_powerlaw", beyond=True,
                     paper_value="not a power law at random init", basis="derived here",
                     **{**spec, "source": "the group's companion paper (Tang et al. 2025, Table 1) finds this for "
                        "the Hessian; not stated in this paper's abstract"},
                     statement="At random initialisation the covariance spectrum is not a power law"),
    ]
    if any(b != cfg.batch_size for _, _, b in result.settings):
        rows.append(spectrum_row(result, "end", sp, sweep=True, id="spectrum_batch_sweep",
                                 paper_value="power law at every batch size ('universal')", basis="summary",
                                 **{**spec, "source": "third-party summary (liner.com), not the paper's text"},
                                 statement="The covariance spectrum stays a power "
                                 "law when the training batch size grows (batch-size sweep, end of training)"))
    rows += [
        Claim(id="mechanism_scale_mixture",
              statement="Gaussian coordinates with variances σ_k² ∝ k^(−s) pool into a dimension-wise power law "
              "with β = 1 + 2/s", paper_value=f"{mech.beta_predicted[i1]:.2f} (s = {mech.s[i1]:g})",
              ours=f"{mech.beta_fit[i1]:.2f} on {mech.n_coords:,} coordinates",
              verdict=interval_verdict(mech.beta_fit[i1], mech.beta_sigma[i1], mech.beta_predicted[i1],
                                       partly_within=0.2), **{**common, "dataset": "synthetic"},
              source="derived here", basis="derived here", beyond=True, figure="fig4_lenient_rule_and_mechanism"),
        Claim(id="naive_rule_lenient",
              statement="The KS rule with a free x_min accepts Gaussian samples", paper_value="—",
              ours=f"{gauss_free:.0%} of Gaussian samples of n = {acceptance.sizes[-1]} accepted (top 20 %: "
              f"{acceptance.rates['top20'][-1]:.0%})", **{**common, "dataset": "synthetic"},
              verdict=majority_verdict(
                  gauss_free, math.sqrt(max(gauss_free * (1 - gauss_free), 0.25 / cfg.n_rep) / cfg.n_rep)),
              detail="which x_min rule the paper used could not be read", source="derived here",
              basis="derived here", beyond=True, figure="fig4_lenient_rule_and_mechanism"),
        subspace_claim(result, beyond=True, basis="summary", profile=cfg.profile),
    ]
    return rows
