"""Chapter 1 (Simsekli et al. 2019): the values the chapter's text quotes, computed from this run's results (glue)."""
from __future__ import annotations

import numpy as np

from . import claims as tc
from .figures import fitted_slopes

NAN = float("nan")
GAUSS_MEDIAN_OVER_STD = 0.6745  # median |X| / std of a Gaussian


def _change(m: np.ndarray, s: np.ndarray, floor: float = 0.02) -> str:
    """'rises (+0.11)', 'falls (-0.38)' or 'barely moves (+0.01)' from the first to the last finite mean."""
    ok = np.isfinite(m)
    if ok.sum() < 2:
        return "has too few points to tell"
    d = float(m[ok][-1] - m[ok][0])
    word = "barely moves" if abs(d) <= max(2 * float(np.nanmean(s)), floor) else "rises" if d > 0 else "falls"
    return f"{word} ({d:+.2f})"


def synthetic_reading(cfg, syn: dict) -> dict:
    """Figure 5: largest Mohammadi bias at n >= 1e5, the Hill bias at the largest n, and the scorecard verdict."""
    err = tc.estimator_bias(syn)
    hill = np.abs(syn["hill"].mean(2) - syn["alphas"][:, None])[:, -1]
    return {"syn_bias_large": float(err.max()) if err.size else NAN,
            "syn_verdict": tc.claim_estimator(cfg, syn).verdict,
            "syn_n_max": int(syn["sizes"][-1]), "syn_hill_bias": float(hill.max()),
            "syn_hill_worst_alpha": float(syn["alphas"][int(np.argmax(hill))])}


def noise_sizes(nets: dict) -> dict:
    """Smallest and largest number N = batches x parameters of pooled noise components over all nets."""
    n = [r["n_params"] * (r["n_train"] // r["batch_size"]) for t in nets.values() for r in t.ok if "n_params" in r]
    return {"n_noise_min": int(min(n)) if n else 0, "n_noise_max": int(max(n)) if n else 0}


def histogram_reading(row: dict) -> dict:
    """Figure 1: median |X| / std against the Gaussian's, and the Hill estimate of the extreme tail of that noise."""
    hist, hill = row.get("hist") or {}, (row.get("variants") or {}).get("hill_pooled")
    ratio = hist["median_abs"] / hist["std"] if hist.get("std") else NAN
    tail = ("not measured for this net (its noise was streamed; the histogram is a random subsample)"
            if hill is None else
            "above 2: a tail with finite variance, lighter than the fitted SαS law" if hill > 2 else
            "below 2: a tail as heavy as an α-stable one")
    return {"hist_median_over_std": ratio, "hist_gauss_ratio": GAUSS_MEDIAN_OVER_STD,
            "hist_hill": NAN if hill is None else float(hill), "hist_tail": tail}


def sweep_reading(cfg, nets: dict) -> dict:
    """Figure 2: alpha-hat range and verdicts, trends per loss along width and depth at the paper's K1, hinge vs
    NLL, and the training stage the nets reached (steps, train accuracy, zero fraction)."""
    below, arch = tc.claim_alpha_below_2(cfg, nets), tc.claim_architecture(cfg, nets)
    alphas = tc.trained_alphas(nets)
    rows = [r for x in ("width", "depth") for r in nets[x].ok]
    acc = np.array([r.get("train_acc", NAN) for r in rows], float)
    out = {"all_alpha_max": float(np.nanmax(alphas)), "verdict_below_2": below.verdict, "verdict_arch": arch.verdict,
           "verdict_arch_fixed": tc.claim_architecture_fixed(cfg, nets).verdict,
           "n_diverged": sum(t.n_diverged for t in nets.values()), "n_full": int((acc >= cfg.stop_acc).sum()),
           "n_sweep": len(rows), "acc_min": float(np.nanmin(acc)) if len(acc) else NAN,
           "acc_max": float(np.nanmax(acc)) if len(acc) else NAN, "below_scope": tc.trained_scope(nets),
           "zero_max": max([r.get("zero_fraction", 0.0) for r in rows] or [NAN])}
    lower, pairs = 0, 0
    for x in ("width", "depth"):
        curves = {loss: nets[x].curve(x, "alpha_train", loss=loss, dataset=cfg.dataset) for loss in cfg.losses}
        out[f"trend_{x}"] = " and ".join(f"{_change(m, s)} for {loss}" for loss, (_, m, s) in curves.items())
        if {"nll", "hinge"} <= set(curves):
            ok = np.isfinite(curves["nll"][1]) & np.isfinite(curves["hinge"][1])
            lower, pairs = lower + int((curves["hinge"][1] < curves["nll"][1])[ok].sum()), pairs + int(ok.sum())
    out["hinge_vs_nll"] = (f"the hinge loss gives a smaller α̂ than NLL in {lower} of the {pairs} width and depth "
                           "settings" if pairs else "only one loss was run")
    return out


def k1_reading(nets: dict) -> dict:
    """The paper's K1 ~ sqrt(N) over the width and batch sweeps (it changes with N; the fixed K1 does not)."""
    k = lambda name: [r["k1"] for r in nets[name].ok if "k1" in r] or [0]  # noqa: E731
    return {"k1_width_min": min(k("width")), "k1_width_max": max(k("width")), "k1_batch_min": min(k("batch")),
            "k1_batch_max": max(k("batch"))}


def batch_reading(cfg, nets: dict) -> dict:
    """Figure 3: span of alpha-hat over the batch sizes (with '± 2 stderr' from the seed spread, or why there is
    none) and the scorecard verdict."""
    span, err = tc.sweep_spans(nets, "alpha_train_fixed")["batch"]
    return {"batch_span": tc.sweep_spans(nets)["batch"][0], "batch_span_fixed": span,
            "batch_span_err": tc.pm(span, err).partition(" ")[2],
            "batch_verdict": tc.claim_batch(cfg, nets).verdict, "batch_epochs": cfg.batch_epochs}


def track_reading(cfg, nets: dict) -> dict:
    """Figure 4: per seed, the drop-then-jump test (train noise, and test noise for comparison), the jitter, where
    the minimum falls in the accuracy rise, and the verdict."""
    from . import phases

    train, test = phases.seed_tests(cfg, nets), phases.seed_tests(cfg, nets, "alpha_test")
    tr = [t for _, t, _ in train if np.isfinite(t["p"])]
    get = lambda k: np.array([t[k] for t in tr], float) if tr else np.array([NAN])  # noqa: E731
    steps = [int(r["track"][-1]["step"]) for r, _, _ in train if r.get("track")]
    full = sum(bool(r.get("track")) and r["track"][-1]["train_acc"] >= cfg.stop_acc for r, _, _ in train)
    return {"track_width": cfg.track_width, "track_cadence": phases.cadence_text(cfg),
            "track_runs": len(train), "track_full": full, "track_last": max(steps or [0]),
            "track_drop_min": get("drop").min(), "track_drop_max": get("drop").max(),
            "track_jump_min": get("jump").min(), "track_jump_max": get("jump").max(),
            "track_q95_max": get("q95").max(), "track_jitter": get("jitter").mean(),
            "track_p_max": get("p").max(), "track_step_min": ", ".join(f"{s:.0f}" for s in get("step_min")),
            "track_acc_at_min": ", ".join(f"{a:.0%}" for a in get("acc_min")),
            "track_seed_verdicts": ", ".join(v for *_, v in train),
            "track_test_verdicts": ", ".join(v for *_, v in test),
            "track_verdict": phases.claim_two_phases(cfg, nets).verdict,
            "track_interval_epochs": cfg.track_dense_every * cfg.batch_size / cfg.n_train}


def pooling_reading(cfg, sens: dict, nets: dict, calib: dict) -> dict:
    """Figure 6: pooling variants at one K1 on trained nets, the calibration against i.i.d. SaS, raw pixels, init."""
    tr = tc.trained_variants(sens)
    get = lambda k: np.array([v[k] for v in tr.values()], float)  # noqa: E731
    pooled, perm, std, hill = get("pooled"), get("permuted"), get("standardised_permuted"), get("hill_pooled")
    gain = perm - pooled
    raw, base = (nets["raw"].ok or [{}])[0], sens.get(f"w{cfg.base_width} d{cfg.base_depth}", {})
    init = [v for k, v in sens["init, Gaussian inputs"].items() if k in ("pooled", "permuted",
                                                                        "standardised_permuted")]
    eq, err, _ = tc.pooling_equivalent(sens, calib)
    return {"pool_min": pooled.min(), "pool_max": pooled.max(), "std_min": std.min(), "std_max": std.max(),
            "perm_gain_min": gain.min(), "perm_gain_max": gain.max(),
            "perm_dir": "up" if gain.min() > 0 else "down" if gain.max() < 0 else
            "up for some nets and down for others",
            "hill_min": hill.min(), "hill_max": hill.max(),
            "hill_vs_2": "above 2 on every trained net, a lighter tail than any α < 2" if hill.min() > 2 else
            "not above 2 on every trained net", "raw_zero": raw.get("zero_fraction", NAN),
            "raw_pooled": (raw.get("variants") or {}).get("pooled", NAN),
            "raw_nonzero": (raw.get("variants") or {}).get("nonzero_pooled") or NAN,
            "base_pooled": base.get("pooled", NAN), "init_min": min(init), "init_max": max(init),
            "calib_std_2": float(calib["standardised_permuted"][-1]), "calib_alpha_max": float(calib["alphas"][-1]),
            "calib_std_low": float(calib["standardised_permuted"][0]), "calib_alpha_low": float(calib["alphas"][0]),
            "pool_equiv": eq, "pool_equiv_err": err, "calib_rows": int(calib["shape"][0]),
            "calib_cols": int(calib["shape"][1]), "verdict_pooling": tc.claim_pooling(cfg, sens, calib).verdict}


def exit_reading(cfg, exits: dict) -> dict:
    """Figure 7: sim/theory range, fitted slopes against alpha, the Brownian slope and the scorecard verdict."""
    res = exits["eps"]
    ratios, slopes = [r for _, r in tc.exit_ratios(cfg, res).values()], fitted_slopes(res, "eps")
    excess = {a: abs(s) - a for a, s in slopes.items() if a < 2}
    if excess:
        worst = max(excess, key=excess.get)
        word = "steeper than" if min(excess.values()) > 0 else "not steeper than"
        lo, hi = min(excess.values()), excess[worst]
        by = f"by {hi:+.2f}" if len(excess) == 1 else f"by {lo:+.2f} to {hi:+.2f}, most at α = {worst:g}"
        slope_text = f"{word} α for every α < 2 ({by})"
    else:
        slope_text = "not available (too few uncensored settings)"
    brown = (f"have a log-log slope of {slopes[2.0]:.2f}, " + ("steeper than every Lévy one"
             if tc.brownian_steepest(slopes) else "not steeper than every Lévy one")) if 2.0 in slopes else \
        "were not fitted in this profile"
    return {"exit_ratio_min": min(ratios) if ratios else NAN, "exit_ratio_max": max(ratios) if ratios else NAN,
            "exit_slopes": slope_text, "exit_brownian": brown, "exit_verdict": tc.claim_levy(cfg, exits).verdict}


def fmt_pm(m: float, s: float) -> str:
    """'1.234 ± 0.012' with enough digits that the spread shows (never '± 0.00'); the mean alone when the spread is
    missing or zero (one seed)."""
    if not np.isfinite(m):
        return "—"
    if not (np.isfinite(s) and s > 0):
        return f"{m:.3f}"
    d = int(min(max(2, 1 - np.floor(np.log10(s))), 6))
    return f"{m:.{d}f} ± {s:.{d}f}"


STAGE_COLUMNS = (("steps", "steps_run", "{:.0f}"), ("train acc.", "train_acc", "{:.1%}"),
                 ("zeros", "zero_fraction", "{:.1%}"))


def sweep_rows(nets: dict) -> list[dict]:
    """Rows of a rendered table: per sweep, dataset, loss and setting, the training stage reached (steps, train
    accuracy, share of exact zeros; means over seeds) and alpha-hat (mean ± std over seeds) at the paper's K1, at
    the fixed K1, and with the exact zeros dropped."""
    rows = []
    for name, x in (("width", "width"), ("depth", "depth"), ("batch", "batch_size"), ("cnn", "width")):
        if name not in nets:
            continue
        for key in sorted({(r.get("dataset"), r["loss"]) for r in nets[name].ok}):
            match = dict(dataset=key[0], loss=key[1])
            for v in sorted({r[x] for r in nets[name].select(**match)}):
                sel = nets[name].select(**match, **{x: v})
                col = lambda k: np.array([r.get(k, NAN) if r.get(k) is not None else NAN for r in sel], float)  # noqa
                row = {"sweep": name, "data": key[0], "loss": key[1], "setting": int(v)}
                row.update({label: fmt.format(np.nanmean(col(k))) for label, k, fmt in STAGE_COLUMNS})
                for label, k in (("α̂ (K1 ≈ √N)", "alpha_train"), ("α̂ (fixed K1)", "alpha_train_fixed"),
                                 ("α̂ (zeros dropped)", "alpha_nonzero")):
                    a = col(k)
                    row[label] = fmt_pm(np.nanmean(a), np.nanstd(a)) if np.isfinite(a).any() else "—"
                rows.append(row)
    return rows


def benchmark_rows() -> list[dict]:
    """The benchmark's saved ratios (benchmarks/bench_tail_index.py), as table rows; [] when it was not run."""
    import json

    from ...core.results import output_dir

    path = output_dir("tail_index") / "benchmark.json"
    if not path.exists():
        return []
    b = json.loads(path.read_text())
    return [{"quantity": k, "value": v} for k, v in b.get("summary", {}).items()]


def control_reading(results: dict) -> dict:
    """The controls figure: range of 'reproduced' where the claim holds, of 'not reproduced' on the alternative
    (and the rule with the least), and the largest share of 'reproduced' on the alternative."""
    pos = {k: r.positive_rate for k, r in results.items()}
    neg = {k: r.negative_rate for k, r in results.items()}
    worst = min(neg, key=neg.get)
    return {"ctl_pos_min": min(pos.values()), "ctl_pos_max": max(pos.values()), "ctl_neg_min": neg[worst],
            "ctl_neg_max": max(neg.values()), "ctl_neg_worst": worst,
            "ctl_false_max": max(r.false_rate for r in results.values())}


def scorecard_rows(claims: list) -> list[dict]:
    """The chapter's scorecard as table rows: verdict, claim (rendered math), where its target comes from, ours."""
    where = {"paper": "the paper (counted)", "released code": "the released code (counted)",
             "abstract": "inferred from the abstract (shown apart)", "summary": "a summary (shown apart)",
             "derived here": "asked here (shown apart)"}
    return [{"verdict": c.verdict, "claim": c.statement,
             "target from": "beyond the paper" if c.beyond else where[c.basis], "ours": c.ours} for c in claims]


def cnn_reading(nets: dict) -> str:
    """The AlexNet figure's reading (paper profile), or where that sweep runs when it did not run here."""
    rows = nets["cnn"].ok if "cnn" in nets else []
    if not rows:
        return ("The AlexNet sweep on CIFAR-10 and CIFAR-100, and the FC sweeps on CIFAR-10, run in the paper "
                "profile (a GPU).")
    a = np.array([r["alpha_train"] for r in rows], float)
    acc = np.array([r.get("train_acc", NAN) for r in rows], float)
    return (f"Reading (AlexNet). Over {len(rows)} nets α̂ ranges from {np.nanmin(a):.2f} to {np.nanmax(a):.2f}, "
            f"all below 2; their train accuracies range from {np.nanmin(acc):.1%} to {np.nanmax(acc):.1%}.")
