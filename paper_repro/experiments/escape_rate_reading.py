"""Values the escape-rate chapter's prose quotes (myst-nb glue): numbers, verdicts and words computed from the run.

Each function returns ``{glue name: value}`` for one section; the chapter passes it to :func:`paper_repro.results.glue`.
"""
from __future__ import annotations

import numpy as np

from . import escape_rate_plots as ep
from .escape_rate import EscapeResult, StationaryResult

TAIL_NAMES = {"sgd/rademacher": "Rademacher SGD", "langevin/gaussian": "Langevin", "sgd/sparse": "sparse-input SGD",
              "decoupled/gaussian": "decoupled SDE", "sgd/gaussian": "Gaussian-input SGD"}


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
    """Section 1: top-eigenvalue agreement at the first and later epochs, lambda_1 bias, bulk distances, verdict."""
    first, later = dec[0], dec[1:] or dec
    top = [s.log_spectrum_distance for s in dec]
    bias = [s.top_ratio - 1 for s in later]
    bulk = [s.log_distance_all for s in dec]
    return dict(dec_first_epoch=first.epoch, dec_first_top=first.log_spectrum_distance,
                dec_first_top_pct=10 ** first.log_spectrum_distance - 1,
                dec_later_top_pct=max(10 ** s.log_spectrum_distance - 1 for s in later),
                dec_bias=", ".join(f"{b:+.0%} at epoch {s.epoch}" for b, s in zip(bias, later)),
                dec_bias_side=side(bias, 0.0),
                dec_bulk_word="agrees less well" if min(bulk) > max(top) else "agrees about as well",
                dec_bulk=", ".join(f"{v:.2f}" for v in bulk), dec_top=", ".join(f"{v:.3f}" for v in top),
                dec_frob_lo=min(s.frobenius_error for s in dec), dec_frob_hi=max(s.frobenius_error for s in dec),
                dec_epochs=", ".join(str(s.epoch) for s in dec), dec_verdict=ep.decoupling_claims(cfg, dec)[0].verdict)


def noise_text(cfg, noise) -> dict:
    """Section 2: first-epoch drops, late slope, growth of N/L (with words for their direction) and the verdicts."""
    labels = [r.label for r in noise]
    drop = lambda v: np.log10(v[0] / v[1])  # noqa: E731 - decades lost in the first epoch
    growth = [(r.noise[-1] / r.loss[-1]) / (r.noise[1] / r.loss[1]) for r in noise]
    slopes = [r.slope for r in noise]
    pace = {trend(s, "faster than", "slower than", "in step with", 0.1) for s in slopes}
    return dict(noise_drop_loss=per_run([drop(r.loss) for r in noise], labels, ".1f"),
                noise_drop_noise=per_run([drop(r.noise) for r in noise], labels, ".1f"),
                noise_pace=pace.pop() if len(pace) == 1 else "not uniformly in step with",
                noise_slopes=per_run(slopes, labels, ".2f"), noise_growth=per_run(growth, labels, ".2f"),
                noise_ratio_trend=" / ".join(dict.fromkeys(trend(g, "grows", "shrinks", "stays about constant")
                                                           for g in growth)),
                noise_verdicts=per_run([c.verdict for c in ep.noise_claims(cfg, noise)], labels, "s"))


def stationary_text(cfg, stat: StationaryResult, tails: dict) -> dict:
    """Section 4: phi gaps of Gaussian-input SGD, Euler-shift share, decoupled-SDE distances, bulk spread, tails."""
    g = [r for r in stat.rows if r["dynamics"] == "sgd" and r["inputs"] == "gaussian"]
    small = [r for r in g if r["lr"] <= 0.1]
    b1 = sorted((r for r in g if r["batch_size"] == 1), key=lambda r: r["lr"])
    gaps = [abs(r["phi_fit"] / r["phi_theory"] - 1) for r in b1]
    eta1 = [r["phi_fit"] / r["phi_theory"] for r in b1 if r["lr"] == 1.0]
    sde = [r for r in stat.rows if r["dynamics"] == "decoupled" and r["lr"] <= 0.2]
    spread = [np.ptp(f) / np.median(f) for f in ([r["phi_fit"] for r in stat.rows if (r["lr"], r["batch_size"]) == s]
                                                  for s in {(r["lr"], r["batch_size"]) for r in small})]
    m = tails["measured"]
    const, power = [m[k] for k in ("sgd/rademacher", "langevin/gaussian")], [m[k] for k in ("sgd/sparse",
                                                                                             "decoupled/gaussian")]
    ordered = max(const) < min(power) and max(power) < m["sgd/gaussian"]
    return dict(stat_small_gap=max((abs(r["phi_fit"] / r["phi_theory"] - 1) for r in small), default=np.nan),
                stat_small_side=side([r["phi_fit"] / r["phi_theory"] for r in small]),
                stat_gaps=", ".join(f"{v:.0%} at η = {r['lr']}" for v, r in zip(gaps, b1)),
                stat_gap_trend="grows" if np.all(np.diff(gaps) > 0) else "does not grow steadily",
                stat_eta1_ratio=eta1[0] if eta1 else np.nan,
                stat_euler_share=np.mean([(r["phi_theory"] - r["phi_discrete"]) / (r["phi_theory"] - r["phi_fit"])
                                          for r in small]) if small else np.nan,
                stat_sde_to_euler=np.mean([abs(r["phi_fit"] / r["phi_discrete"] - 1) for r in sde]),
                stat_sde_to_theory=np.mean([abs(r["phi_fit"] / r["phi_theory"] - 1) for r in sde]),
                stat_spread=max(spread, default=np.nan), stat_show=f"η = {stat.show[0]}, B = {stat.show[1]}",
                stat_tail_order=" < ".join(f"{TAIL_NAMES[k]} {m[k]:.1e}" for k in sorted(m, key=m.get)),
                stat_tail_power=tails["power_law"], stat_tail_arrhenius=tails["arrhenius"],
                stat_tail_const_ratio=np.mean(const) / tails["arrhenius"],
                stat_tail_power_ratio=np.mean(power) / tails["power_law"],
                stat_tail_ordered="in the predicted order" if ordered else "but not in the predicted order",
                stat_verdict=ep.stationary_claims(cfg, stat)[0].verdict)


def escape_text(cfg, esc: EscapeResult) -> dict:
    """Section 5: Langevin vs SGD local-slope growth, d = 1 local slopes, slopes per d against theory, verdicts."""
    nan = float("nan")
    sgd = [k for k in esc.runs if k.startswith("sgd/")]
    dims = [int(k.split("/")[1]) for k in sgd]
    slopes = [esc.slope(k) for k in sgd]
    dev = [s / esc.theory[d] - 1 for s, d in zip(slopes, dims)]
    lang = next((k for k in esc.runs if k.startswith("langevin/")), None)
    lang_growth = ep.slope_growth(esc, lang) if lang else nan
    sgd_growth = ep.slope_growth(esc, "sgd/1") if "sgd/1" in esc.runs else nan
    low = esc.local_slopes("sgd/1")[esc.runs["sgd/1"].c[1:] <= 3.0] if "sgd/1" in esc.runs else []
    verdicts = {c.id: c.verdict for c in ep.escape_claims(cfg, esc)}
    return dict(esc_lang_growth=lang_growth, esc_lang_trend=trend(lang_growth, "grows", "shrinks", "stays flat"),
                esc_sgd1_growth=sgd_growth, esc_sgd1_trend=trend(sgd_growth, "grow", "fall", "stay about constant"),
                esc_lang_verdict=verdicts.get("langevin_arrhenius", "not run"),
                esc_d1_low=", ".join(f"{v:.1f}" for v in low), esc_theory_d1=esc.theory.get(1, nan),
                esc_slopes=", ".join(f"{s:.2f}" for s in slopes), esc_theories=", ".join(f"{esc.theory[d]:.2f}"
                                                                                         for d in dims),
                esc_dims=", ".join(map(str, dims)),
                esc_d_trend="decrease" if np.all(np.diff(slopes) < 0) else "do not decrease steadily",
                esc_d1_last=esc.local_slopes("sgd/1")[-1] if "sgd/1" in esc.runs else nan,
                esc_asymptote=esc.exact_noise_d1, esc_dev_lo=min(dev, default=nan), esc_dev_hi=max(dev, default=nan),
                esc_sgd_verdicts=", ".join(f"{verdicts[f'escape_slope_sgd_d{d}']} (d = {d})" for d in dims),
                esc_sde_slope=esc.slope("decoupled/1") if "decoupled/1" in esc.runs else nan,
                esc_sde_verdict=verdicts.get("escape_slope_decoupled_d1", "not run"))
