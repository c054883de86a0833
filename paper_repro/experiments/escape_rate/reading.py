"""Values the escape-rate chapter's prose quotes (myst-nb glue): numbers, verdicts and words computed from the run.

Each function returns ``{glue name: value}`` for one section; the chapter passes it to
:func:`paper_repro.core.results.glue`.
"""
from __future__ import annotations

import numpy as np

from ...core.verdicts import pm
from . import claims as cl
from .run import EscapeResult, StationaryResult


NAMES = {"sgd/gaussian": "Gaussian-input SGD", "sgd/sparse": "sparse-input SGD",
         "sgd/rademacher": "Rademacher-input SGD", "decoupled/gaussian": "decoupled SDE",
         "langevin/gaussian": "Langevin"}  # noise models in prose


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
    """Section 1: whole-distribution distances against the split-half null, the controls, top-100 distances."""
    rows = cl.decoupling_claims(cfg, dec)
    ks = [s for s in dec if s.ks]
    ratio = lambda key: ", ".join(f"{s.ks[key] / s.ks['null']:.1f}" for s in ks) or "not measured"  # noqa: E731
    return dict(dec_n_train=f"{cfg.dec_n_train:,}", dec_n_spectrum=f"{cfg.dec_n_spectrum:,}",
                dec_ks=ratio("half"), dec_ks_shuffled=ratio("shuffled"), dec_ks_sorted=ratio("sorted"),
                dec_epochs=", ".join(str(s.epoch) for s in ks) or "none", dec_floor=f"{cfg.dec_floor:g}",
                dec_verdict=rows[0].verdict, dec_top_verdict=rows[1].verdict,
                dec_epoch_verdicts=", ".join(f"{cl.spectra_verdict(s)} (epoch {s.epoch})" for s in dec),
                dec_top=", ".join(f"{10 ** s.log_spectrum_distance - 1:.0%}" for s in dec),
                dec_bias=", ".join(f"{s.top_ratio - 1:+.0%} at epoch {s.epoch}" for s in dec),
                dec_frob_lo=min(s.frobenius_error for s in dec), dec_frob_hi=max(s.frobenius_error for s in dec))


def noise_runs_text(cfg) -> str:
    """The noise-vs-loss trainings of this run in words (which of them are the paper's and which reduced)."""
    names = {"fashion_mnist": "Fashion-MNIST", "cifar10": "CIFAR-10", "mnist": "MNIST"}
    runs = [(f"an FC net {len(w)}×{w[0]}" if a == "fc" else "the VGG-like CNN " + "/".join(map(str, w)))
            + f" on the first {cfg.noise_n_train:,} {names[ds]} training images" for ds, a, w in cfg.noise_runs]
    every = "every epoch" if cfg.noise_every == 1 else f"every {cfg.noise_every} epochs"
    return " and ".join(runs) + f" for {cfg.noise_epochs} epochs, measuring 𝒩 {every}"


def scorecard_rows(claims) -> list[dict]:
    """The chapter's scorecard as plain table rows: verdict, claim, paper, ours, source, whether counted."""
    return [{"verdict": c.verdict, "claim": c.statement, "paper": c.paper_value, "ours": c.ours, "source": c.source,
             "counted": "yes" if c.counted else ("beyond the paper" if c.beyond else "target not stated by the paper")}
            for c in claims]


def noise_text(cfg, noise) -> dict:
    """Section 2: fitted late slopes with uncertainty, the window, growth of N/L and the verdicts."""
    labels = [r.label for r in noise]
    growth = [(r.noise[-1] / r.loss[-1]) / (r.noise[1] / r.loss[1]) for r in noise]
    return dict(noise_slopes=per_run([pm(*r.fit, 2) for r in noise], labels, "s"),
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
    one = [r for r in rows if r["lr"] == 1.0]
    grid = f"η = {', '.join(f'{lr:g}' for lr in cfg.stat_lrs)}; B = {', '.join(map(str, cfg.stat_batches))}"
    return dict(stat_gap_theory=gap("phi_theory", fin), stat_gap_chain=gap("phi_chain", fin), stat_grid=grid,
                stat_every=cfg.stat_every,
                stat_eta1="; ".join(f"B = {r['batch_size']}: {pm(r['phi_fit'], r['phi_se'], 2)} vs "
                                    f"{r['phi_theory']:.2f} (chain algebra {(r['batch_size'] + 1) / 2:g})"
                                    for r in one) or "not run",
                stat_eta1_verdict=c.get("stationary_phi_eta1", "not run"),
                stat_infinite="; ".join(f"η = {r['lr']:g}, B = {r['batch_size']}" for r in inf) or "none",
                stat_kesten=", ".join(f"{r['phi_fit']:.2f} vs {r['phi_kesten']:.2f}" for r in inf) or "—",
                stat_verdict=", ".join(f"{v} (η = {k.split('eta')[1]})" for k, v in c.items()
                                       if "_eta" in k and k != "stationary_phi_eta1") or "none",
                stat_chain_verdict=c["stationary_phi_chain"],
                stat_show=f"η = {stat.show[0]}, B = {stat.show[1]}",
                stat_tail_order=" < ".join(f"{NAMES.get(k, k)} {m[k]:.1e}" for k in sorted(m, key=m.get)),
                stat_tail_power=tails["power_law"], stat_tail_arrhenius=tails["arrhenius"])


def escape_text(cfg, esc: EscapeResult) -> dict:
    """Section 5: per d, slopes of SGD / decoupled SDE / Langevin against the exact finite-c predictions."""
    dims = sorted({int(k.split("/")[2]) for k in esc.runs})
    rows = {c.id: c for c in cl.escape_claims(cfg, esc)}

    def per_d(dyn, model="decoupled"):
        out = []
        for d in dims:
            k = f"{dyn}/gaussian/{d}"
            out.append(f"d = {d}: " + pm(*esc.slope(k), 2) + f" vs {esc.predicted(k, model):.2f}")
        return "; ".join(out)
    win = lambda k: (f"{esc.runs[k].c[esc.window(k)].min():g}–{esc.runs[k].c[esc.window(k)].max():g}"  # noqa
                     if esc.window(k).any() else "empty")
    rad = [k for k in esc.runs if k.startswith("sgd/rademacher/")]
    lang = {d: cl.rules.escape_verdict(*esc.slope(f"langevin/gaussian/{d}"), esc.predicted(f"langevin/gaussian/{d}"),
                                       esc.predicted(f"langevin/gaussian/{d}", "langevin"),
                                       int(esc.window(f"langevin/gaussian/{d}").sum())) for d in dims}
    return dict(esc_lr=f"{cfg.esc_lr:g}", esc_runs=cfg.esc_runs, esc_cap=f"{cfg.esc_max_steps:,}",
                esc_c=", ".join(f"{c:g}" for c in cfg.esc_c),
                esc_windows="; ".join(f"d = {d}: c = {win(f'sgd/gaussian/{d}')}" for d in dims),
                esc_sgd_all=per_d("sgd"), esc_dec_all=per_d("decoupled"), esc_lang_all=per_d("langevin", "langevin"),
                esc_asym=", ".join(f"{esc.theory[f'sgd/gaussian/{d}']:.2f}" for d in dims),
                esc_sgd_vs_asym=", ".join(f"{esc.slope(f'sgd/gaussian/{d}')[0] / esc.theory[f'sgd/gaussian/{d}']:.2f} "
                                          f"(d = {d})" for d in dims),
                esc_sgd_verdicts=", ".join(f"{rows[f'escape_slope_sgd_gaussian_d{d}'].verdict} (d = {d})"
                                           for d in dims),
                esc_dec_verdicts=", ".join(f"{rows[f'escape_slope_decoupled_gaussian_d{d}'].verdict} (d = {d})"
                                           for d in dims),
                esc_lang_verdicts=", ".join(f"{v} (d = {d})" for d, v in lang.items()),
                esc_rad=("; ".join(f"d = {k.split('/')[2]}: " + pm(*esc.slope(k), 2) + f" vs Langevin "
                                   f"{esc.predicted(k, 'langevin'):.2f} and decoupled {esc.predicted(k):.2f}, "
                                   f"{rows[f'escape_slope_sgd_rademacher_d{k.split(chr(47))[2]}'].verdict}"
                                   for k in rad) or "not run"))


def local_text(esc: EscapeResult) -> dict:
    """Figure 7: per d, the last local slope of SGD inside its window against the exact local slopes of the decoupled
    SDE and of Langevin dynamics over the same pair of thresholds."""
    from . import mfpt

    out = []
    for k in (k for k in esc.runs if k.startswith("sgd/gaussian/")):
        c, w, d = esc.runs[k].c, esc.window(k), int(k.split("/")[2])
        i = np.flatnonzero(w[1:] & w[:-1])
        if not len(i):
            continue
        pair = c[i[-1]:i[-1] + 2]
        dec, lang = (mfpt.local_slopes(pair, esc.eps[k], d, m)[0] for m in ("decoupled", "langevin"))
        out.append(f"d = {d}, c = {pair[0]:g}–{pair[1]:g}: {esc.local_slopes(k)[i[-1]]:.1f} (decoupled {dec:.1f}, "
                   f"Langevin {lang:.1f})")
    return dict(esc_local_last="; ".join(out) or "not measured")


def critical_text(cfg, crit) -> dict:
    """Eq. (19) section: n_c, drifts per d, verdicts of the claim and of the Langevin control."""
    from . import rules

    lang = {d: crit.drift[("langevin", d)] for d in crit.times}
    return dict(nc_eps=f"{crit.eps:g}", nc_value=f"{crit.n_c:g}", nc_dims=", ".join(str(d) for d in crit.times),
                nc_drifts="; ".join(f"d = {d}: {pm(*crit.drift[('decoupled', d)], 2)}" for d in crit.times),
                nc_lang="; ".join(f"d = {d}: {pm(m, se, 2)}" for d, (m, se) in lang.items()),
                nc_verdict=cl.critical_claims(cfg, crit)[0].verdict,
                nc_lang_verdict=rules.critical_verdict(lang, crit.n_c))
