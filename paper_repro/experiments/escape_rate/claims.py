"""Scorecard rows of the escape-rate chapter: each names the paper's figure/equation; derived targets say so."""
from __future__ import annotations

import numpy as np

from ...core.results import Claim
from ...core.verdicts import interval_verdict, pm, tolerance, worst
from . import rules
from .config import CHAPTER  # noqa: F401 - the chapter's name, for readers of this module
from .run import CriticalResult, EscapeResult, StationaryResult

LINEAR = "linear regression (synthetic)"


KS_TOL = (2.0, 4.0)  # KS(exact, decoupled) / KS(half A, half B): reproduced <= 2, partly <= 4


def ks_ratio(s) -> float:
    """Whole-distribution distance of one spectrum pair in units of the split-half null (NaN when not measured)."""
    return s.ks["half"] / s.ks["null"] if s.ks and s.ks["null"] > 0 else float("nan")


def spectra_verdict(s) -> str:
    """Tolerance on KS / null for one epoch, counted only where the rule separates its controls on the same halves:
    inconclusive when losses permuted over the samples (Eq. 7 holds exactly) and losses ranked by ||grad f||^2 (the
    alternative) get the same verdict."""
    if not s.ks or not s.ks["null"] > 0:
        return "inconclusive"
    pos, neg = (tolerance(s.ks[k] / s.ks["null"], *KS_TOL) for k in ("shuffled", "sorted"))
    return "inconclusive" if pos == neg else tolerance(ks_ratio(s), *KS_TOL)


def decoupling_claims(cfg, dec) -> list[Claim]:
    """Fig. 1: whole distributions of log lambda above a floor (the paper's claim; no number in the paper), and the
    top-100 rank-by-rank distance (beyond: a stricter pairing than 'statistically similar')."""
    ratios = [ks_ratio(s) for s in dec]
    dist = max(s.log_spectrum_distance for s in dec)
    common = dict(dataset="MNIST parity", profile=cfg.profile, source="Sec. 5.1, Fig. 1, Eq. (7)",
                  figure="fig1_decoupling_spectra", basis="paper")
    statement = (r"Exact $\frac1N\sum_\mu\ell_\mu\nabla f_\mu\nabla f_\mu^\top$ and decoupled "
                 r"$L\,\frac1N\sum_\mu\nabla f_\mu\nabla f_\mu^\top$ have similar eigenvalue distributions")
    return [Claim(id="decoupling_spectra", statement=statement,
                  paper_value="histograms agree except very small eigenvalues",
                  ours="KS distance / split-half null = " + ", ".join(f"{r:.1f} (epoch {s.epoch})"
                                                                         for r, s in zip(ratios, dec)),
                  verdict=worst(spectra_verdict(s) for s in dec),
                  detail=f"log10 λ above {cfg.dec_floor:g} λ1 on random halves of the samples; null: two halves of "
                  f"the exact matrix; rule: ratio ≤ {KS_TOL[0]:g} reproduced, ≤ {KS_TOL[1]:g} partly, worst epoch; "
                  "inconclusive where the controls (losses permuted / ranked by ‖∇f‖²) get the same verdict",
                  **common),
            Claim(id="decoupling_top100", statement=statement.replace("eigenvalue distributions",
                                                                      "top 100 eigenvalues, rank by rank"),
                  paper_value="histograms agree except very small eigenvalues",
                  ours=f"max mean |Δlog10 λ| over the top 100 = {dist:.3f}", verdict=tolerance(dist, 0.1, 0.3),
                  detail="tolerance 0.1 (reproduced) / 0.3 (partly) on the mean log distance; Frobenius errors "
                  + ", ".join(f"{s.frobenius_error:.2f}@ep{s.epoch}" for s in dec), beyond=True, **common)]


def noise_verdict(r) -> str:
    """'Roughly proportional' (:func:`rules.roughly_proportional`) on the late slope; inconclusive when not late."""
    s, se = r.fit
    return rules.roughly_proportional(s, se) if r.late else "inconclusive"


def noise_claims(cfg, noise) -> list[Claim]:
    """Fig. 2: slope of log N against log L over the last decade of L, one row per run."""
    return [Claim(id=f"noise_vs_loss_{r.label.split()[0].lower()}",
                  statement=r"Noise strength $\mathcal N\propto L$ roughly, late in training",
                  paper_value="𝒩 ∝ L roughly at a later stage (Fig. 2: dashed slope 1)",
                  ours=f"slope {pm(r.fit[0], r.fit[1], 2)}",
                  verdict=noise_verdict(r), dataset=r.label, profile=cfg.profile,
                  detail=f"fit over the last decade of L ({int(r.window.sum())} records); error allows for "
                  "correlated epochs (block bootstrap / AR(1)); rule: slope ± 2 se within 1 ± 0.2 reproduced, "
                  "within 1 ± 0.4 partly"
                  + ("" if r.late else "; L fell less than 1.5 decades after epoch 1: not the late stage"),
                  source="Sec. 5.2, Fig. 2, Eq. (24)", figure="fig2_noise_vs_loss", basis="paper") for r in noise]


def _phi_verdicts(rows, key: str, alt: str) -> list[str]:
    """Fitted phi against ``key``; inconclusive when +-2 se also holds the other prediction ``alt``."""
    return [interval_verdict(r["phi_fit"], r["phi_se"], r[key], tuple(a for a in (r[alt],) if np.isfinite(a)
                                                                     and a != r[key]), partly_within=0.1 * r[key])
            for r in rows if np.isfinite(r[key])]


def stationary_claims(cfg, stat: StationaryResult) -> list[Claim]:
    """Fig. 3a: at eta = 1 (the one eta the paper names) the 'slight deviation' from 1 + B/(eta h*); at the other
    eta the interval test against Eq. (18) (beyond: the paper does not name them); the discrete chain (derived)."""
    fmt = lambda rows, key: "; ".join(f"B={r['batch_size']}: {r['phi_fit']:.2f} ± {2 * r['phi_se']:.2f} vs "  # noqa
                                      f"{r[key]:.2f}" for r in rows if np.isfinite(r[key]))
    common = dict(dataset=LINEAR + ", Gaussian x, d = 1", profile=cfg.profile, figure="fig4_phi_vs_batch")
    out = []
    for lr in dict.fromkeys(r["lr"] for r in stat.rows):
        rows = [r for r in stat.rows if r["lr"] == lr]
        if lr == 1.0:
            ratio = ", ".join(f"{r['phi_fit'] / r['phi_theory']:.2f}" for r in rows)
            out.append(Claim(id="stationary_phi_eta1",
                             statement=r"At $\eta = 1$ the fitted $\phi$ deviates only slightly from "
                             r"$1 + B/(\eta h^*)$",
                             paper_value="φ slightly deviates from 1 + B/(ηh*) at η = 1",
                             ours=f"φ_fit / φ_theory = {ratio} (B = {', '.join(str(r['batch_size']) for r in rows)})",
                             verdict=rules.slight_deviation([r["phi_fit"] for r in rows], [r["phi_se"] for r in rows],
                                                            [r["phi_theory"] for r in rows]),
                             detail="rule: |φ_fit/φ_theory − 1| ± 2 se within 0.2 reproduced, within 0.35 partly, "
                             "worst over B; the discrete chain's algebra gives φ = (B + 1)/2 at ηh* = 1, half of "
                             "1 + B/(ηh*) for every B", source="Sec. 5.3, Fig. 3a, Eq. (18)", basis="paper", **common))
            continue
        v = _phi_verdicts(rows, "phi_theory", "phi_chain")
        out.append(Claim(id=f"stationary_phi_eta{lr:g}",
                         statement=rf"$P\propto L^{{-\phi}}$ with $\phi = 1 + B/(\eta h^*)$ at $\eta = {lr:g}$",
                         paper_value="fitted φ on the theory line (η not named in the paper)",
                         ours=fmt(rows, "phi_theory"), verdict=worst(v),
                         detail=f"{v.count('reproduced')}/{len(v)} batch sizes inside ±2 se; partly = within 10%",
                         source="Sec. 5.3, Fig. 3a, Eq. (18)", basis="paper", beyond=True, **common))
    v = _phi_verdicts(stat.rows, "phi_chain", "phi_theory")
    out.append(Claim(id="stationary_phi_chain",
                     statement=r"Fitted $\phi$ equals the discrete SGD chain's own prediction "
                     r"$3/2 + L^*/(h^*\,\mathbb E u^2)$",
                     paper_value="exact stationary E u² of the chain",
                     ours=fmt(stat.rows, "phi_chain"), verdict=worst(v),
                     detail=f"{v.count('reproduced')}/{len(v)} settings with finite variance inside ±2 se; "
                     "partly = within 10%", source="derived here", basis="derived here", beyond=True, **common))
    return out


def escape_claims(cfg, esc: EscapeResult) -> list[Claim]:
    """Fig. 3b: escape slope per (dynamics, inputs, d) against the decoupled SDE's exact slope over the same window
    (SGD, Gaussian x: the paper's experiment; decoupled SDE: the paper's model, beyond); Rademacher x at d = 1
    against constant-noise Langevin (derived here)."""
    out = []
    for key in esc.runs:
        dyn, inp, d = key.split("/")
        if dyn == "langevin":
            continue  # a negative control, not a claim (see controls)
        e, w = esc.runs[key], esc.window(key)
        (s, se), n = esc.slope(key), int(w.sum())
        dec, lang = esc.predicted(key, "decoupled"), esc.predicted(key, "langevin")
        win = f"c = {e.c[w].min():g}–{e.c[w].max():g}" if n else "no threshold with ≤ 10% censored"
        rad = inp == "rademacher"
        target, alt = (lang, dec) if rad else (dec, lang)
        out.append(Claim(
            id=f"escape_slope_{dyn}_{inp}_d{d}",
            statement=(rf"Rademacher-input SGD ($d = {d}$) escapes like constant-noise Langevin dynamics" if rad else
                       rf"$t_p\propto c^{{B/(\eta h^*)+1-n/2}}$ ({'SGD' if dyn == 'sgd' else 'decoupled SDE'}, "
                       rf"Gaussian $x$, $d=n={d}$)"),
            paper_value=(f"Langevin slope over {win}: {lang:.2f}" if rad else
                         f"decoupled SDE (Eq. 13) over {win}: {dec:.2f}; Eq. (17) asymptote {esc.theory[key]:.2f}"),
            ours=f"slope {pm(s, se, 2)} ({win}, η = {cfg.esc_lr:g}, B = {cfg.esc_batch_size})",
            verdict=rules.escape_verdict(s, se, target, alt, n), dataset=LINEAR, profile=cfg.profile,
            detail=f"alternative: {'decoupled' if rad else 'Langevin'} slope {alt:.2f}; partly within 20%; "
            f"exact finite-c slopes by quadrature; min escaped fraction in the window "
            f"{e.escaped[w].min() if n else 0:.0%}",
            source="derived here" if rad else "Sec. 5.3, Fig. 3b, Eqs. (13), (17)",
            basis="derived here" if rad else "paper", beyond=dyn != "sgd" or rad, figure="fig6_escape_time"))
    return out


def critical_claims(cfg, crit: CriticalResult) -> list[Claim]:
    """Eq. (19): the decoupled SDE's log L drifts down below n_c and runs away above it."""
    dec = {d: crit.drift[("decoupled", d)] for d in crit.times}
    return [Claim(id="critical_dimension",
                  statement=r"A minimum is stable only for $n < n_c = 2(B/(\eta h^*) + 1)$",
                  paper_value=f"n_c = {crit.n_c:g} at ηh*/B = {crit.eps:g}",
                  ours="; ".join(f"d = {d}: {pm(m, se, 2)}" for d, (m, se) in dec.items())
                  + " (d log L/dt at L = 100 L*)", verdict=rules.critical_verdict(dec, crit.n_c),
                  dataset=LINEAR + ", decoupled SDE", profile=cfg.profile,
                  detail="rule: drift of log L < 0 by 2 se at every d < n_c and > 0 at every d > n_c; "
                  f"large-L prediction ηh*/B·(d − n_c); fine Euler–Maruyama steps dt = {cfg.nc_dt:g}/h*",
                  source="Eq. (19)", basis="paper", figure="fig8_critical_dimension")]


def claims(cfg, dec, noise, stat: StationaryResult, esc: EscapeResult, crit: CriticalResult) -> list[Claim]:
    """Scorecard rows, every number and verdict computed from the results."""
    return (decoupling_claims(cfg, dec) + noise_claims(cfg, noise) + stationary_claims(cfg, stat)
            + escape_claims(cfg, esc) + critical_claims(cfg, crit))
