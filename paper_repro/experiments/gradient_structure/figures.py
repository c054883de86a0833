"""Chapter 4 figures: dimension-wise CCDFs, iteration-wise pass fractions, spectra within the resolved range."""
from __future__ import annotations

import math

import numpy as np
from matplotlib import ticker
from scipy import stats

from ...present.plotting import subplots

WIDTH = 7.0  # inches: the page width


def _ticks(ax, values) -> None:
    """Label a log x axis at exactly ``values``."""
    ax.set_xticks(list(values), [str(v) for v in values])
    ax.minorticks_off()


def _main(result):
    """(dataset, model) settings at the recipe's batch size, and their checkpoint lists."""
    b0 = result.settings[0][2]
    return [(d, m, result.of(d, m, b)) for d, m, b in result.settings if b == b0 and result.of(d, m, b)]


def plot_dimension_wise(result):
    """Figure 1: CCDF of |g_i| over the P coordinates of one minibatch gradient, init and end, with top-k fits."""
    sets = _main(result)
    rows = math.ceil(len(sets) / 2)
    fig, axes = subplots(rows, 2, width=WIDTH / 2, height=2.8, squeeze=False)
    for ax, (d, m, cps) in zip(axes.flat, sets):
        for c, color in ((cps[0], "C0"), (cps[-1], "C1")):
            ax.loglog(c.arrays["ccdf_x"], c.arrays["ccdf_p"], ".", ms=2, color=color, label=f"step {c.step}")
            f = c.dim_top
            grid = np.geomspace(f.xmin, c.arrays["ccdf_x"][-1], 30)
            ax.loglog(grid, f.n_tail / f.n * f.ccdf(grid), "--", color=color,
                      label=rf"$\hat\beta$={f.beta:.2f}, $d_{{ks}}$ {'<' if f.passes else '>'} $d_c$")
        ax.set(title=f"{d} / {m}", xlabel=r"$|g_i|$", ylabel=r"$P(|g| \geq x)$")
        ax.legend(fontsize=7)
    for ax in axes.flat[len(sets):]:
        ax.remove()
    return fig


def plot_iteration_wise(result, gaussian_rate: float | None = None):
    """Figure 2: fraction of coordinates passing over minibatches vs B (init dotted, end solid); one coordinate."""
    fig, (ax, ax2) = subplots(2, 1, width=WIDTH, height=2.9)
    for i, (d, m, cps) in enumerate(_main(result)):
        for c, ls in ((cps[0], ":"), (cps[-1], "-")):
            ax.semilogx(c.iter_batch_sizes, c.iter_pass_grad, "o" + ls, color=f"C{i}", ms=4,
                        label=f"{d}/{m} step {c.step}")
    if gaussian_rate is not None:
        ax.axhline(gaussian_rate, color="k", lw=1, ls="--", label="Gaussian samples, same $n$")
    ax.set(xlabel="batch size $B$", ylabel=r"fraction with $d_{ks} < d_c$", ylim=(-0.03, 1.03),
           title="iteration-wise gradients (top 20 % rule)")
    _ticks(ax, result.checkpoints[0].iter_batch_sizes)
    ax.legend(fontsize=6, ncol=2)
    c = result.checkpoints[-1]
    v = c.arrays["iter_coord0"]
    ax2.hist(v, bins=50, density=True, alpha=0.6, label=f"{c.label}, one coordinate")
    grid = np.linspace(v.min(), v.max(), 200)
    ax2.plot(grid, stats.norm.pdf(grid, v.mean(), v.std()), "k-", label="Gaussian, same mean and std")
    ax2.set(xlabel=r"$g_i$ over minibatches", ylabel="density", title=f"excess kurtosis {stats.kurtosis(v):.2f}")
    ax2.legend(fontsize=7)
    return fig


def plot_spectra(result):
    """Figure 3: end-of-training spectra with the resolved range k <= n/10, s against k, minibatch s, s against B."""
    sweep = [c for c in result.checkpoints if c.spectrum and c.batch_size != result.settings[0][2]]
    fig, axes = subplots(4 if sweep else 3, 1, width=WIDTH, height=2.8)
    ax, ax2, ax3 = axes[:3]
    for i, (d, m, cps) in enumerate(_main(result)):
        c = [c for c in cps if c.spectrum][-1]
        ev, sp = c.arrays["eigenvalues"], c.spectrum
        k = np.arange(1, len(ev) + 1)
        ax.loglog(k[ev > 0], ev[ev > 0], "-", color=f"C{i}", lw=1, label=f"{d}/{m}: $s$={sp.s:.2f}")
        kk = k[: sp.k_max]
        ax.loglog(kk, ev[int(np.sqrt(sp.k_max)) - 1] * (kk / int(np.sqrt(sp.k_max))) ** -sp.s, "k--", lw=0.7)
        ax2.semilogx(sp.ks, sp.s_by_k, "o-", color=f"C{i}", ms=4, label=f"{d}/{m}")
        ax3.semilogx(c.iter_batch_sizes, c.minibatch_s, "o-", color=f"C{i}", ms=4, label=f"{d}/{m}")
        ax3.axhline(sp.s, color=f"C{i}", lw=0.6, ls="--")
    n, k_max = sp.n, sp.k_max
    ax.axvline(k_max, color="gray", ls=":")
    ax.set(xlabel="rank $k$", ylabel=r"$\lambda_k$", title=rf"covariance spectra, $n$={n}: fitted on $k \leq$ {k_max}")
    ax2.axvspan(k_max, ax2.get_xlim()[1], color="gray", alpha=0.15, label="unresolved ($k > n/10$)")
    ax2.set(xlabel="top $k$ eigenvalues fitted", ylabel="$s$", title="sensitivity of $s$ to the fitted range")
    ax3.set(xlabel="batch size $B$ of the minibatch gradients", ylabel="$s$ of their covariance",
            title="minibatch-gradient covariance (dashed: per-sample $s$)")
    _ticks(ax3, result.checkpoints[0].iter_batch_sizes)
    if sweep:
        d, m = sweep[0].dataset, sweep[0].model
        pts = sorted({c.batch_size: c.spectrum.s for c in result.checkpoints
                      if c.spectrum and (c.dataset, c.model) == (d, m)}.items())
        axes[3].semilogx(*zip(*pts), "o-", label=f"{d}/{m}, end of training")
        axes[3].set(xlabel="training batch size $B$", ylabel="$s$", title="batch-size sweep")
        _ticks(axes[3], [p[0] for p in pts])
    for a in axes:
        a.legend(fontsize=6, ncol=2)
    return fig


def plot_mechanism_real(result, ax=None):
    """Dimension-wise noise exponent against 2 beta_var - 1 predicted from the per-coordinate variances."""
    if ax is None:
        _, ax = subplots(1, 1, width=WIDTH, height=3.0)
    pred = [2 * c.var_fit.beta - 1 for c in result.checkpoints]
    got = [c.noise_free.beta for c in result.checkpoints]
    ax.plot(pred, got, "o")
    lo, hi = min(pred + got) * 0.9, max(pred + got) * 1.1
    ax.plot([lo, hi], [lo, hi], "k:", lw=0.8, label="prediction")
    ax.set(xlabel=r"predicted $2\beta_{\rm var} - 1$", ylabel=r"fitted noise $\hat\beta$",
           title="mechanism on real gradients (one point per checkpoint)")
    ax.legend(fontsize=7)
    return ax


def plot_subspace_stability(result, dataset: str, model: str):
    """sin Theta_k between the top-k eigenspaces of two sample halves vs the Davis-Kahan bound (clipped at 1), and
    the relative eigengaps, at the first and last spectrum stage of one setting."""
    cps = [c for c in result.of(dataset, model, result.settings[0][2]) if c.subspace]
    fig, (ax, ax2) = subplots(2, 1, width=WIDTH, height=2.8)
    for c, color in ((cps[0], "C0"), (cps[-1], "C1")):
        st = c.subspace
        ax.loglog(st.ks, st.sin_theta, "o-", color=color, label=rf"step {c.step}: measured $\sin\Theta_k$")
        ax.loglog(st.ks, np.minimum(st.dk_bound, 1.0), "s--", color=color, mfc="none", label=f"step {c.step}: bound")
        ax2.loglog(st.ks, st.rel_gap, "o-", color=color, label=f"step {c.step}")
    ax.axhline(1.0, color="k", lw=0.6, ls=":")
    ax.set(xlabel="subspace size $k$", ylabel=r"$\sin\Theta_k$ (bound clipped at 1)",
           title=f"{dataset}/{model}: halves A vs B")
    ax2.set(xlabel="subspace size $k$", ylabel=r"$(\lambda_k - \lambda_{k+1}) / \lambda_k$",
            title="relative eigengap of $C_A$")
    for a in (ax, ax2):
        _ticks(a, cps[0].subspace.ks)
        a.yaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        a.yaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
        a.legend(fontsize=7)
    return fig
