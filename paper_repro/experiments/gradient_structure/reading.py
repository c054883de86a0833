"""Chapter 4 reading: table rows for the rendered tables and every value the text quotes, all computed."""
from __future__ import annotations

import numpy as np

from .claims import MEASURES, RULE_NAMES, STAGES, spectrum_s, stage_rates, unit_rate, units
from .controls import LABELS, SOURCES, spectrum_fit_ratio

MECH_TOL = 0.2  # |fitted - predicted| dimension-wise noise beta counted as a match of the mechanism on real gradients


def _where(result, c) -> dict:
    """The unit's setting, stage (percent of training) and training state."""
    last = result.of(c.dataset, c.model, c.batch_size)[-1].step
    b = "" if c.batch_size == result.settings[0][2] else f", B = {c.batch_size}"
    return {"setting": f"{c.dataset} / {c.model}{b}", "stage": f"{c.step / max(last, 1):.0%} (step {c.step})",
            "train acc": f"{c.train_acc:.1%}", "train loss": c.train_loss}


def training_rows(result) -> list[dict]:
    """Per (setting, stage): step, training accuracy and loss."""
    return [_where(result, c) for c in result.checkpoints]


def run_facts(result, cfg) -> dict:
    """The run's sizes and training length that the text quotes (recipe_frac: steps over the recipe's MNIST run,
    50 epochs of 60,000 images at B = 128)."""
    from .config import epochs_of

    d, m, b = next((s for s in result.settings if s[0] == "mnist"), result.settings[0])
    steps = result.of(d, m, b)[-1].step if result.of(d, m, b) else 0
    acc = [c.train_acc for c in units(result, "end")]
    return {"run_epochs": epochs_of(cfg, d), "run_n_train": cfg.n_train, "run_steps": steps,
            "recipe_frac": steps / (50 * (60_000 // 128)), "run_draws": cfg.n_draws,
            "run_stages": ", ".join(f"{f:.0%}" for f in cfg.stages), "run_n_spectrum": cfg.n_spectrum,
            "run_n_batches": cfg.n_batches, "run_n_coords": cfg.n_coords, "n_settings": len(result.settings),
            "top_k": cfg.top_k, "end_acc_min": min(acc, default=float("nan")),
            "end_acc_max": max(acc, default=float("nan"))}


def claim_rows(claims) -> list[dict]:
    """The chapter's scorecard as a table: verdict, claim, what we found, and how the verdict was reached."""
    return [{"verdict": c.verdict, "claim": c.statement, "here": c.ours + (f" — {c.detail}" if c.detail else ""),
             "target from": c.basis + (", beyond the paper" if c.beyond else "")} for c in claims]


def counting_rows(result, claims) -> list[dict]:
    """The dimension-wise rows counted per minibatch draw (draws as independent) against per unit, fixed tail."""
    from .claims import rate as _rate
    from .claims import rule_verdict

    rows = []
    for cid, measure, stage, fail in (("dim_grad_powerlaw", "dim", "end", False),
                                      ("dim_grad_powerlaw_during", "dim", "during", False),
                                      ("dim_noise_not_powerlaw", "noise_dim", "end", True)):
        cps = units(result, stage)
        if not cps:
            continue
        fn = MEASURES[measure]["top_k"]
        per_draw = _rate([x for c in cps for x in [fn(c)] * len(c.dim_betas)])
        per_unit = unit_rate(cps, measure)
        shown = [f"{r[0]:.0%} ± {2 * r[1]:.0%} ({r[2]}) → {rule_verdict(r, fail)}" for r in (per_draw, per_unit)]
        rows.append({"claim": next(c.statement for c in claims if c.id == cid), "per draw": shown[0],
                     "per unit": shown[1]})
    return rows


def dimension_rows(result) -> list[dict]:
    """Per (setting, stage): pass fractions over the minibatch draws under both rules, for gradient and noise."""
    return [{**{k: v for k, v in _where(result, c).items() if k in ("setting", "stage")}, "gradient: fixed tail": c.dim_pass_rate, "gradient: free x_min": c.dim_pass_rate_free,
             "noise: fixed tail": c.noise_pass_rate, "noise: free x_min": c.noise_pass_rate_free,
             "β̂ (fixed tail)": c.dim_top.beta} for c in result.checkpoints]


def iteration_rows(result) -> list[dict]:
    """Per (setting, stage): fraction of coordinates passing, mean over the test batch sizes, under both rules."""
    return [{**{k: v for k, v in _where(result, c).items() if k in ("setting", "stage")},
             **{f"{what}: {RULE_NAMES[r]}": MEASURES[m][r](c) for what, m in (("gradient", "iter"),
                                                                          ("noise", "iter_noise")) for r in MEASURES[m]},
             "fixed tail by B": " / ".join(f"{p:.2f}" for p in c.iter_pass_grad)} for c in result.checkpoints]


def spectrum_rows(result) -> list[dict]:
    """Per (setting, stage): s on the resolved range, its spread over k, d_ks / d_c, verdict of the fit."""
    return [{**{k: v for k, v in _where(result, c).items() if k in ("setting", "stage")}, "s": c.spectrum.s,
             "k range": f"1–{c.spectrum.k_max}", "s spread over k": c.spectrum.s_spread,
             "d_ks / d_c": spectrum_fit_ratio(c.spectrum), "power law": bool(c.spectrum.fit.passes)}
            for c in result.checkpoints if c.spectrum]


def control_rows(dim_controls, iter_controls) -> list[dict]:
    """Pass rates of each control source under each rule, at the dimension-wise and the iteration-wise n."""
    return [{"sample": LABELS[src],
             **{f"dimension-wise ({RULE_NAMES[r]})": dim_controls.rates[r][src] for r in dim_controls.rates},
             **{f"iteration-wise ({RULE_NAMES[r]})": iter_controls.rates[r][src] for r in iter_controls.rates}}
            for src in SOURCES]


def spectrum_control_rows(spec_controls) -> list[dict]:
    """The spectrum fit on the control spectra."""
    return [{"spectrum": k, "s": f.s, "s spread over k": f.s_spread, "d_ks / d_c": spectrum_fit_ratio(f),
             "power law": bool(f.fit.passes)} for k, f in spec_controls.fits.items()]


def unit_rate_rows(result) -> list[dict]:
    """Pass fraction per measurement, rule and stage, over units (settings at that stage), with 2 standard errors."""
    names = {"dim": "dimension-wise gradient", "noise_dim": "dimension-wise noise", "iter": "iteration-wise gradient",
             "iter_noise": "iteration-wise noise", "spec": "covariance spectrum"}
    rows = []
    for m, rules in MEASURES.items():
        for r in rules:
            row = {"measurement": names[m], "rule": RULE_NAMES[r] if m != "spec" else "top k ≤ n/10"}
            for st in STAGES:
                p, se, n = unit_rate(units(result, st), m, r)
                row[st] = f"{p:.0%} ± {2 * se:.0%} ({n})" if n else "—"
            rows.append(row)
    return rows


def subspace_rows(result) -> list[dict]:
    """Figure 3b's table: sin Theta_k, bound (clipped at 1) and relative gap at each k."""
    return [{**{x: v for x, v in _where(result, c).items() if x in ("setting", "stage")}, "k": k, "sin Θ_k": s,
             "bound": min(b, 1.0), "relative gap": g}
            for c in result.checkpoints if c.subspace for k, s, b, g in
            zip(c.subspace.ks, c.subspace.sin_theta, c.subspace.dk_bound, c.subspace.rel_gap)]


def synthetic_reading(acceptance, mech) -> dict:
    """How often each rule accepts Gaussian samples (smallest and largest n), and the mechanism at s = 1."""
    i1 = int(np.argmin(np.abs(np.asarray(mech.s) - 1.0)))
    top, free = acceptance.rates["top20"], acceptance.rates["free"]
    return {"accept_n_min": acceptance.sizes[0], "accept_n_max": acceptance.sizes[-1], "accept_top20_n_min": top[0],
            "accept_top20_n_max": top[-1], "accept_free_n_max": free[-1], "mech_s": mech.s[i1],
            "mech_beta_fit": mech.beta_fit[i1], "mech_beta_pred": mech.beta_predicted[i1],
            "mech_iter_pass": mech.iter_pass[i1]}


def mechanism_reading(result) -> dict:
    """Share of checkpoints where 2 beta_var - 1 predicts the fitted noise exponent within MECH_TOL; median gap."""
    gaps = [abs(c.noise_free.beta - (2 * c.var_fit.beta - 1)) for c in result.checkpoints]
    return {"mech_real_tol": MECH_TOL, "mech_real_frac": float(np.mean([g <= MECH_TOL for g in gaps])),
            "mech_real_gap": float(np.nanmedian(gaps))}


def reading(result, cfg, claims, controls: dict) -> dict:
    """Every value the chapter's text quotes."""
    out = {f"rate_{k}": v[0] for k, v in stage_rates(result).items()}
    out.update({f"units_{k}": v[2] for k, v in stage_rates(result).items()})
    out.update({f"spec_{k}": v for k, v in spectrum_s(result).items()})
    end = units(result, "end")
    acc = [c.train_acc for c in end]
    out.update(acc_min=min(acc, default=float("nan")), acc_max=max(acc, default=float("nan")),
               run_profile=cfg.profile, run_settings=len(result.settings), run_checkpoints=len(result.checkpoints),
               n_end_units=len(end), n_spectra_trained=sum(c.spectrum is not None and c.step > 0
                                                           for c in result.checkpoints),
               **{f"verdict_{c.id}": c.verdict for c in claims})
    out["spec_controls_phrase"] = (
        "The exact and the sampled power laws pass and the Marchenko-Pastur spectrum fails, so at this n the fit "
        "tells a power law from a curved spectrum" if controls["spec"].has_power else
        "At this n the fit does not separate the power-law controls from the curved one (table above), so the "
        "spectrum rows are inconclusive")
    for name in ("dim", "iter"):
        ctl = controls[name]
        out.update({f"ctl_{name}_{r}_{src}": ctl.rates[r][src] for r in ctl.rates for src in SOURCES})
        out[f"ctl_{name}_n"] = ctl.n
        out.update(control_phrases(ctl, name))
    return out


def control_phrases(ctl, name: str) -> dict:
    """What a result under each rule can and cannot mean, from the controls: the sources a fail speaks against,
    those it cannot tell from a Gaussian, and whether the free x_min has power."""
    return {f"ctl_{name}_excluded": ", ".join(ctl.excluded("top_k")) or "none of the controls",
            f"ctl_{name}_not_excluded": ", ".join(ctl.not_excluded("top_k")) or "none of the controls",
            f"ctl_{name}_pass_against": ", ".join(LABELS[x] for x in SOURCES if ctl.rates["top_k"][x] < 0.5
                                                  ) or "none of the controls",
            f"ctl_{name}_pass_not_against": ", ".join(LABELS[x] for x in SOURCES[:-1] if ctl.rates["top_k"][x] >= 0.5
                                                      ) or "none of the controls",
            f"ctl_{name}_free_power": "it has power here" if ctl.has_power("free") else
            "it cannot tell a power law from a Gaussian at this size, so its results say nothing here"}
