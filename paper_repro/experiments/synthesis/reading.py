"""Values the chapter's prose quotes (glued), computed from the shared runs and the mechanism results."""
from __future__ import annotations

import numpy as np

from ...core.results import record_path
from ..escape_rate.noise_strength import loglog_fit
from . import analysis as an
from .config import CHAPTER, NET_DATA


def record_paths(rows: list[dict]) -> None:
    """Note every (net, dataset, measurement@loss) the shared runs executed (paper_paths test)."""
    for net, loss in sorted({(r["net"], r["loss"]) for r in an.ok(rows)}):
        for m in ("four_papers", "late_iterates"):
            record_path(CHAPTER, net, NET_DATA[net], f"{m}@{loss}")


def headline(rows: list[dict], lin: list[dict], temp: dict, cfg) -> dict:
    """Per net: pooled vs scale-mixture vs standardised alpha-hat, iteration-wise pass rate, N-vs-L slope; the
    linear model's phi; which quantities depend on T / B. Keys are glue names."""
    end = [r for r in rows if r.get("last")]
    out = {"n_runs": len({(r["net"], r["loss"], r["T"], r["B"], r["seed"]) for r in rows}),
           "n_diverged": sum(bool(r.get("diverged")) for r in rows), "n_seeds": cfg.n_seeds,
           "t_min": f"{min(cfg.temperatures):g}", "t_max": f"{max(cfg.temperatures):g}",
           "b_list": ", ".join(str(b) for b in cfg.batch_sizes), "n_pool": cfg.n_pool, "n_batches": cfg.n_batches,
           "top_coords": cfg.top_coords}
    for net in sorted({r["net"] for r in an.ok(rows)}):
        sel = an.ok(end, net=net)
        for key in ("alpha_sqrt_n", "alpha_pooled", "mix_diag", "mix_robust", "mix_lowrank", "alpha_std_cal", "iter_pass",
                    "dim_pass", "spectrum_s", "coord_pass"):
            out[f"{net}_{key}"] = an.seed_stat(sel, key)[0]
        out[f"{net}_coord_mean"] = an.coordinate_stat(sel)[0]
        out[f"{net}_explained"] = an.explained(sel)[0]
        pts = [r for r in an.ok(rows, net=net, loss="mse") if r["stage"] > 0]
        out[f"{net}_nl_slope"] = loglog_fit(np.array([r["train_loss"] for r in pts]),
                                            np.array([r["noise_strength"] for r in pts]))[0]
        out[f"{net}_phi_median"] = float(np.nanmedian([r.get("phi", np.nan) for r in sel]))
        out[f"{net}_hill_median"] = float(np.nanmedian([r.get("iter_hill", np.nan) for r in sel]))
        deps = {k: an.dependence(v["t_T"], v["t_B"]) for k, v in temp.get(net, {}).items()}
        for d in ("T", "B", "T and B", "neither"):
            out[f"{net}_dep_{d.replace(' ', '_')}"] = ", ".join(an.QUANTITIES[k][0] for k, v in deps.items()
                                                                  if v == d) or "none"
    nets = sorted({r["net"] for r in an.ok(rows)})
    lens = [len(r.get("u") or []) for r in an.ok(end)]
    out["iter_gauss_hill"] = an.gaussian_hill(max(lens) if lens else 0)
    for key in ("alpha_sqrt_n", "alpha_pooled", "mix_diag", "mix_robust", "mix_lowrank", "alpha_std_cal", "iter_pass", "dim_pass",
                "spectrum_s", "coord_mean", "coord_pass", "explained", "nl_slope", "phi_median", "hill_median"):
        pct = key in ("iter_pass", "dim_pass", "coord_pass", "explained")
        out[f"all_{key}"] = "; ".join(f"{n} {out[f'{n}_{key}']:.0%}" if pct else f"{n} {out[f'{n}_{key}']:.2f}"
                                      for n in nets)
    for d in ("T", "B", "T_and_B", "neither"):
        out[f"all_dep_{d}"] = "; ".join(f"{n}: {out[f'{n}_dep_{d}']}" for n in nets)
    for i, r in enumerate(lin):
        out.update({f"lin{i}_phi": r["phi_fit"], f"lin{i}_theory": r["phi_theory"], f"lin{i}_noise": r["noise_alpha"],
                    f"lin{i}_gauss": r["gauss_alpha"], f"lin{i}_hill": r["noise_hill"], f"lin{i}_chain": r["phi_chain"],
                    f"lin{i}_setting": f"η = {r['lr']:g}, B = {r['B']}"})
    return out
