"""Chapter 4 figures: dimension-wise CCDFs, iteration-wise pass fractions, covariance spectra."""
from __future__ import annotations

import numpy as np
from matplotlib import ticker
from scipy import stats

from ..plotting import subplots


def _settings(result) -> list[tuple[str, str]]:
    """(dataset, model) pairs in run order."""
    return list(dict.fromkeys((c.dataset, c.model) for c in result.checkpoints))


def _ticks(ax, values) -> None:
    """Label a log x axis at exactly ``values``."""
    ax.set_xticks(list(values), [str(v) for v in values])
    ax.minorticks_off()


def plot_dimension_wise(result):
    """Figure 1: CCDF of |g_i| over the P coordinates of one minibatch gradient, first and last stage, with fits."""
    pairs = _settings(result)
    fig, axes = subplots(1, len(pairs), width=3.6, height=3.0, squeeze=False)
    for ax, (d, m) in zip(axes[0], pairs):
        for stage, color in (("first", "C0"), ("last", "C1")):
            c = result.get(d, m, stage)
            x = np.sort(c.arrays["abs_grad"][c.arrays["abs_grad"] > 0])
            p = 1.0 - np.arange(len(x)) / len(x)
            keep = np.unique(np.geomspace(1, len(x), 1500).astype(int) - 1)
            ax.loglog(x[keep], p[keep], ".", ms=2, color=color, label=f"step {c.step}")
            f = c.dim_grad_top
            grid = np.geomspace(f.xmin, x[-1], 30)
            ax.loglog(grid, f.n_tail / f.n * f.ccdf(grid), "--", color=color,
                      label=f"beta={f.beta:.2f} d_ks={f.ks_distance:.3f} {'<' if f.passes else '>'} d_c")
        ax.set(title=f"{d} / {m}", xlabel="|g_i|", ylabel="P(|g| >= x)")
        ax.legend(fontsize=6)
    return fig


def plot_iteration_wise(result, gaussian_rate: float | None = None):
    """Figure 2: fraction of coordinates passing over minibatches vs batch size; one coordinate's histogram."""
    fig, (ax, ax2) = subplots(1, 2, width=4.0, height=3.0)
    for i, (d, m) in enumerate(_settings(result)):
        c = result.get(d, m, "last")
        ax.semilogx(c.iter_batch_sizes, c.iter_pass_grad, "o-", color=f"C{i}", label=f"{d}/{m} gradient")
        ax.semilogx(c.iter_batch_sizes, c.iter_pass_noise, "s:", color=f"C{i}", label=f"{d}/{m} noise")
    if gaussian_rate is not None:
        ax.axhline(gaussian_rate, color="k", lw=1, ls="--", label="Gaussian samples, same n")
    ax.set(xlabel="batch size B", ylabel="fraction passing d_ks < d_c", ylim=(-0.03, 1.03),
           title="iteration-wise (top 20 % rule)")
    _ticks(ax, result.checkpoints[0].iter_batch_sizes)
    ax.legend(fontsize=6)
    c = result.checkpoints[-1]
    v = c.arrays["iter_coord0"]
    ax2.hist(v, bins=50, density=True, alpha=0.6, label=f"{c.label}, coordinate 0")
    grid = np.linspace(v.min(), v.max(), 200)
    ax2.plot(grid, stats.norm.pdf(grid, v.mean(), v.std()), "k-", label="Gaussian, same mean/std")
    ax2.set(xlabel="g_i over minibatches", ylabel="density", title=f"kurtosis excess {stats.kurtosis(v):.2f}")
    ax2.legend(fontsize=6)
    return fig


def plot_spectra(result, top_k: int):
    """Figure 3: rank plots of the covariance eigenvalues (top_k), first vs last stage, with lambda_k ~ k^-s."""
    models = list(dict.fromkeys(c.model for c in result.checkpoints))
    fig, axes = subplots(1, len(models) + 1, width=3.6, height=3.0, squeeze=False)
    for ax, m in zip(axes[0], models):
        lo, hi = np.inf, 0.0
        for i, c in enumerate(c for c in result.checkpoints if c.model == m):
            ev = c.arrays["eigenvalues"][:top_k]
            k = np.arange(1, len(ev) + 1)
            ls = "-" if c.step > 0 else ":"
            ax.loglog(k, ev, ls, color=f"C{i}", lw=1.2, label=f"{c.dataset}@{c.step}: s={c.spec_fit.s:.2f}")
            mid = int(np.sqrt(len(ev)))  # anchor the fitted slope in the middle of the fitted ranks (log scale)
            ax.loglog(k, ev[mid - 1] * (k / mid) ** -c.spec_fit.s, "--", color=f"C{i}", lw=0.6)
            lo, hi = min(lo, ev[ev > 0].min()), max(hi, ev.max())
        ax.set_ylim(lo / 3, hi * 3)
        ax.set(title=f"{m}: covariance spectrum", xlabel="rank k", ylabel="eigenvalue lambda_k")
        ax.legend(fontsize=6)
    ax = axes[0][-1]
    for i, c in enumerate(result.checkpoints):
        line = ax.semilogx(c.iter_batch_sizes, c.minibatch_s, "o-" if c.step > 0 else "x:", label=c.label)[0]
        k = min(top_k, len(c.arrays["minibatch_eigs"]) // 2) if "minibatch_eigs" in c.arrays else None
        same = [s for kk, s, *_ in c.spec_by_k if kk == k]
        if same:  # the per-sample covariance fitted over the same number of eigenvalues
            ax.axhline(same[0], color=line.get_color(), lw=0.6, ls="--")
    ax.set(xlabel="batch size B", ylabel="s of minibatch-gradient covariance", title="s vs B (dashed: per-sample)")
    ax.legend(fontsize=5, ncol=2)
    _ticks(ax, result.checkpoints[0].iter_batch_sizes)
    return fig


def plot_mechanism_real(result, ax=None):
    """Dimension-wise noise exponent against 2 beta_var - 1 predicted from the per-coordinate variances."""
    if ax is None:
        _, ax = subplots(1, 1, width=3.6, height=3.0)
    pred = [2 * c.var_fit.beta - 1 for c in result.checkpoints]
    got = [c.dim_noise.beta for c in result.checkpoints]
    ax.plot(pred, got, "o")
    for c, a, b in zip(result.checkpoints, pred, got):
        ax.annotate(c.label, (a, b), fontsize=6)
    lo, hi = min(pred + got) * 0.9, max(pred + got) * 1.1
    ax.plot([lo, hi], [lo, hi], "k:", lw=0.8)
    ax.set(xlabel="predicted 2 beta_var - 1", ylabel="fitted dimension-wise noise beta",
           title="mechanism on real gradients")
    return ax


def plot_subspace_stability(result, dataset: str, model: str):
    """sin Theta_k between the top-k eigenspaces of two sample halves vs the Davis-Kahan bound (clipped at 1), and
    the relative eigengaps, at random init and after training, for one (dataset, model)."""
    fig, (ax, ax2) = subplots(1, 2, width=3.6, height=3.0)
    for stage, color in (("first", "C0"), ("last", "C1")):
        c = result.get(dataset, model, stage)
        st = c.subspace
        ax.loglog(st.ks, st.sin_theta, "o-", color=color, label=f"step {c.step}: measured sin Theta_k")
        ax.loglog(st.ks, np.minimum(st.dk_bound, 1.0), "s--", color=color, mfc="none", label=f"step {c.step}: DK bound")
        ax2.loglog(st.ks, st.rel_gap, "o-", color=color, label=f"step {c.step}")
    ax.axhline(1.0, color="k", lw=0.6, ls=":")
    ax.set(xlabel="subspace size k", ylabel="sin Theta_k (bound clipped at 1)", title=f"{dataset}/{model}: halves A vs B")
    ax2.set(xlabel="subspace size k", ylabel="(l_k - l_k+1) / l_k", title="relative eigengap of C_A")
    for a in (ax, ax2):
        _ticks(a, result.checkpoints[0].subspace.ks)
        a.yaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 3.0, 5.0)))  # labelled ticks within one decade
        a.yaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
        a.legend(fontsize=6)
    return fig
