"""Chapter 4 reporting: plain-text tables and the scorecard claims, computed from the results."""
from __future__ import annotations

import numpy as np

from ..results import Claim


def table(rows: list[dict], keys: list[str] | None = None, digits: int = 3) -> str:
    """A fixed-width text table of ``rows`` (dicts) restricted to ``keys``."""
    keys = keys or list(rows[0])
    fmt = lambda v: f"{v:.{digits}g}" if isinstance(v, float) else str(v)  # noqa: E731
    cells = [[fmt(r.get(k, "")) for k in keys] for r in rows]
    widths = [max(len(k), *(len(c[i]) for c in cells)) for i, k in enumerate(keys)]
    line = lambda items: "  ".join(s.rjust(w) for s, w in zip(items, widths))  # noqa: E731
    return "\n".join([line(keys), line(["-" * w for w in widths]), *map(line, cells)])


def _verdict(value: float, good: float, partial: float) -> str:
    """reproduced / partly / not reproduced from a measured value (higher is better) and two thresholds."""
    if not np.isfinite(value):
        return "not run"
    return "reproduced" if value >= good else "partly" if value >= partial else "not reproduced"


def _iter_verdict(passing: float, gaussian_rate: float) -> str:
    """Gaussian-like when coordinates pass about as often as Gaussian samples; 'partly' when the test has no power."""
    if not np.isfinite(passing):
        return "not run"
    if passing <= gaussian_rate + 0.1:
        return "reproduced" if gaussian_rate <= 0.25 else "partly"
    return "partly" if passing <= 0.5 else "not reproduced"


def claims(result, cfg, acceptance, mech, gaussian_rate: float) -> list[Claim]:
    """The chapter's scorecard rows, every number and verdict computed here."""
    cps, trained = result.checkpoints, [c for c in result.checkpoints if c.step > 0] or result.checkpoints
    datasets = "+".join(cfg.datasets)
    dim = np.mean([c.dim_grad_top.passes for c in cps])
    dim_free = np.mean([c.dim_grad.passes for c in cps])
    betas = [c.dim_grad_top.beta for c in cps]
    it_g = float(np.nanmean([p for c in trained for p in c.iter_pass_grad]))
    it_n = float(np.nanmean([p for c in trained for p in c.iter_pass_noise]))
    it_free = float(np.nanmean([p for c in trained for p in c.iter_pass_grad_free]))
    spec = np.mean([c.spec_fit.passes for c in cps])
    s = [c.spec_fit.s for c in cps]
    i1 = int(np.argmin(np.abs(np.asarray(mech.s) - 1.0)))
    gauss_free = acceptance.rates["free"][-1]
    common = dict(profile=cfg.profile)
    return [
        Claim("dim_grad_powerlaw", "Dimension-wise stochastic gradients are power-law: d_ks < d_c on the top "
              f"{cfg.top_k} |g_i| of one minibatch gradient", "usually pass (power-law heavy tails)",
              f"{dim:.0%} of {len(cps)} checkpoints pass (free xmin: {dim_free:.0%}); "
              f"beta {min(betas):.2f}-{max(betas):.2f}",
              _verdict(dim, 0.75, 0.4), datasets, detail="LeNet/FCN, init and SGD-trained", **common),
        Claim("iter_grad_not_powerlaw", "Iteration-wise gradients (one coordinate over minibatches at fixed theta) "
              "usually do not pass the power-law test", "usually fail (Gaussian-like)",
              f"{it_g:.0%} of coordinates pass (top 20 % of {cfg.n_batches} minibatches; Gaussian samples: "
              f"{gaussian_rate:.0%}; with a free xmin {it_free:.0%})", _iter_verdict(it_g, gaussian_rate), datasets,
              detail=f"{cfg.n_coords} random coordinates, batch sizes {cfg.test_batch_sizes}, trained models",
              **common),
        Claim("iter_noise_not_powerlaw", "Minibatch gradient noise (iteration-wise) usually does not pass",
              "usually fail (Gaussian-like)", f"{it_n:.0%} of coordinates pass (Gaussian samples: {gaussian_rate:.0%})",
              _iter_verdict(it_n, gaussian_rate), datasets, detail="noise = g_B - g_full per coordinate", **common),
        Claim("spectrum_powerlaw", "The covariance spectrum of stochastic gradients is a power law "
              f"lambda_k ~ k^-s (d_ks < d_c on the top {cfg.top_k} eigenvalues)", "passes; power law universal",
              f"{spec:.0%} of {len(cps)} checkpoints pass; s = {min(s):.2f}-{max(s):.2f}", _verdict(spec, 0.75, 0.4),
              datasets, detail=f"per-sample gradients of {cfg.n_spectrum} samples, centred, Gram trick", **common),
        Claim("mechanism_scale_mixture", "Beyond the paper: Gaussian coordinates with variances sigma_k^2 ~ k^-s pool "
              "into a dimension-wise power law with beta = 1 + 2/s", f"predicted {mech.beta_predicted[i1]:.2f} "
              f"(s = {mech.s[i1]:g})", f"fitted {mech.beta_fit[i1]:.2f} on {mech.n_coords:,} coordinates",
              _verdict(-abs(mech.beta_fit[i1] - mech.beta_predicted[i1]), -0.1, -0.3), "synthetic", **common),
        Claim("naive_rule_lenient", "Beyond the paper: the d_ks < d_c rule with a free xmin accepts Gaussian samples "
              "as power laws", "rule used as a test at 5 % level (paper)",
              f"{gauss_free:.0%} of |N(0,1)| samples of n = {acceptance.sizes[-1]} accepted (top 20 % rule: "
              f"{acceptance.rates['top20'][-1]:.0%})", _verdict(gauss_free, 0.5, 0.1), "synthetic", **common),
    ]
