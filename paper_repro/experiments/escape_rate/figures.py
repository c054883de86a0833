"""Figures and widget frames of the escape-rate chapter (Mori et al. 2022); legends in the paper's symbols."""
from __future__ import annotations

import numpy as np

from ...present.plotting import stacked, subplots
from . import linear_sgd as ls
from .run import StationaryResult

STYLE = {"sgd/gaussian": ("C0", "o", "SGD, Gaussian $x$"), "sgd/sparse": ("C2", "^", r"SGD, $x\in\{0,\pm\sqrt{2}\}$"),
         "sgd/rademacher": ("C3", "v", r"SGD, Rademacher $x=\pm1$"), "decoupled/gaussian": ("C1", "s", "decoupled SDE"),
         "langevin/gaussian": ("C7", "x", "Langevin")}


def log_ticks(ax, values, axis: str = "x") -> None:
    """Major ticks of a log axis at ``values``, labelled plainly ("1.5", not "1.5x10^0"); no minor labels."""
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

    target = ax.xaxis if axis == "x" else ax.yaxis
    vals = sorted(set(float(v) for v in values))
    target.set_major_locator(FixedLocator(vals))
    target.set_ticklabels([f"{v:g}" for v in vals])
    target.set_minor_locator(NullLocator())
    target.set_minor_formatter(NullFormatter())


def fig_decoupling(dec):
    """Fig. 1: exact vs decoupled eigenvalue histograms at each epoch, two panels per row."""
    fig, axes = stacked(len(dec), ncols=2 if len(dec) > 1 else 1, width=6.5)
    for s, ax in zip(dec, axes):
        s.plot(ax)
        ax.get_legend().remove()
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=2, fontsize=11)
    return fig


def fig_noise(noise):
    """Fig. 2: per run, L and c N against epoch, and N against L with the slope-1 line."""
    fig, axes = subplots(len(noise), 2, width=3.25, squeeze=False)
    for r, row in zip(noise, axes):
        r.plot(row)
        for ax in row:
            ax.legend(fontsize=11, loc="upper center", bbox_to_anchor=(0.5, -0.3), frameon=False)
    return fig


def fig_noise_variance(n: int = 100_000, seed: int = 0):
    """B Sigma(theta) of SGD for three input laws vs the decoupled 2 L(theta) h (d = 1)."""
    fig, ax = subplots(1, 1)
    grid = np.linspace(-3, 3, 61)
    for inp in ("gaussian", "sparse", "rademacher"):
        p = ls.make_problem(n, 1, inp, seed)
        ax.plot(grid, [float(p.noise_variance([t])[0, 0]) for t in grid], color=STYLE[f"sgd/{inp}"][0],
                label="exact, " + STYLE[f"sgd/{inp}"][2].split(", ")[1])
    p = ls.make_problem(n, 1, "gaussian", seed)
    ax.plot(grid, [float(p.decoupled_variance(np.array([t]))[0, 0]) for t in grid], "k--",
            label=r"decoupled $2L(\theta)h^*$")
    ax.plot(grid, 1 + 2 * grid ** 2, ":", color="C0", lw=3, alpha=0.5, label=r"$1+2\theta^2$")
    ax.set(xlabel=r"$\theta$", ylabel=r"$B\,\Sigma(\theta)$", yscale="log", title="SGD noise in linear regression")
    ax.legend(fontsize=11, loc="upper left", bbox_to_anchor=(1.02, 1), frameon=False)
    return fig


def fig_phi_vs_batch(res: StationaryResult):
    """Fig. 3a: fitted phi against B at each fixed eta, with 1 + B/(eta h*) and the discrete chain's prediction."""
    fig, ax = subplots(1, 1)
    for i, lr in enumerate(dict.fromkeys(r["lr"] for r in res.rows)):
        rows = [r for r in res.rows if r["lr"] == lr]
        b = np.array([r["batch_size"] for r in rows])
        ax.errorbar(b, [r["phi_fit"] for r in rows], [2 * r["phi_se"] for r in rows], fmt="o", color=f"C{i}",
                    label=rf"fit, $\eta={lr}$")
        ax.plot(b, [r["phi_theory"] for r in rows], "--", color=f"C{i}")
        ax.plot(b, [r["phi_chain"] for r in rows], ":d", color=f"C{i}", lw=2, mfc="none")
        ax.plot(b, [r["phi_kesten"] if not np.isfinite(r["phi_chain"]) else np.nan for r in rows], "x", ms=9,
                color=f"C{i}")
    ax.plot([], [], "k--", label=r"$1+B/(\eta h^*)$ (paper, Eq. 18)")
    ax.plot([], [], "k:d", lw=2, mfc="none", label="discrete chain (derived here)")
    ax.plot([], [], "kx", ms=9, label="Kesten tail, infinite variance (derived here)")
    ax.set(xscale="log", yscale="log", xlabel="batch size $B$", ylabel=r"$\phi$")
    log_ticks(ax, b)
    ax.legend(fontsize=11, ncols=2, loc="upper center", bbox_to_anchor=(0.5, -0.18), frameon=False)
    return fig


def fig_stationary_tail(res: StationaryResult):
    """Density of L/L* - 1 at one setting for every variant, with the power law L^-phi and the Arrhenius law."""
    fig, ax = subplots(1, 1)
    lr, bs = res.show
    for key, losses in res.shown.items():
        col, mk, label = STYLE[key]
        r = losses / res.loss_star[key.split("/")[1]]
        bins = np.logspace(np.log10(max(r.min() - 1, 1e-6)), np.log10(r.max() - 1), 40) + 1
        dens, edges = np.histogram(r, bins=bins, density=True)
        mid = np.sqrt(edges[1:] * edges[:-1])
        ax.loglog(mid[dens > 0] - 1, dens[dens > 0], mk, ms=3, color=col, label=label)
    phi = ls.phi_theory(lr, bs, res.h)
    x = np.logspace(-4, np.log10(max(1.0, ax.get_xlim()[1])), 200)
    ax.loglog(x, ls.loss_density(1 + x, 1.0, 1, phi), "k-", label=rf"$L^{{-\phi}}$, $\phi={phi:.2f}$")
    temp = lr * res.h / bs  # Arrhenius temperature eta h* L* / B in units of L*
    ax.loglog(x, np.exp(-x / temp) * x ** -0.5 / np.sqrt(np.pi * temp), "k--", label=r"Arrhenius $e^{-\Delta L/T}$")
    ax.set(xlabel=r"$L/L^*-1$", ylabel="density", ylim=(1e-6, 1e4), title=rf"$\eta={lr}$, $B={bs}$")
    ax.legend(fontsize=11, ncols=2, loc="upper center", bbox_to_anchor=(0.5, -0.3), frameon=False)
    return fig


def render_stationary(lr: float = 0.5, batch_size: int = 1, chains: int = 1000, seed: int = 0):
    """Widget frame: run Gaussian-input SGD chains (seconds) and compare the L histogram with L^-phi."""
    p = ls.make_problem(20_000, 1, "gaussian", seed)
    s = ls.stationary_samples(p, lr, batch_size, chains, 200, 20, 10, "sgd", seed)
    fig, ax = subplots(1, 1)
    r = s.losses.ravel() / p.loss_star - 1
    ax.hist(np.log10(r[r > 0]), bins=50, density=True, alpha=0.6, label="SGD chains")
    phi, fit = ls.phi_theory(lr, batch_size, p.h), ls.fit_phi(s.losses, p.loss_star, 1)
    x = np.logspace(np.log10(max(r[r > 0].min(), 1e-5)), np.log10(r.max()), 200)
    for ph, sty, lab in ((phi, "k-", "theory"), (fit, "r--", "fitted")):
        ax.plot(np.log10(x), ls.loss_density(1 + x, 1.0, 1, ph) * x * np.log(10), sty, label=rf"{lab} $\phi={ph:.2f}$")
    ax.set(xlabel=r"$\log_{10}(L/L^*-1)$", ylabel="density", yscale="log", ylim=(1e-4, None),
           title=rf"$\eta={lr}$, $B={batch_size}$")
    ax.legend(fontsize=11, loc="lower left")
    return fig
