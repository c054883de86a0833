"""Values the chapter's prose quotes (glued) and the rows of its tables, computed from the run's tables and fits."""
from __future__ import annotations

import numpy as np

from ...core.verdicts import pm
from .analysis import fmt, fmt_pow2
from .effects import capped_counts


def from_pow2(label: str) -> float:
    """'2^-14' -> 2.0 ** -14 (the explorer's slider labels)."""
    return 2.0 ** float(label.split("^", 1)[1])


def explorer_grid(index: dict) -> dict:
    """Slider values of the phase-diagram explorer as powers of two, at most ~6 per slider (a light page)."""
    thin = lambda v: sorted(v)[::max(1, len(v) // 6)]  # noqa: E731
    return {"alpha": [fmt_pow2(a) for a in thin({a for a, _ in index})],
            "T": [fmt_pow2(T) for T in thin({T for _, T in index})]}


def config_values(cfg) -> dict:
    """The config values the prose quotes (never their names)."""
    n_T = sum(T >= cfg.perc_fit_T_min for T in cfg.perc_T)
    mnas = [f"lazy sweeps on {', '.join(cfg.mnas_datasets)}"] if cfg.mnas_datasets else []
    mnas += [f"the (α, T) phase diagram on {', '.join(cfg.mnas_phase_datasets)}"] if cfg.mnas_phase_datasets else []
    fc = [ds for ds in cfg.lazy_datasets if ds != "mnist"]
    if mnas or fc:
        sentence = ("This run trains the paper's CNN (the released MNAS: a 5×5 stem, a depthwise 5×5, four inverted "
                    f"residuals, a readout with bias): {' and '.join(mnas) or 'none'}; and the FC lazy sweep on "
                    f"{', '.join(fc) or 'MNIST only'}. Their exponents are in the tables below and in the scorecard.")
        if cfg.profile == "paper":
            sentence += (" To fit about a GPU-day, this profile thins the MNAS grids within the released ranges: "
                         f"lazy temperatures every 2 octaves with {cfg.mnas_seeds} seeds, the phase diagram's α every "
                         f"3 octaves and T every 2 with {cfg.mnas_phase_seeds} seeds (the full profile runs them all).")
    else:
        sentence = ("The paper's CNN (the released MNAS) and the CIFAR-10 sweeps are too slow for a CPU; the paper "
                    "profile trains them on a GPU (the running page gives their planned cost), and adds their rows "
                    "to the scorecard.")
    return {"phase_P": int(cfg.phase_P), "phase_seeds": int(cfg.phase_seeds), "phase_cap": int(cfg.phase_max_steps),
            "lazy_alpha_txt": fmt_pow2(cfg.lazy_alpha), "n_test_txt": int(cfg.n_test),
            "fit_T_min_txt": fmt_pow2(cfg.fit_T_min), "perc_d": int(cfg.perc_d),
            "perc_Pd_max": int(max(cfg.perc_P) // cfg.perc_d), "perc_T_min_txt": fmt_pow2(cfg.perc_fit_T_min),
            "perc_n_T": int(n_T), "perc_seeds": int(cfg.perc_seeds), "mnas_sentence": sentence}


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
            "lazy_div_T": fmt_pow2(div.min()) if len(div) else "none in the grid",
            "lazy_a": fmt(cross.a, cross.err_a), "lazy_Tc_level": cfg.Tc_level,
            "lazy_P_max": int(max(cfg.lazy_P)), "lazy_seeds": int(cfg.seeds)}


def crossover_rows(cross) -> list[dict]:
    """Per P: T_c (as a power of two), its error in octaves, and the error onset."""
    p2 = lambda v: f"2^{np.log2(v):.1f}" if np.isfinite(v) else "not crossed"  # noqa: E731
    return [{"P": int(p), "T_c": p2(tc), "± (octaves)": f"{e / np.log(2):.2f}" if np.isfinite(e) else "—",
             "error onset T": fmt_pow2(o) if np.isfinite(o) else "none in the grid"}
            for p, tc, e, o in zip(cross.P, cross.T_c, cross.T_c_err, cross.onset)]


def phase_reading(cfg, phase: dict, opt) -> dict:
    """Counts of diverged / capped cells (capped: where) and the T_opt edges."""
    side = opt.alpha <= cfg.feature_alpha_max
    return {"phase_n_div": int((phase["status"] == "diverged").sum()),
            "phase_n_capped": int((phase["status"] == "capped").sum()), "phase_n_runs": int(len(phase["T"])),
            "phase_capped_where": capped_where(phase),
            "phase_n_edge": int((opt.at_edge & side).sum()), "phase_n_side": int(side.sum()),
            "phase_n_stab": opt.n_stab, "phase_n_fit": opt.n_fit,
            "phase_k": fmt(opt.k, opt.err_k) if np.isfinite(opt.k) else "not measurable",
            "phase_k_div": fmt(opt.k_div, opt.err_k_div) if np.isfinite(opt.k_div) else "not measurable",
            "phase_k_paper": f"{(cfg.depth - 1) / (cfg.depth + 1):.2f} at L = {cfg.depth}",
            "phase_stab_sentence": _stab_sentence(opt.n_stab, opt.n_fit)}


def capped_where(phase: dict) -> str:
    """'at α = 2^-14: 5 runs, T from 2^-16 to 2^-14; ...' per α with capped runs, or 'none'."""
    by_alpha: dict = {}
    for (a, T), n in capped_counts(phase).items():
        by_alpha.setdefault(a, []).append((T, n))
    if not by_alpha:
        return "none"
    return "; ".join(f"at α = {fmt_pow2(a)}: {sum(n for _, n in v)} runs, T from {fmt_pow2(min(v)[0])} to "
                     f"{fmt_pow2(max(v)[0])}" for a, v in sorted(by_alpha.items()))


def _stab_sentence(n_stab: int, n_fit: int) -> str:
    """What k measures, said from the counts (not assumed)."""
    if n_fit and n_stab == n_fit:
        return ("At every fitted α the best noise level is the most the dynamics tolerates, so k here is the "
                "exponent of that stability limit.")
    if n_stab:
        return f"At the remaining {n_fit - n_stab} of them the optimum lies inside the converged temperatures."
    return "Every fitted optimum lies inside the converged temperatures."


def mnas_peak_gb(dataset: str) -> float:
    """Planned peak memory (GB) of one job of the paper profile's MNAS lazy sweep on ``dataset`` (no FLOP count)."""
    from .mnas import mnas
    from .plan import IN_SHAPE, mnas_peak_bytes
    from .run import PRESETS
    cfg = PRESETS["paper"]
    params = sum(p.numel() for p in mnas(IN_SHAPE[dataset][0], cfg.mnas_width).parameters())
    return mnas_peak_bytes(cfg, IN_SHAPE[dataset], cfg.mnas_width, params) / 1e9


def effect_rows(cfg, effects: dict, sweep) -> list[dict]:
    """Noise-effect table: one row per alpha of the phase diagram (P = phase_P) and one for the lazy sweep."""
    d = lambda x, e: pm(x, e) if np.isfinite(x) else "—"  # noqa: E731
    rows = [(fmt_pow2(a), e) for a, e in sorted(effects.items())]
    rows.append((f"{fmt_pow2(sweep.alpha)} (ReLU sweep, P = {int(sweep.P)})", sweep))
    return [{"α": name, "T→0": fmt_pow2(e.T_low) + (f" ({e.n_capped_below} capped below)" if e.baseline_moved
                                                     else ""),
             "T_opt": fmt_pow2(e.T_opt), "err(T_opt) − err(T→0)": d(e.effect, e.err),
             "largest T": fmt_pow2(e.T_high), "err(T) − err(T→0)": d(e.effect_high, e.err_high), "noise": e.verdict}
            for name, e in rows]


def effect_glue(cfg, eff: dict, effects: dict) -> dict:
    """Glue of the noise-effect reading: each side's verdict, the lazy sweep, the opposite effects."""
    lazy, feat, sweep, opp = eff["lazy"], eff["feat"], eff["sweep"], eff["opposite"]
    feat_side = [e for a, e in effects.items() if a <= cfg.feature_alpha_max]
    conflict = {sweep.verdict, lazy.verdict} == {"helps", "hurts"}
    return {"lazy_effect": lazy.verdict, "feat_effect": feat.verdict, "sweep_effect": sweep.verdict,
            "eff_seeds": lazy.seeds, "sweep_P": int(sweep.P) if np.isfinite(sweep.P) else 0,
            "feat_alpha": fmt_pow2(feat.alpha), "lazy_corner": fmt_pow2(lazy.alpha),
            "sweep_sentence": ("the opposite of the phase diagram's lazy side, so these runs do not settle the sign "
                               "of the noise effect in the lazy regime (the scorecard row counts it against the "
                               "claim)." if conflict else "this does not contradict the phase diagram's lazy side."),
            "opp_T": pm(opp.d_T, opp.err_T) if np.isfinite(opp.d_T) else "—",
            "opp_alpha": pm(opp.d_alpha, opp.err_alpha) if np.isfinite(opp.d_alpha) else "—",
            "opp_sentence": {"reproduced": "opposite directions, both beyond two standard errors",
                             "not reproduced": "the same direction, both beyond two standard errors"}.get(
                opp.verdict, "at least one change within two standard errors"),
            "n_feat": len(feat_side), "n_feat_helps": sum(e.verdict == "helps" for e in feat_side),
            "n_feat_hurts": sum(e.verdict == "hurts" for e in feat_side)}


def perceptron_glue(cfg, local: dict, rates: dict) -> dict:
    """'w_∥ at χ = 0: 0.93 ± 0.05 (reproduced); ...' at the largest P-pair, and the controls' size."""
    from .finite_size import N_CONTROL, QUANTITIES
    parts = [f"{QUANTITIES[k]} at χ = {c:g}: {fmt(ex.slope[-1], ex.err[-1])} ({ex.verdict}"
             + (", pre-asymptotic)" if ex.pre_asymptotic else ")") for (c, k), ex in local.items()]
    return {"perc_n_rep": N_CONTROL, "perc_summary": "; ".join(parts)}


def perceptron_rows(pfits: dict) -> list[dict]:
    """Pooled fits per chi with the ratio to chi = 0."""
    from .analysis import exponent_ratio
    return [{"χ": f"{c:g}", "δ (T)": fmt(f.e_T, f.err_T), "γ (P)": fmt(f.e_P, f.err_P), "1/(1+χ)": f"{1 / (1 + c):.2f}",
             "γ(χ)/γ(0)": fmt(*exponent_ratio(f, pfits[0.0])) if 0.0 in pfits and c else "—"}
            for c, f in pfits.items()]


def claim_rows(claims) -> list[dict]:
    """The in-chapter scorecard: statements (no ids), plain text."""
    return [{"verdict": c.verdict, "claim": c.statement, "target": c.paper_value, "ours": c.ours,
             "source": c.source} for c in claims]


def show_mnas_reading(dataset: str, phase: dict, opt) -> None:
    """The Reading paragraph under an MNAS phase diagram (only where one was trained)."""
    from IPython.display import Markdown, display
    n_side = int((opt.alpha <= opt.alpha_max).sum())
    display(Markdown(f"**Reading (MNAS, {dataset}).** Of {len(phase['T'])} runs, "
                     f"{int((phase['status'] == 'diverged').sum())} diverged and "
                     f"{int((phase['status'] == 'capped').sum())} hit the step cap ({capped_where(phase)}). On the "
                     f"feature side {opt.n_fit} of the {n_side} values of α give a usable best temperature; their "
                     f"slope is k = {fmt(opt.k, opt.err_k)}, the stability edge's {fmt(opt.k_div, opt.err_k_div)}. "
                     f"{_stab_sentence(opt.n_stab, opt.n_fit)}"))
