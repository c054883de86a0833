"""Chapter 4 figures: each test beside its controls (samples of known shape at the same n and rule)."""
from __future__ import annotations

import math

import numpy as np
from matplotlib import ticker
from matplotlib.lines import Line2D
from scipy import stats

from ...present.plotting import subplots
from .claims import MEASURES, RULE_NAMES, units
from .controls import LABELS, SOURCES, spectrum_fit_ratio

WIDTH = 6.5  # inches: a little under the 7 in page, so legends below the axes keep the figure within it (>= 11 pt)
RULE_COLORS = {"top_k": "C0", "free": "C3"}


def _ticks(ax, values) -> None:
    """Label a log x axis at exactly ``values``."""
    ax.set_xticks(list(values), [str(v) for v in values])
    ax.minorticks_off()


def _legend_below(ax, ncol: int = 2) -> None:
    """The legend under the axes, off the data."""
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=ncol, frameon=False)


def _main(result):
    """(dataset, model) settings at the recipe's batch size, and their checkpoint lists."""
    b0 = result.settings[0][2]
    return [(d, m, result.of(d, m, b)) for d, m, b in result.settings if b == b0 and result.of(d, m, b)]


def plot_controls(ax, controls, ours: dict, title: str) -> None:
    """Pass rates of the control samples (rows) under each rule (bars), with the real data's rates at the end of
    training (top rows): a real rate is read against the controls' rates at the same n and rule."""
    rows = list(ours) + [LABELS[s] for s in SOURCES]
    y = np.arange(len(rows))
    for j, rule in enumerate(controls.rates):
        vals = [ours[k].get(rule, np.nan) for k in ours] + [controls.rates[rule][s] for s in SOURCES]
        ax.barh(y + (j - 0.5) * 0.38, vals, height=0.36, color=RULE_COLORS[rule], label=RULE_NAMES[rule])
    ax.axhline(len(ours) - 0.5, color="k", lw=0.8)
    ax.set_yticks(y, rows)
    ax.invert_yaxis()
    ax.set(xlim=(0, 1), xlabel="fraction passing the KS test", title=title)
    _legend_below(ax)


def _ours(result, measures: dict) -> dict:
    """{row label: {rule: unit-mean pass rate at the end of training}} for the given {label: measure}."""
    cps = units(result, "end")
    return {label: {r: float(np.nanmean([f(c) for c in cps])) for r, f in MEASURES[m].items()}
            for label, m in measures.items()}


def plot_dimension_wise(result, controls):
    """Figure 1: CCDF of |g_i| over the P coordinates of one minibatch gradient (init and end, with the fixed-tail
    fits), and the pass rates of the real gradients beside the control samples at the same n."""
    sets = _main(result)
    rows = math.ceil(len(sets) / 2)
    fig, axes = subplots(rows + 1, 2, width=WIDTH / 2, height=2.9, squeeze=False)
    for ax, (d, m, cps) in zip(axes.flat, sets):
        status = []
        for c, color, name in ((cps[0], "C0", "init"), (cps[-1], "C1", "end")):
            f = c.dim_top
            ax.loglog(c.arrays["ccdf_x"], c.arrays["ccdf_p"], ".", ms=2, color=color)
            grid = np.geomspace(f.xmin, c.arrays["ccdf_x"][-1], 30)
            ax.loglog(grid, f.n_tail / f.n * f.ccdf(grid), "k--", lw=0.9)
            status.append(f"{name} {'passes' if f.passes else 'fails'}")
        top = max(cps[0].arrays["ccdf_x"].max(), cps[-1].arrays["ccdf_x"].max())
        ax.set_xlim(top * 1e-5, top * 3)
        ax.set(title=f"{d} / {m}\n" + ", ".join(status), xlabel=r"$|g_i|$", ylabel=r"$P(|g| \geq x)$")
        ax.xaxis.set_major_locator(ticker.LogLocator(numticks=4))
    handles = [Line2D([], [], ls="", marker="o", color="C0"), Line2D([], [], ls="", marker="o", color="C1"),
               Line2D([], [], ls="--", color="k")]
    fig.legend(handles, ["random init", "end of training", f"power law fitted to the top {sets[0][2][0].dim_top.n_tail}"],
               loc="outside upper center", ncol=3, frameon=False)
    for ax in axes.flat[len(sets):]:
        ax.remove()
    ctl = fig.add_subplot(axes[-1, 0].get_gridspec()[-1, :])
    plot_controls(ctl, controls, _ours(result, {"our gradients": "dim", "our noise": "noise_dim"}),
                  f"dimension-wise test, n = {controls.n:,} values")
    return fig


def plot_iteration_wise(result, controls):
    """Figure 2: fraction of coordinates passing over minibatches vs B at the end of training, with the controls'
    rates at the same n and rule as horizontal lines; the rates under both rules beside the controls; one
    coordinate's histogram."""
    fig, (ax, ax3, ax2) = subplots(3, 1, width=WIDTH, height=3.0)
    for i, (d, m, cps) in enumerate(_main(result)):
        c = cps[-1]
        ax.semilogx(c.iter_batch_sizes, c.iter_pass_grad, "o-", color=f"C{i}", label=f"{d} / {m}")
    for src, ls in zip(SOURCES, (":", "-.", "--", (0, (5, 1)), "-")):
        ax.axhline(controls.rates["top_k"][src], color="gray", lw=1, ls=ls, label=LABELS[src])
    ax.set(xlabel="test batch size $B$", ylabel="fraction passing", ylim=(-0.03, 1.03),
           title="end of training, fixed tail;\ngray: control samples, same $n$")
    _ticks(ax, result.checkpoints[0].iter_batch_sizes)
    _legend_below(ax, ncol=2)
    plot_controls(ax3, controls, _ours(result, {"our gradients": "iter", "our noise": "iter_noise"}),
                  f"iteration-wise test, n = {controls.n:,} minibatches")
    c = result.checkpoints[-1]
    v = c.arrays["iter_coord0"]
    ax2.hist(v, bins=50, density=True, alpha=0.6, label="one coordinate")
    grid = np.linspace(v.min(), v.max(), 200)
    ax2.plot(grid, stats.norm.pdf(grid, v.mean(), v.std()), "k-", label="Gaussian, same mean and std")
    ax2.set(xlabel=r"$g_i$ over minibatches", ylabel="density",
            title=f"{c.dataset} / {c.model}, end of training:\nexcess kurtosis {stats.kurtosis(v):.2f}")
    _legend_below(ax2)
    return fig


def plot_spectra(result, spec_controls):
    """Figure 3: end-of-training spectra with the resolved range k <= n/10; s against the fitted range; d_ks / d_c of
    every (setting, stage) spectrum beside the control spectra; s against the training batch size (sweep)."""
    sweep = [c for c in result.checkpoints if c.spectrum and c.batch_size != result.settings[0][2]]
    n_bars = sum(c.spectrum is not None for _, _, cps in _main(result) for c in cps) + len(spec_controls.fits)
    heights = [1.0, 1.0, max(1.0, 0.1 * n_bars)] + ([1.0] if sweep else [])
    fig, axes = subplots(len(heights), 1, width=WIDTH, height=3.0, gridspec_kw={"height_ratios": heights})
    fig.set_figheight(3.0 * sum(heights))
    ax, ax2, ax3 = axes[:3]
    sp = None
    for i, (d, m, cps) in enumerate(_main(result)):
        c = [c for c in cps if c.spectrum][-1]
        ev, sp = c.arrays["eigenvalues"], c.spectrum
        k = np.arange(1, len(ev) + 1)
        ax.loglog(k[ev > 0], ev[ev > 0], "-", color=f"C{i}", lw=1, label=f"{d} / {m}: $s$ = {sp.s:.2f}")
        ax2.semilogx(sp.ks, sp.s_by_k, "o-", color=f"C{i}", ms=4, label=f"{d} / {m}")
    for j, (name, f) in enumerate(spec_controls.fits.items()):
        ax2.semilogx(f.ks, f.s_by_k, "s--", color="gray", ms=4, alpha=0.5 + 0.25 * j, label=f"control: {name}")
    ax.axvline(sp.k_max, color="gray", ls=":")
    ax.set(xlabel="rank $k$", ylabel=r"$\lambda_k$",
           title=rf"end of training, $n$ = {sp.n}: fitted on $k \leq$ {sp.k_max} (dotted)")
    ax2.axvspan(sp.k_max, ax2.get_xlim()[1], color="gray", alpha=0.15, label="unresolved ($k > n/10$)")
    ax2.set(xlabel="top $k$ eigenvalues fitted", ylabel="$s$", title="sensitivity of $s$ to the fitted range")
    _ticks(ax2, sp.ks)
    _legend_below(ax, ncol=2)
    _legend_below(ax2, ncol=2)
    labels, ratios, colors = [], [], []
    for i, (d, m, cps) in enumerate(_main(result)):
        last = cps[-1].step
        for c in (c for c in cps if c.spectrum):
            labels.append(f"{d} / {m}, {c.step / max(last, 1):.0%}")
            ratios.append(spectrum_fit_ratio(c.spectrum))
            colors.append(f"C{i}")
    for name, f in spec_controls.fits.items():
        labels.append(f"control: {name}")
        ratios.append(spectrum_fit_ratio(f))
        colors.append("gray")
    ax3.barh(np.arange(len(labels)), ratios, color=colors)
    ax3.axvline(1.0, color="k", lw=1)
    ax3.set_yticks(np.arange(len(labels)), labels)
    ax3.invert_yaxis()
    ax3.set(xlabel=r"$d_{ks} / d_c$ (left of the line: power law)", title="every stage (percent of training)")
    if sweep:
        d, m = sweep[0].dataset, sweep[0].model
        pts = sorted({c.batch_size: c.spectrum.s for c in units(result, "end", sweep=True) + units(result, "end")
                      if c.spectrum and (c.dataset, c.model) == (d, m)}.items())
        axes[3].semilogx(*zip(*pts), "o-", label=f"{d} / {m}, end of training")
        axes[3].set(xlabel="training batch size $B$", ylabel="$s$", title="batch-size sweep")
        _ticks(axes[3], [p[0] for p in pts])
        _legend_below(axes[3])
    return fig


def plot_mechanism_real(result, ax=None):
    """Dimension-wise noise exponent against 2 beta_var - 1 predicted from the per-coordinate variances."""
    if ax is None:
        _, ax = subplots(1, 1, width=WIDTH, height=3.0)
    pred = [2 * c.var_fit.beta - 1 for c in result.checkpoints]
    got = [c.noise_free.beta for c in result.checkpoints]
    ax.plot(pred, got, "o", label="one checkpoint")
    lo, hi = min(pred + got) * 0.9, max(pred + got) * 1.1
    ax.plot([lo, hi], [lo, hi], "k:", lw=0.8, label="prediction")
    ax.set(xlabel=r"predicted $2\beta_{\rm var} - 1$", ylabel=r"fitted noise $\hat\beta$",
           title="mechanism on real gradients")
    ax.legend(loc="upper left")
    return ax


def plot_subspace_stability(result, dataset: str, model: str):
    """sin Theta_k between the top-k eigenspaces of two sample halves vs the Davis-Kahan bound (clipped at 1), and
    the relative eigengaps, at the first and last spectrum stage of one setting."""
    cps = [c for c in result.of(dataset, model, result.settings[0][2]) if c.subspace]
    fig, (ax, ax2) = subplots(2, 1, width=WIDTH, height=3.0)
    for c, color, name in ((cps[0], "C0", "random init"), (cps[-1], "C1", "end of training")):
        st = c.subspace
        ax.loglog(st.ks, st.sin_theta, "o-", color=color, label=rf"{name}: measured $\sin\Theta_k$")
        ax.loglog(st.ks, np.minimum(st.dk_bound, 1.0), "s--", color=color, mfc="none", label=f"{name}: bound")
        ax2.loglog(st.ks, st.rel_gap, "o-", color=color, label=name)
    ax.axhline(1.0, color="k", lw=0.6, ls=":")
    ax.set(xlabel="subspace size $k$", ylabel=r"$\sin\Theta_k$ (bound clipped at 1)",
           title=f"{dataset} / {model}: halves A vs B")
    ax2.set(xlabel="subspace size $k$", ylabel=r"$(\lambda_k - \lambda_{k+1}) / \lambda_k$",
            title="relative eigengap of $C_A$")
    for a in (ax, ax2):
        _ticks(a, cps[0].subspace.ks)
        a.yaxis.set_major_locator(ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        a.yaxis.set_major_formatter(ticker.FormatStrFormatter("%g"))
        _legend_below(a)
    return fig
