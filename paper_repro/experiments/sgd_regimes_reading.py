"""SGD-regimes chapter (Sclocchi et al. 2023): its claims, and the values its text quotes, computed from this run."""
from __future__ import annotations

import numpy as np

from . import sgd_regimes_analysis as an

NAN = float("nan")


def effect_text(e: an.NoiseEffect) -> str:
    """'+0.002 ± 0.007' for a noise effect (NaN-safe)."""
    return "n/a" if not np.isfinite(e.effect) else f"{e.effect:+.3f} ± {e.err:.3f}"


def chapter_claims(cfg, eff_lazy, eff_feat, opt, cross, fits, pfits, pred) -> list:
    """The scorecard claims of the chapter, with verdicts computed from tolerances."""
    mk = lambda *a: an.make_claim(*a, dataset=cfg.dataset, profile=cfg.profile)  # noqa: E731
    w, t = fits["weights"], fits["time"]
    opposite = np.sign(eff_lazy.effect) * np.sign(eff_feat.effect) < 0
    n_sig = int(eff_lazy.significant) + int(eff_feat.significant)
    claims = [
        mk("noise-opposite", "SGD noise hurts in one regime and helps in the other", "opposite signs",
           f"lazy {effect_text(eff_lazy)}, feature {effect_text(eff_feat)}",
           "reproduced" if opposite and n_sig == 2 else "partly" if opposite and n_sig else "not reproduced"),
        mk("T_opt-k", "T_opt ∝ alpha^k on the feature side", "k = 2/3", an.fmt(opt.k, opt.err_k),
           an.agree(opt.k, opt.err_k, 2 / 3, 0.2)),
        mk("lazy-Tc", "T_c decreases as a power of P, with a = gamma/delta", f"a = gamma/delta = {w.e_P / w.e_T:.2f}",
           an.fmt(cross.a, cross.err_a), an.agree(cross.a, cross.err_a, w.e_P / w.e_T, 0.15) if cross.a > 0
           else "not reproduced"),
        mk("lazy-time-T", "t* ∝ T in the noise-dominated lazy regime", "T-exponent 1", an.fmt(t.e_T, t.err_T),
           an.agree(t.e_T, t.err_T, 1.0, 0.2)),
    ]
    for chi, f in pfits.items():
        for key in ("gamma", "b"):
            fit = f["w"] if key == "gamma" else f["t"]
            claims.append(mk(f"perceptron-{key}-chi{chi:g}", f"perceptron exponent {key} (chi = {chi:g})",
                             f"{pred[chi][key]:.2f}", an.fmt(fit.e_P, fit.err_P),
                             an.agree(fit.e_P, fit.err_P, pred[chi][key], 0.15)))
    return claims


def claims_reading(claims: list) -> dict:
    """Each claim's verdict as 'verdict_<id>' (dashes become underscores) and the count reproduced."""
    out = {"verdict_" + c.id.replace("-", "_"): c.verdict for c in claims}
    return {**out, "n_reproduced": sum(c.verdict == "reproduced" for c in claims), "n_claims": len(claims)}


def _slope(x, y) -> float:
    """Log-log least-squares slope over finite positive points (NaN with fewer than two)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    ok = np.isfinite(y) & (y > 0)
    return float(np.polyfit(np.log(x[ok]), np.log(y[ok]), 1)[0]) if ok.sum() >= 2 else NAN


def _err_by_T(table: dict, P) -> np.ndarray:
    """Seed-averaged test error of the fitted runs at one P, one value per temperature that fitted."""
    sel = (table["P"] == P) & (table["status"] == "fitted") & np.isfinite(table["test_error"])
    return np.array([table["test_error"][sel & (table["T"] == T)].mean() for T in np.unique(table["T"][sel])])


def lazy_reading(cfg, lazy: dict, cross, w_fit) -> dict:
    """Lazy sweep: spread of the test error over T, trend of T_c with P and why (plateau exponent vs gamma)."""
    errs = [e for e in (_err_by_T(lazy, P) for P in cross.P) if len(e) >= 2]
    s = _slope(cross.P, cross.plateau)
    Ts = np.asarray(cfg.lazy_temperatures)
    return {"lazy_err_range": max((np.ptp(e) for e in errs), default=NAN),
            "lazy_err_up": sum(e[-1] > e[0] for e in errs), "lazy_err_nP": len(errs),
            "lazy_a": an.fmt(cross.a, cross.err_a), "lazy_a_expected": w_fit.e_P / w_fit.e_T,
            "lazy_tc_trend": "cannot be estimated" if not np.isfinite(cross.a)
            else "decreases" if cross.a > 0 else "does not decrease",
            "lazy_plateau_exp": s, "lazy_gamma": an.fmt(w_fit.e_P, w_fit.err_P),
            "lazy_plateau_cmp": "not comparable with" if not np.isfinite(s - w_fit.e_P)
            else "faster than" if s > w_fit.e_P else "slower than",
            "lazy_P_max": int(max(cfg.lazy_P)), "lazy_seeds": f"{cfg.seeds} seed{'s' * (cfg.seeds != 1)}",
            "lazy_n_T": len(Ts),
            "lazy_T_ratio": float(np.exp(np.mean(np.diff(np.log(Ts))))) if len(Ts) > 1 else NAN,
            "lazy_n_capped": int((lazy["status"] == "capped").sum()), "lazy_n_runs": len(lazy["status"])}


def phase_reading(cfg, phase: dict, opt, eff_lazy, eff_feat) -> dict:
    """Phase diagram: divergence and cap counts at the extreme alphas, T_opt at the edge, k against 2/3."""
    al, st = np.unique(phase["alpha"]), phase["status"]
    edge, side = 0, 0
    for a, t in zip(opt.alpha, opt.T_opt):
        if a <= 1 and np.isfinite(t):
            fitted = phase["T"][(phase["alpha"] == a) & (st == "fitted")]
            side, edge = side + 1, edge + int(t in (fitted.min(), fitted.max()))
    close = abs(opt.k - 2 / 3) <= 2 * (opt.err_k if np.isfinite(opt.err_k) else 0)
    n_sig = int(eff_lazy.significant) + int(eff_feat.significant)
    return {"phase_alpha_min": float(al[0]), "phase_alpha_max": float(al[-1]),
            "phase_n_T": len(np.unique(phase["T"])), "phase_max_steps": int(cfg.phase_max_steps),
            "phase_div_min": int(((phase["alpha"] == al[0]) & (st == "diverged")).sum()),
            "phase_capped_max": int(((phase["alpha"] == al[-1]) & (st == "capped")).sum()),
            "phase_T_ratio": float(np.exp(np.mean(np.diff(np.log(np.unique(phase["T"])))))),
            "phase_k": an.fmt(opt.k, opt.err_k), "phase_n_side": side, "phase_n_edge": edge,
            "phase_topt_trend": "cannot be fitted" if not np.isfinite(opt.k) else "grows" if opt.k > 0
            else "does not grow",
            "phase_k_cmp": "not comparable with" if not np.isfinite(opt.k) else "consistent with" if close
            else "larger than" if opt.k > 2 / 3 else "smaller than",
            "eff_lazy": effect_text(eff_lazy), "eff_feat": effect_text(eff_feat),
            "eff_feat_alpha": eff_feat.alpha, "eff_signif": ("neither is", "only one is", "both are")[n_sig]}


def scaling_reading(cfg, lazy: dict, fits: dict) -> dict:
    """Lazy power laws: rms scatter of the runs about each fit, and the T-exponents of ||w - w0|| and t*."""
    w, t = fits["weights"], fits["time"]
    sel = (lazy["status"] == "fitted") & (lazy["T"] >= cfg.fit_T_min)
    T, P = lazy["T"][sel], lazy["P"][sel]
    rms = lambda y, f: float(np.sqrt(np.nanmean(np.log(y / f.predict(T, P)) ** 2))) if sel.any() else NAN  # noqa: E731
    return {"fit_rms_w": rms(lazy["weight_change"][sel], w), "fit_rms_t": rms(lazy["time"][sel], t),
            "lazy_delta": an.fmt(w.e_T, w.err_T), "lazy_time_T": an.fmt(t.e_T, t.err_T),
            "lazy_both_grow": "both grow" if w.e_T > 0 and t.e_T > 0 else "do not both grow"}


def perceptron_reading(cfg, pfits: dict, pred: dict) -> dict:
    """Perceptron: ordering of the exponents in chi, measured/predicted ratios, range of the T-exponents."""
    chis = sorted(pfits)
    meas = {k: np.array([pfits[c]["w" if k == "gamma" else "t"].e_P for c in chis]) for k in ("gamma", "b")}
    ratio = {c: np.array([meas[k][i] / pred[c][k] for k in ("gamma", "b")]) for i, c in enumerate(chis)}
    r = np.concatenate(list(ratio.values()))
    t_exp = np.array([pfits[c][k].e_T for c in chis for k in ("w", "t")])
    ordered = all(np.all(np.diff(m) < 0) for m in meas.values())
    off = {c: np.nanmax(np.abs(np.log(v))) for c, v in ratio.items()}
    return {"perc_order": "cannot be checked" if not np.isfinite(r).all() or len(chis) < 2
            else "holds" if ordered else "does not hold",
            "perc_side": "below" if (r < 1).all() else "above" if (r > 1).all() else "on both sides of",
            "perc_ratio_min": float(np.nanmin(r)), "perc_ratio_max": float(np.nanmax(r)),
            "perc_worst_chi": float(max(off, key=lambda c: off[c] if np.isfinite(off[c]) else -1)),
            "perc_texp_min": float(np.nanmin(t_exp)), "perc_texp_max": float(np.nanmax(t_exp)),
            "perc_texp_side": "below" if (t_exp < 1).all() else "above" if (t_exp > 1).all() else "on both sides of",
            "perc_d": int(cfg.perc_d), "perc_P_max": int(max(cfg.perc_P))}
