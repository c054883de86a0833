"""Chapter 4 reading: table rows for the rendered tables and every value the text quotes, all computed."""
from __future__ import annotations

import numpy as np

from .claims import spectrum_s, stage_rates

MECH_TOL = 0.2  # |fitted - predicted| dimension-wise noise beta counted as a match of the mechanism on real gradients


def dimension_rows(result) -> list[dict]:
    """Figure 1's table: per checkpoint, top-k beta, d_ks vs d_c, pass rate over draws, free-xmin variant."""
    return [{"checkpoint": c.label, "β̂ (top k)": c.dim_top.beta, "d_ks": c.dim_top.ks_distance,
             "d_c": c.dim_top.critical_value, "pass rate (draws)": c.dim_pass_rate,
             "noise pass rate": c.noise_pass_rate, "β̂ (free x_min)": c.dim_free.beta,
             "tail (free)": c.dim_free.n_tail} for c in result.checkpoints]


def iteration_rows(result) -> list[dict]:
    """Figure 2's table: fraction of coordinates passing per test batch size (gradient, noise, free x_min)."""
    return [{"checkpoint": c.label, **{f"grad B={b}": p for b, p in zip(c.iter_batch_sizes, c.iter_pass_grad)},
             **{f"noise B={b}": p for b, p in zip(c.iter_batch_sizes, c.iter_pass_noise)},
             **{f"free B={b}": p for b, p in zip(c.iter_batch_sizes, c.iter_pass_grad_free)}}
            for c in result.checkpoints]


def spectrum_rows(result) -> list[dict]:
    """Figure 3's table: s on the resolved range, its k-range, spread over k, d_ks vs d_c, slope, minibatch s."""
    return [{"checkpoint": c.label, "s": c.spectrum.s, "k range": f"1–{c.spectrum.k_max}",
             "s spread over k": c.spectrum.s_spread, "d_ks": c.spectrum.fit.ks_distance,
             "d_c": c.spectrum.fit.critical_value, "passes": c.spectrum.fit.passes, "LS slope": c.spectrum.slope,
             **{f"s (B={b})": s for b, s in zip(c.iter_batch_sizes, c.minibatch_s)}}
            for c in result.checkpoints if c.spectrum]


def subspace_rows(result) -> list[dict]:
    """Figure 3b's table: sin Theta_k, bound (clipped at 1) and relative gap at each k."""
    return [{"checkpoint": c.label, "k": k, "sin Θ_k": s, "bound": min(b, 1.0), "relative gap": g}
            for c in result.checkpoints if c.subspace for k, s, b, g in
            zip(c.subspace.ks, c.subspace.sin_theta, c.subspace.dk_bound, c.subspace.rel_gap)]


def synthetic_reading(acceptance, mech) -> dict:
    """How often each rule accepts Gaussian samples (smallest and largest n), and the mechanism at s = 1."""
    i1 = int(np.argmin(np.abs(np.asarray(mech.s) - 1.0)))
    top, free = acceptance.rates["top20"], acceptance.rates["free"]
    return {"accept_n_min": acceptance.sizes[0], "accept_n_max": acceptance.sizes[-1], "accept_top20_n_min": top[0],
            "accept_top20_n_max": top[-1], "accept_free_n_max": free[-1], "mech_s": mech.s[i1],
            "mech_beta_fit": mech.beta_fit[i1], "mech_beta_pred": mech.beta_predicted[i1],
            "mech_iter_pass": mech.iter_pass[i1]}


def mechanism_reading(result) -> dict:
    """Share of checkpoints where 2 beta_var - 1 predicts the fitted noise exponent within MECH_TOL; median gap."""
    gaps = [abs(c.noise_free.beta - (2 * c.var_fit.beta - 1)) for c in result.checkpoints]
    return {"mech_real_tol": MECH_TOL, "mech_real_frac": float(np.mean([g <= MECH_TOL for g in gaps])),
            "mech_real_gap": float(np.nanmedian(gaps))}


def reading(result, cfg, claims, gaussian_rate: float) -> dict:
    """Every value the chapter's closing reading quotes."""
    r, sp = stage_rates(result, cfg.n_coords), spectrum_s(result)
    out = {f"rate_{k}": v[0] for k, v in r.items()}
    out.update({f"n_{k}": v[2] for k, v in r.items()})
    out.update({f"spec_{k}": v for k, v in sp.items()}, iter_gauss_rate=gaussian_rate, run_profile=cfg.profile,
               run_settings=len(result.settings), run_checkpoints=len(result.checkpoints),
               **{f"verdict_{c.id}": c.verdict for c in claims})
    return out
