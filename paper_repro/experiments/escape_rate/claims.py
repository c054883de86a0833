"""Scorecard rows of the escape-rate chapter: each names the paper's figure/equation; derived targets say so."""
from __future__ import annotations

import numpy as np

from ...core.results import Claim
from ...core.verdicts import interval_verdict, tolerance, worst
from .config import CHAPTER  # noqa: F401 - the chapter's name, for readers of this module
from .run import EscapeResult, StationaryResult

LINEAR = "linear regression (synthetic)"


def decoupling_claims(cfg, dec) -> list[Claim]:
    """Fig. 1: distance between the top exact and decoupled eigenvalues (no number in the paper: tolerance)."""
    dist = max(s.log_spectrum_distance for s in dec)
    return [Claim(id="decoupling_spectra",
                  statement=r"Exact $\frac1N\sum_\mu\ell_\mu\nabla f_\mu\nabla f_\mu^\top$ and decoupled "
                  r"$L\,\frac1N\sum_\mu\nabla f_\mu\nabla f_\mu^\top$ have matching spectra during training",
                  paper_value="histograms agree except very small eigenvalues",
                  ours=f"max mean |Δlog10 λ| over the top 100 = {dist:.3f}",
                  verdict=tolerance(dist, 0.1, 0.3), dataset="MNIST parity", profile=cfg.profile,
                  detail="tolerance 0.1 (reproduced) / 0.3 (partly) on the mean log distance; Frobenius errors "
                  + ", ".join(f"{s.frobenius_error:.2f}@ep{s.epoch}" for s in dec),
                  source="Sec. 5.1, Fig. 1, Eq. (7)", figure="fig1_decoupling_spectra")]


def noise_verdict(r) -> str:
    """Slope 1 inside slope +- 2 se, and slope 0 (noise independent of L) outside; inconclusive when not late."""
    s, se = r.fit
    return interval_verdict(s, se, 1.0, (0.0,), partly_within=0.35) if r.late else "inconclusive"


def noise_claims(cfg, noise) -> list[Claim]:
    """Fig. 2: slope of log N against log L over the last decade of L, one row per run."""
    return [Claim(id=f"noise_vs_loss_{r.label.split()[0].lower()}",
                  statement=r"Noise strength $\mathcal N\propto L$ late in training",
                  paper_value="slope 1 on log-log axes", ours=f"slope {r.fit[0]:.2f} ± {r.fit[1]:.2f}",
                  verdict=noise_verdict(r), dataset=r.label, profile=cfg.profile,
                  detail=f"fit over the last decade of L ({int(r.window.sum())} records)"
                  + ("" if r.late else "; L fell less than 1.5 decades after epoch 1: not the late stage"),
                  source="Sec. 5.2, Fig. 2, Eq. (24)", figure="fig2_noise_vs_loss") for r in noise]


def _phi_verdicts(rows, key: str, alt: str) -> list[str]:
    """Fitted phi against ``key``; inconclusive when +-2 se also holds the other prediction ``alt``."""
    return [interval_verdict(r["phi_fit"], r["phi_se"], r[key], tuple(a for a in (r[alt],) if np.isfinite(a)
                                                                     and a != r[key]), partly_within=0.1 * r[key])
            for r in rows if np.isfinite(r[key])]


def stationary_claims(cfg, stat: StationaryResult) -> list[Claim]:
    """Fig. 3a: fitted phi against 1 + B/(eta h*) per fixed eta (paper), and against the discrete chain's prediction."""
    fmt = lambda rows, key: "; ".join(f"B={r['batch_size']}: {r['phi_fit']:.2f}±{r['phi_se']:.2f} vs "  # noqa
                                      f"{r[key]:.2f}" for r in rows if np.isfinite(r[key]))
    common = dict(dataset=LINEAR + ", Gaussian x, d = 1", profile=cfg.profile, figure="fig4_phi_vs_batch")
    out = []
    for lr in dict.fromkeys(r["lr"] for r in stat.rows):
        rows = [r for r in stat.rows if r["lr"] == lr]
        v = _phi_verdicts(rows, "phi_theory", "phi_chain")
        out.append(Claim(id=f"stationary_phi_eta{lr:g}",
                         statement=rf"$P\propto L^{{-\phi}}$ with $\phi = 1 + B/(\eta h^*)$ at $\eta = {lr:g}$",
                         paper_value="fitted φ on the theory line (a slight deviation at η = 1)",
                         ours=fmt(rows, "phi_theory"), verdict=worst(v),
                         detail=f"{v.count('reproduced')}/{len(v)} batch sizes inside ±2 se; partly = within 10%",
                         source="Sec. 5.3, Fig. 3a, Eq. (18)", **common))
    v = _phi_verdicts(stat.rows, "phi_chain", "phi_theory")
    out.append(Claim(id="stationary_phi_chain",
                     statement=r"Fitted $\phi$ equals the discrete SGD chain's own prediction "
                     r"$3/2 + L^*/(h^*\,\mathbb E u^2)$",
                     paper_value="exact stationary E u² of the chain",
                     ours=fmt(stat.rows, "phi_chain"), verdict=worst(v),
                     detail=f"{v.count('reproduced')}/{len(v)} settings with finite variance inside ±2 se; "
                     "partly = within 10%", source="derived here", beyond=True, **common))
    return out


def escape_claims(cfg, esc: EscapeResult) -> list[Claim]:
    """Fig. 3b: slopes of log t_p against log c per (dynamics, inputs, d) and the Langevin (Arrhenius) contrast."""
    out = []
    for key in (k for k in esc.runs if not k.startswith("langevin/")):
        dyn, inp, d = key.split("/")
        (s, se), (su, seu), th = esc.slope(key, "low"), esc.slope(key, "uncensored"), esc.theory[key]
        paper = dyn == "sgd" and inp == "gaussian"
        out.append(Claim(id=f"escape_slope_{dyn}_{inp}_d{d}",
                         statement=rf"$t_p\propto c^{{B/(\eta h^*)+1-n/2}}$ ({dyn}, {inp} $x$, $d=n={d}$)",
                         paper_value=f"slope {th:.2f} at η = {cfg.esc_lr}, B = {cfg.esc_batch_size}",
                         ours=f"slope {s:.2f} ± {se:.2f} (c ≤ {esc.fit_max_c:g})",
                         verdict=interval_verdict(s, se, th, (th + (int(d) - 1) / 2,) if int(d) > 1 else (),
                                                  partly_within=0.2 * th),
                         dataset=LINEAR, profile=cfg.profile,
                         detail=f"uncensored window c ≥ 2: {su:.2f} ± {seu:.2f}; inconclusive when ±2 se also holds "
                         f"the slope without the −n/2 term; min escaped fraction "
                         f"{esc.runs[key].escaped.min():.0%}", source="Sec. 5.3, Fig. 3b, Eq. (17)" if paper
                         else "derived here", beyond=not paper, figure="fig6_escape_time"))
    for key in (k for k in esc.runs if k.startswith("langevin/")):
        grow = slope_growth(esc, key)
        out.append(Claim(id="langevin_arrhenius",
                         statement="Constant-noise Langevin escapes by the Arrhenius law: its log-log "
                         "slope grows with c, unlike SGD's power law",
                         paper_value="exponential vs power law", ours=f"local log-log slope grows ×{grow:.2f} over c",
                         verdict=tolerance(-grow, -1.5, -1.15), dataset=LINEAR, profile=cfg.profile,
                         source="qualitative", figure="fig6_escape_time"))
    return out


def slope_growth(esc: EscapeResult, key: str) -> float:
    """Last over first finite local log-log slope of one curve (Arrhenius: > 1; power law: about 1)."""
    loc = esc.local_slopes(key)
    loc = loc[np.isfinite(loc)]
    return float(loc[-1] / loc[0]) if len(loc) >= 2 else float("nan")


def claims(cfg, dec, noise, stat: StationaryResult, esc: EscapeResult) -> list[Claim]:
    """Scorecard rows, every number and verdict computed from the results."""
    return (decoupling_claims(cfg, dec) + noise_claims(cfg, noise) + stationary_claims(cfg, stat)
            + escape_claims(cfg, esc))
