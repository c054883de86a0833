"""Values the chapter's prose quotes (glued), computed from the run's tables and fits."""
from __future__ import annotations

import numpy as np

from .analysis import fmt, fmt_pow2, local_slopes
from .units import released_units


def units_reading(cfg) -> dict:
    """The earlier chapter's quick lazy range (T_old = 0.5..128 at a = 2^15) in the released units."""
    lo = released_units(0.5, 2.0 ** 15, cfg.width, cfg.depth)
    hi = released_units(128.0, 2.0 ** 15, cfg.width, cfg.depth)
    return {"old_T_lo_log2": float(np.log2(lo[1])), "old_T_hi_log2": float(np.log2(hi[1])),
            "old_alpha_log2": float(np.log2(lo[0])), "T_lo_log2": float(np.log2(min(cfg.lazy_T))),
            "T_hi_log2": float(np.log2(max(cfg.lazy_T)))}


def lazy_reading(cfg, lazy: dict, cross) -> dict:
    """Range of the weight change per P, divergence, T_c summary."""
    ok = lazy["status"] == "fitted"
    per_P = [lazy["weight_change"][ok & (lazy["P"] == p)] for p in cross.P]
    lo = np.array([v.min() if len(v) else np.nan for v in per_P])
    hi = np.array([v.max() if len(v) else np.nan for v in per_P])
    div = lazy["T"][lazy["status"] == "diverged"]
    nan = float("nan")
    return {"lazy_w_min": float(np.max(lo)) if len(lo) else nan, "lazy_w_max": float(np.min(hi)) if len(hi) else nan,
            "lazy_decades": float(np.min(np.log10(hi / lo))) if len(lo) else nan,
            "lazy_n_div": int(len(div)), "lazy_n_runs": int(len(lazy["T"])),
            "lazy_n_capped": int((lazy["status"] == "capped").sum()),
            "lazy_div_T_log2": float(np.log2(div.min())) if len(div) else float("nan"),
            "lazy_a": f"{cross.a:.2f} ± {cross.err_a:.2f}", "lazy_Tc_level": cfg.Tc_level,
            "lazy_P_max": int(max(cfg.lazy_P)), "lazy_seeds": int(cfg.seeds)}


def phase_reading(cfg, phase: dict, opt) -> dict:
    """Counts of diverged / capped cells and the T_opt edges."""
    side = opt.alpha <= cfg.feature_alpha_max
    return {"phase_n_div": int((phase["status"] == "diverged").sum()),
            "phase_n_capped": int((phase["status"] == "capped").sum()), "phase_n_runs": int(len(phase["T"])),
            "phase_n_edge": int((opt.at_edge & side).sum()), "phase_n_side": int(side.sum()),
            "phase_n_stab": opt.n_stab, "phase_n_fit": opt.n_fit,
            "phase_k": f"{opt.k:.2f} ± {opt.err_k:.2f}" if np.isfinite(opt.k) else "not measurable",
            "phase_k_div": f"{opt.k_div:.2f} ± {opt.err_k_div:.2f}" if np.isfinite(opt.k_div) else "not measurable",
            "phase_k_paper": f"{(cfg.depth - 1) / (cfg.depth + 1):.2f} at L = {cfg.depth}",
            "phase_stab_sentence": _stab_sentence(opt.n_stab, opt.n_fit)}


def _stab_sentence(n_stab: int, n_fit: int) -> str:
    """What k measures, said from the counts (not assumed)."""
    if n_fit and n_stab == n_fit:
        return ("At every fitted α the best noise level is the most the dynamics tolerates, so k here is the "
                "exponent of that stability limit.")
    if n_stab:
        return f"At the other {n_fit - n_stab} the optimum lies inside the converged temperatures."
    return "Every fitted optimum lies inside the converged temperatures."


def mnas_peak_gb(dataset: str) -> float:
    """Planned peak memory (GB) of one job of the paper profile's MNAS lazy sweep on ``dataset`` (no FLOP count)."""
    from .mnas import mnas
    from .plan import IN_SHAPE, mnas_peak_bytes
    from .run import PRESETS
    cfg = PRESETS["paper"]
    params = sum(p.numel() for p in mnas(IN_SHAPE[dataset][0], cfg.mnas_width).parameters())
    return mnas_peak_bytes(cfg, IN_SHAPE[dataset], cfg.mnas_width, params) / 1e9


def local_slope_rows(cfg, perc: dict) -> list[dict]:
    """Rows of the perceptron's local-exponent table: T-slopes at every P, P-slopes at T >= perc_fit_T_min."""
    ok = perc["status"] == "fitted"
    name = {"T": fmt_pow2, "P": lambda v: f"{v:.0f}"}
    return [{"χ": c, "slope in": by, "from": name[by](lo), "to": name[by](hi), "local slope": fmt(m, e)}
            for c in cfg.perc_chis for by, sel in (("T", ok), ("P", ok & (perc["T"] >= cfg.perc_fit_T_min)))
            for lo, hi, m, e in local_slopes(perc, sel & (perc["chi"] == c), by)]


def effect_rows(cfg, effects: dict, sweep) -> list[dict]:
    """Noise-effect table: one row per alpha of the phase diagram (P = phase_P) and one for the lazy sweep."""
    pm = lambda x, e: f"{x:+.3f} ± {e:.3f}" if np.isfinite(x) else "—"  # noqa: E731
    rows = [(fmt_pow2(a), e) for a, e in sorted(effects.items())]
    rows.append((f"{fmt_pow2(sweep.alpha)} (ReLU sweep, P = {int(sweep.P)})", sweep))
    return [{"α": name, "T→0": fmt_pow2(e.T_low), "T_opt": fmt_pow2(e.T_opt),
             "err(T_opt) − err(T→0)": pm(e.effect, e.err), "largest T": fmt_pow2(e.T_high),
             "err(T) − err(T→0)": pm(e.effect_high, e.err_high), "noise": e.verdict}
            for name, e in rows]


def effect_counts(cfg, effects: dict) -> dict:
    """How many feature-side alpha (<= feature_alpha_max) say helps / hurts."""
    feat = [e for a, e in effects.items() if a <= cfg.feature_alpha_max]
    return {"n_feat": len(feat), "n_feat_helps": sum(e.verdict == "helps" for e in feat),
            "n_feat_hurts": sum(e.verdict == "hurts" for e in feat)}
