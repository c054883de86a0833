"""Chapter 1 (Simsekli et al. 2019): scorecard claims computed from the results, each with source and figure."""
from __future__ import annotations

import numpy as np

from ...results import Claim, interval_verdict
from .config import CHAPTER  # noqa: F401  (re-exported)
from .sweeps import equivalent_alpha
from .figures import fitted_slopes
from .sweeps import exit_theory

# Sources checked against the paper's text (see /tmp/team/sources.md of the sources pass): only the abstract and the
# released code could be read; the experiments' section and figure numbers could not, so rows say "qualitative"
# with what was checked rather than a section number.
SRC_ABSTRACT = "Abstract ('in all settings, the GN is highly non-Gaussian and admits heavy-tails')"
SRC_ARCH = "qualitative (Abstract: tails studied 'in varying network architectures and sizes'); figure unverified"
SRC_UNVERIFIED = "qualitative (paper's experiments; section/figure not verified)"
SRC_ESTIMATOR = "Mohammadi et al. (2015); released utils.py alpha_estimator, K1 from main.py"
SRC_METASTABLE = ("Abstract ('jumps … transition from narrow minima to wider minima'); exit-time law from "
                  "Imkeller & Pavlyukevich (2006)")


def two_phase_stats(track: list, key: str = "alpha") -> dict:
    """Drop into the global minimum of alpha-hat (from the highest value before it), the jump after it, final value."""
    a = np.array([t[key] for t in track])
    err = float(np.median([t.get("stderr", 0.0) for t in track]))
    i = int(np.argmin(a))
    return {"alpha_start": float(a[0]), "alpha_min": float(a[i]), "step_min": track[i]["step"],
            "drop": float(a[:i + 1].max() - a[i]), "jump": float(a[i:].max() - a[i]), "alpha_end": float(a[-1]),
            "stderr": err}


def _verdict(ok: bool, partly: bool = False) -> str:
    return "reproduced" if ok else "partly" if partly else "not reproduced"


def _common(cfg) -> dict:
    return dict(dataset=cfg.dataset, profile=cfg.profile)


def trained_alphas(nets: dict, key: str = "alpha_train") -> np.ndarray:
    """alpha-hat of every finished trained net (diverged runs left out)."""
    return np.array([r[key] for t in nets.values() for r in t.ok if r.get(key) is not None], float)


def claim_alpha_below_2(cfg, nets: dict) -> Claim:
    """Claim: alpha-hat below 2 on every trained net (all sweeps), paper's K1."""
    a = trained_alphas(nets)
    return Claim("gn_alpha_below_2", r"The gradient noise is far from Gaussian: $\hat\alpha < 2$ in every setting",
                 r"$\hat\alpha < 2$ in all settings",
                 f"α̂ in [{a.min():.2f}, {a.max():.2f}] over {len(a)} trained nets", _verdict(a.max() < 1.8,
                 a.max() < 1.95), **_common(cfg), source=SRC_ABSTRACT, figure="fig2_alpha_width_depth",
                 detail="reproduced if every α̂ < 1.8; Mohammadi estimator pooled as in the released code")


def sweep_span(table, x: str, y: str) -> tuple[float, float]:
    """(max - min of the seed-mean of ``y`` over ``x``, its uncertainty from the seed spread) for one sweep."""
    _, m, s = table.curve(x, y)
    ok = np.isfinite(m)
    if ok.sum() < 2:
        return float("nan"), float("nan")
    n = max(len({r["seed"] for r in table.ok}), 1)
    return float(m[ok].max() - m[ok].min()), float(np.sqrt(2) * np.nanmean(s) / np.sqrt(n)) if n > 1 else 0.0


def sweep_spans(nets: dict, y: str = "alpha_train") -> dict:
    """Span (and its uncertainty) of the mean alpha-hat over the width, depth and batch-size sweeps."""
    return {name: sweep_span(nets[name], x, y) for name, x in (("width", "width"), ("depth", "depth"),
                                                                 ("batch", "batch_size"))}


def claim_architecture(cfg, nets: dict) -> Claim:
    """Claim: alpha-hat depends on width and depth, judged at the fixed K1 (the paper's K1 changes with N)."""
    fixed, paper = sweep_spans(nets, "alpha_train_fixed"), sweep_spans(nets)
    name = max(("width", "depth"), key=lambda k: fixed[k][0])
    span, err = fixed[name]
    verdict = "inconclusive" if not np.isfinite(span) or span < 2 * err else _verdict(span >= 0.1, span >= 0.03)
    return Claim("alpha_depends_on_architecture", r"$\hat\alpha$ depends on width and depth",
                 r"$\hat\alpha$ varies with width and depth", f"span at K1 = {cfg.k1_fixed}: {fixed['width'][0]:.3f} "
                 f"(widths), {fixed['depth'][0]:.3f} (depths); at K1 ≈ √N: {paper['width'][0]:.3f}, "
                 f"{paper['depth'][0]:.3f}", verdict, **_common(cfg), source=SRC_ARCH,
                 figure="fig2_alpha_width_depth", detail="at fixed K1: reproduced if the larger span is >= 0.1 and "
                 "twice its seed uncertainty (partly >= 0.03); inconclusive if within twice the uncertainty")


def claim_batch(cfg, nets: dict) -> Claim:
    """Claim: the batch size changes alpha-hat little (fixed epochs, fixed K1)."""
    span, err = sweep_spans(nets, "alpha_train_fixed")["batch"]
    return Claim("batch_size_small_effect", r"The batch size changes $\hat\alpha$ little",
                 "similar α̂ for all batch sizes", f"span over b = {', '.join(map(str, cfg.batch_sizes))} at "
                 f"{cfg.batch_epochs:g} epochs, K1 = {cfg.k1_fixed}: {span:.3f} ± {err:.3f}",
                 _verdict(span <= 0.1, span <= 0.25), **_common(cfg), source=SRC_UNVERIFIED,
                 figure="fig3_alpha_batch_size", detail="reproduced if the span is <= 0.1 (partly <= 0.25)")


NAN_POINT = {"step": 0, "alpha": float("nan"), "stderr": float("nan"), "alpha_test": float("nan"),
             "stderr_test": float("nan"), "train_acc": float("nan"), "test_acc": float("nan")}


def tracked_row(nets: dict) -> dict:
    """The tracked run's row; when it diverged, a stand-in with one NaN point (figures and verdicts say so)."""
    ok = nets["track"].ok
    return ok[0] if ok else {"width": 0, "track_every": 0, "track": [NAN_POINT], "diverged": True}


def two_phase_threshold(ph: dict) -> float:
    """Smallest drop and jump that count as a phase: max(3 stderr, 0.02)."""
    return max(3 * ph["stderr"], 0.02)


def claim_two_phases(cfg, nets: dict) -> Claim:
    """Claim: along training alpha-hat first drops, then jumps (tracked run, released cadence)."""
    row = tracked_row(nets)
    ph = two_phase_stats(row["track"])
    thr = two_phase_threshold(ph)
    verdict = "inconclusive" if row.get("diverged") else _verdict(ph["drop"] > thr and ph["jump"] > thr)
    return Claim("two_phases", r"During training $\hat\alpha$ first drops, then jumps, then settles",
                 "two phases: a drop then a jump of α̂ as accuracy rises",
                 f"drop {ph['drop']:.3f} (to {ph['alpha_min']:.3f} at step {ph['step_min']}), then jump "
                 f"{ph['jump']:.3f}; final {ph['alpha_end']:.3f}", verdict,
                 **_common(cfg), source=f"{SRC_UNVERIFIED}; cadence from the released main.py",
                 figure="fig4_alpha_during_training", detail=f"measured every {cfg.track_every} iterations on train "
                 f"and test noise; reproduced only if a drop is followed by a jump, each > {thr:.3f}")


def estimator_bias(syn: dict, min_size: float = 1e5) -> np.ndarray:
    """|mean Mohammadi alpha-hat - alpha| [alphas, sizes >= min_size] of the synthetic check."""
    return np.abs(syn["mohammadi"].mean(2) - syn["alphas"][:, None])[:, syn["sizes"] >= min_size]


def claim_estimator(cfg, syn: dict) -> Claim:
    """Claim: the Mohammadi estimator recovers alpha of SaS samples (n >= 1e5)."""
    err = estimator_bias(syn)
    return Claim("estimator_recovers_alpha", "The Mohammadi estimator recovers α of SαS samples",
                 "consistent estimator (Mohammadi et al. 2015)",
                 f"max |mean α̂ - α| = {err.max():.3f} for n >= 1e5" if err.size else "no n >= 1e5 in this profile",
                 _verdict(err.size > 0 and err.max() <= 0.05, err.size > 0 and err.max() <= 0.1) if err.size
                 else "not run", "synthetic SαS", cfg.profile, source=SRC_ESTIMATOR,
                 figure="fig5_estimator_validation", detail="tolerance 0.05")


def trained_variants(sens: dict) -> dict:
    """The pooling variants of the trained nets on normalised inputs (no init, no raw-pixel group)."""
    return {k: v for k, v in sens.items() if not k.startswith("init") and "raw" not in k and v}


def pooling_equivalent(sens: dict, calib: dict) -> tuple[float, float, float]:
    """(mean, uncertainty) of the true alpha of i.i.d. SaS matrices reading the trained nets' standardised +
    permuted values, and the mean pooled alpha-hat (same K1)."""
    tr = trained_variants(sens)
    eq = np.array([equivalent_alpha(calib, v["standardised_permuted"]) for v in tr.values()])
    step = np.diff(calib["alphas"]).min() if len(calib["alphas"]) > 1 else 0.2
    err = max(float(eq.std(ddof=1) / np.sqrt(len(eq))) if len(eq) > 1 else step, 0.25 * step)
    return float(eq.mean()), err, float(np.mean([v["pooled"] for v in tr.values()]))


def claim_pooling(cfg, sens: dict, calib: dict) -> Claim:
    """Claim (implicit): the small pooled alpha-hat is the noise's tail index, read against i.i.d. SaS matrices."""
    eq, err, pooled = pooling_equivalent(sens, calib)
    verdict = interval_verdict(eq, err, pooled, alternatives=(2.0,))
    if verdict == "inconclusive" and not (eq - 2 * err <= pooled <= eq + 2 * err) and np.isfinite(eq):
        verdict = "not reproduced"  # consistent with alpha = 2 and excluding the pooled value
    return Claim("heavy_tail_not_pooling_artefact", r"The small $\hat\alpha$ is the noise's tail index, not an "
                 "artefact of pooling", "implicit: α̂ of the pooled vector is the noise's tail index",
                 f"standardised + permuted values read as i.i.d. SαS with α ≈ {eq:.2f} ± {err:.2f}; pooled "
                 f"α̂ {pooled:.2f} (both K1 = {cfg.k1_fixed})", verdict, **_common(cfg), source="qualitative",
                 beyond=True, figure="fig6b_pooling_calibration",
                 detail="equivalent α from the calibration curve of i.i.d. SαS matrices of the measured shape; "
                 "reproduced if the interval holds the pooled α̂ and excludes 2")


def exit_ratios(cfg, res) -> dict:
    """alpha (< 2) -> (smallest eps with < 5 % censored, simulated / theoretical mean exit time there)."""
    ratios = {}
    for a in np.unique(res.alpha[res.alpha < 2]):
        rows = np.flatnonzero((res.alpha == a) & (res.censored_fraction < 0.05))
        if len(rows):
            i = rows[np.argmin(res.eps[rows])]
            ratios[float(a)] = (float(res.eps[i]), float(res.mean[i] / exit_theory(res, cfg.sde_dt)[i]))
    return ratios


def brownian_steepest(slopes: dict) -> bool:
    """True if the Brownian (alpha = 2) log-log slope against eps is steeper than every Levy one (or not run)."""
    return 2.0 not in slopes or all(slopes[2.0] < s for a, s in slopes.items() if a < 2)


def claim_levy(cfg, exits: dict) -> Claim:
    """Claim: Levy exit times follow the polynomial small-noise law, Brownian ones grow faster."""
    res = exits["eps"]
    ratios, slopes = exit_ratios(cfg, res), fitted_slopes(res, "eps")
    ok = bool(ratios) and all(1 / 1.5 <= r <= 1.5 for _, r in ratios.values())
    steeper = brownian_steepest(slopes)
    return Claim("levy_exit_polynomial", "Lévy-driven SDEs leave a basin in a time polynomial in 1/ε and in the "
                 "width, Brownian ones exponentially", r"mean exit time $\approx \alpha a^\alpha / (2 c_\alpha "
                 r"\varepsilon^\alpha)$ as $\varepsilon \to 0$",
                 "; ".join(f"α={a:g}: sim/theory {r:.2f} at ε={e:g}, slope {slopes.get(a, np.nan):.2f}"
                           for a, (e, r) in ratios.items()) or "no uncensored settings",
                 _verdict(ok and steeper, ok or steeper) if ratios else "not run", "simulated SDE", cfg.profile,
                 source=SRC_METASTABLE, figure="fig7_exit_times",
                 detail="reproduced if sim/theory is within a factor 1.5 at the smallest uncensored ε for every "
                 "α < 2 and the Brownian log-log slope is the steepest")


def make_claims(cfg, nets: dict, syn: dict, sens: dict, calib: dict, exits: dict) -> list[Claim]:
    """The chapter's claims, each with our number and a verdict computed from a stated rule."""
    return [claim_alpha_below_2(cfg, nets), claim_architecture(cfg, nets), claim_batch(cfg, nets),
            claim_two_phases(cfg, nets), claim_estimator(cfg, syn), claim_pooling(cfg, sens, calib),
            claim_levy(cfg, exits)]
