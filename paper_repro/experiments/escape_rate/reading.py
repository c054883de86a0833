"""Values the escape-rate chapter's prose quotes (myst-nb glue): numbers, verdicts and words computed from the run.

Each function returns ``{glue name: value}`` for one section; the chapter passes it to
:func:`paper_repro.core.results.glue`.
"""
from __future__ import annotations

import numpy as np

from . import claims as cl
from .run import EscapeResult, StationaryResult


def side(values, ref: float = 1.0) -> str:
    """'above' / 'below' when every value lies on one side of ``ref``, else 'on both sides of'."""
    v = np.asarray(values, dtype=float)
    return "above" if np.all(v > ref) else "below" if np.all(v < ref) else "on both sides of"


def trend(ratio: float, up: str, down: str, flat: str, tol: float = 0.15) -> str:
    """Word for a ratio: ``up`` above 1 + tol, ``down`` below 1/(1 + tol), else ``flat`` (NaN: 'not measured')."""
    if not np.isfinite(ratio):
        return "not measured"
    return up if ratio > 1 + tol else down if ratio < 1 / (1 + tol) else flat


def per_run(values, labels, fmt: str) -> str:
    """One formatted value, or 'value (label); ...' when there are several runs."""
    vals = [format(v, fmt) for v in values]
    return vals[0] if len(vals) == 1 else "; ".join(f"{v} ({lab})" for v, lab in zip(vals, labels))


def decoupling_text(cfg, dec) -> dict:
    """Section 1: top-eigenvalue agreement, lambda_1 bias, bulk distances and the verdict."""
    later = dec[1:] or dec
    top, bulk = [s.log_spectrum_distance for s in dec], [s.log_distance_all for s in dec]
    return dict(dec_first_epoch=dec[0].epoch, dec_first_top_pct=10 ** dec[0].log_spectrum_distance - 1,
                dec_later_top_pct=max(10 ** s.log_spectrum_distance - 1 for s in later),
                dec_bias=", ".join(f"{s.top_ratio - 1:+.0%} at epoch {s.epoch}" for s in later),
                dec_bulk_word="agrees less well" if min(bulk) > max(top) else "agrees about as well",
                dec_bulk=", ".join(f"{v:.2f}" for v in bulk), dec_top=", ".join(f"{v:.3f}" for v in top),
                dec_frob_lo=min(s.frobenius_error for s in dec), dec_frob_hi=max(s.frobenius_error for s in dec),
                dec_verdict=cl.decoupling_claims(cfg, dec)[0].verdict)


def noise_text(cfg, noise) -> dict:
    """Section 2: fitted late slopes with uncertainty, the window, growth of N/L and the verdicts."""
    labels = [r.label for r in noise]
    growth = [(r.noise[-1] / r.loss[-1]) / (r.noise[1] / r.loss[1]) for r in noise]
    return dict(noise_slopes=per_run([f"{r.fit[0]:.2f} ± {r.fit[1]:.2f}" for r in noise], labels, "s"),
                noise_window=per_run([f"{r.loss[r.window].max():.2g} to {r.loss[r.window].min():.2g} "
                                      f"({int(r.window.sum())} records)" for r in noise], labels, "s"),
                noise_fall=per_run([np.log10(r.loss[1] / r.loss.min()) for r in noise], labels, ".1f"),
                noise_growth=per_run(growth, labels, ".2f"),
                noise_verdicts=per_run([cl.noise_verdict(r) for r in noise], labels, "s"))


def stationary_text(cfg, stat: StationaryResult, tails: dict) -> dict:
    """Section 4: gaps to the continuous and discrete predictions, infinite-variance settings, tails."""
    rows = stat.rows
    fin = [r for r in rows if np.isfinite(r["phi_chain"])]
    inf = [r for r in rows if not np.isfinite(r["phi_chain"])]
    gap = lambda key, rs: np.mean([abs(r["phi_fit"] / r[key] - 1) for r in rs]) if rs else np.nan  # noqa: E731
    m = tails["measured"]
    c = {c_.id: c_.verdict for c_ in cl.stationary_claims(cfg, stat)}
    return dict(stat_gap_theory=gap("phi_theory", fin), stat_gap_chain=gap("phi_chain", fin),
                stat_infinite=", ".join(f"η = {r['lr']}, B = {r['batch_size']}" for r in inf) or "none",
                stat_kesten=", ".join(f"{r['phi_fit']:.2f} vs {r['phi_kesten']:.2f}" for r in inf) or "—",
                stat_verdict=", ".join(f"{v} (η = {k.split('eta')[1]})" for k, v in c.items() if "_eta" in k),
                stat_chain_verdict=c["stationary_phi_chain"],
                stat_show=f"η = {stat.show[0]}, B = {stat.show[1]}",
                stat_tail_order=" < ".join(f"{k} {m[k]:.1e}" for k in sorted(m, key=m.get)),
                stat_tail_power=tails["power_law"], stat_tail_arrhenius=tails["arrhenius"])


def escape_text(cfg, esc: EscapeResult) -> dict:
    """Section 5: low-window slopes against theory per variant at d = 1, Langevin growth, censoring, verdicts."""
    d0 = min(int(k.split("/")[2]) for k in esc.runs)
    slope = lambda key: "{:.2f} ± {:.2f}".format(*esc.slope(key)) if key in esc.runs else "not run"  # noqa: E731
    lang = next((k for k in esc.runs if k.startswith("langevin/")), None)
    cens = sum(int((~np.isfinite(e.times)).sum()) for e in esc.runs.values())
    total = sum(e.times.size for e in esc.runs.values())
    verdicts = {c.id: c.verdict for c in cl.escape_claims(cfg, esc)}
    sgd = [k for k in verdicts if k.startswith("escape_slope_sgd_gaussian")]
    per_d = lambda pre: "; ".join("{:.2f} ± {:.2f}".format(*esc.slope(k)) + f" vs {esc.theory[k]:.2f} "  # noqa
                                  f"(d = {k.split('/')[2]})" for k in esc.runs if k.startswith(pre))
    sgd_slopes = [esc.slope(k)[0] for k in esc.runs if k.startswith("sgd/gaussian/")]
    rad = cl.slope_growth(esc, f"sgd/rademacher/{d0}") if f"sgd/rademacher/{d0}" in esc.runs else np.nan
    return dict(esc_sgd_all=per_d("sgd/gaussian/"), esc_dec_all=per_d("decoupled/gaussian/"),
                esc_d_trend="falls" if np.all(np.diff(sgd_slopes) < 0) else "does not fall steadily",
                esc_rad_trend=trend(rad, "bends upward", "bends downward", "stays straight"), esc_d0=d0,
                esc_sgd_d0=slope(f"sgd/gaussian/{d0}"), esc_dec_d0=slope(f"decoupled/gaussian/{d0}"),
                esc_rad_d0=slope(f"sgd/rademacher/{d0}"), esc_theory_d0=esc.theory.get(f"sgd/gaussian/{d0}", np.nan),
                esc_rad_growth=rad, esc_lang_growth=cl.slope_growth(esc, lang) if lang else np.nan,
                esc_censored=f"{cens} of {total}", esc_sgd_verdicts=", ".join(verdicts[k] for k in sgd),
                esc_lang_verdict=verdicts.get("langevin_arrhenius", "not run"))
