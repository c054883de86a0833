"""The synthesis table: one row per mechanism experiment (a-d), each with its rule's controls."""
from __future__ import annotations

import numpy as np

from ...core.verdicts import Z, worst
from . import analysis as an
from .claims import WORDS, _pm

KEYS_D = ("alpha_pooled", "alpha_std_cal", "iter_pass", "spectrum_s", "noise_strength", "h_top", "phi",
          "weight_change", "test_error")


def mechanism_a(end: list[dict], cfg, shape: tuple) -> tuple[list[dict], object]:
    """Per net: fraction of 2 - pooled alpha-hat that Gaussian noise with the measured variances explains."""
    ctrl = an.mixture_controls(cfg, shape)
    rows = []
    for net in sorted({r["net"] for r in an.ok(end)}):
        sel = an.ok(end, net=net)
        n = len({r["seed"] for r in sel})
        (f, se), (fv, sev) = an.explained(sel), an.explained(sel, "mix_diag")
        fl, sel_ = an.explained(sel, "mix_lowrank")
        v = an.mixture_rule(f - Z * se, f + Z * se)
        (p, pse), (m, mse) = an.seed_stat(sel, "alpha_pooled"), an.seed_stat(sel, "mix_robust")
        z, _ = an.seed_stat(sel, "zero_frac")
        rows.append({"id": f"mix_{net}", "dataset": net, "figure": "scale_mixture", "verdict": v,
                     "statement": "Gaussian noise with the measured per-coordinate scales reproduces most of the "
                                  "pooled α̂'s distance from 2 (scale heterogeneity)",
                     "target": "fraction explained > 1/2", "ours": f"{_pm(f, se, n)} with robust scales; with the "
                                                                  f"variances {_pm(fv, sev, n)}, with the low-rank "
                                                                  f"covariance {_pm(fl, sel_, n)}",
                     "detail": f"pooled α̂ {_pm(p, pse, n)}, robust scale mixture {_pm(m, mse, n)}; exact zeros "
                               f"{z:.0%} of the noise entries; controls: {ctrl.positive_rate:.0%} holds on "
                               f"heterogeneous Gaussians, {ctrl.negative_rate:.0%} does not hold on equal-scale "
                               "stable noise"})
    return rows, ctrl


def mechanism_b(end: list[dict], cfg) -> tuple[list[dict], object, np.ndarray]:
    """Per net: the top-variance coordinates' alpha-hat against a Gaussian control of the same size."""
    n = cfg.coord_batches
    gauss = an.gaussian_coordinate_alphas(n, 400, cfg.seed)
    heavy = float(np.median([an.tail_index(c).alpha for c in an.sample_sas(1.5, (n, 400)).double().T]))
    cols = cfg.top_coords * max(1, len(an.ok(end)) // max(1, cfg.n_seeds * len({r["net"] for r in an.ok(end)})))
    g_med, g_se = an.median_se(gauss)
    ctrl = an.coordinate_controls(cfg, n, g_med, heavy, cols, g_se)
    rows = []
    for net in sorted({r["net"] for r in an.ok(end)}):
        sel = an.ok(end, net=net)
        ns = len({r["seed"] for r in sel})
        m, se = an.coordinate_stat(sel)
        v = an.coordinate_rule(m, se, g_med, heavy, g_se)
        pr, prse = an.seed_stat(sel, "coord_pass")
        rows.append({"id": f"coord_{net}", "dataset": net, "figure": "coordinate_tails", "verdict": v,
                     "statement": "each high-variance coordinate, across minibatches, reads like a Gaussian sample "
                                  "of its size", "target": f"Gaussian control α̂ {np.median(gauss):.2f} "
                                                           f"(stable α = 1.5 reads {heavy:.2f})",
                     "ours": f"median {_pm(m, se, ns)}; power-law pass {_pm(pr, prse, ns)}",
                     "detail": f"{cfg.top_coords} highest-variance coordinates, {n} minibatches each; "
                               f"controls: {ctrl.positive_rate:.0%} / {ctrl.negative_rate:.0%}"})
    return rows, ctrl, gauss


def mechanism_c(lin: list[dict], end: list[dict]) -> list[dict]:
    """Linear model (chapter 3): phi-hat vs 1 + B/(lr h*) with light-tailed noise; nets: Hill index of the late
    iterates along the top Hessian direction against 2 phi - 1."""
    vs = [an.iterate_rule(r["phi_fit"], r["phi_se"], r["phi_chain"], r["noise_hill"], r["noise_hill_se"])
          for r in lin]
    nets = an.ok(end)
    hill = np.nanmedian([r.get("iter_hill", np.nan) for r in nets]) if nets else np.nan
    pred = np.nanmedian([r.get("iter_pred", np.nan) for r in nets]) if nets else np.nan
    gauss_hill = an.gaussian_hill(len(nets[0].get("u") or []) if nets else 0)
    ours = "; ".join(f"η={r['lr']:g}, B={r['B']}: φ̂ {_pm(r['phi_fit'], r['phi_se'], 1)} vs {r['phi_theory']:.2f} "
                     f"(exact chain {r['phi_chain']:.2f}), noise Hill index {r['noise_hill']:.1f}" for r in lin)
    ctrl = an.noise_tail_controls()
    return [{"id": "iterates_linear", "dataset": "linear regression, d = 1", "figure": "iterate_tails",
             "verdict": worst(vs), "statement": "light-tailed noise yields power-law iterates, P ∝ L^(−φ), "
                                                   "through its multiplicative structure",
             "target": "φ̂ at the exact discrete-chain φ (chapter 3); noise Hill index > 2", "ours": ours,
             "detail": f"nets late in training: median Hill index of the iterates {hill:.2f} against a predicted "
                       f"2φ − 1 = {pred:.1f}; a Gaussian sample of the same length reads {gauss_hill:.2f}; noise "
                       f"rule's controls: {ctrl.positive_rate:.0%} / {ctrl.negative_rate:.0%}"}]


def mechanism_d(end: list[dict], cfg) -> tuple[list[dict], dict, object]:
    """Per net and quantity: slopes on log T and on log B at fixed T (all losses pooled, one point per run)."""
    nets = sorted({r["net"] for r in an.ok(end)})
    temp = {net: {k: an.t_b_slopes(an.ok(end, net=net), k) for k in KEYS_D} for net in nets}
    ctrl = an.temperature_controls(cfg, len(an.ok(end, net=nets[0])) if nets else 4)
    rows = []
    for net in nets:
        deps = {k: an.dependence(temp[net][k]["t_T"], temp[net][k]["t_B"]) for k in KEYS_D}
        v = an.temperature_rule(temp[net]["weight_change"]["t_T"], temp[net]["weight_change"]["t_B"])
        rows.append({"id": f"temperature_{net}", "dataset": net, "figure": "temperature", "verdict": v,
                     "statement": "the relative weight change depends on T = η/B and not on B at fixed T",
                     "target": "slope on log T significant, on log B not",
                     "ours": ", ".join(f"{an.QUANTITIES[k][0]}: {d}" for k, d in deps.items()),
                     "detail": f"OLS on log T and log B, |t| > {Z:g}; controls: {ctrl.positive_rate:.0%} / "
                               f"{ctrl.negative_rate:.0%}"})
    return rows, temp, ctrl


def verdict_words(rows: list[dict]) -> list[dict]:
    """Rows for display: the verdict in words."""
    return [{"mechanism": r["statement"], "net": r["dataset"], "measured": r["ours"], "verdict": WORDS[r["verdict"]]}
            for r in rows]
