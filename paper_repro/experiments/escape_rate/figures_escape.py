"""Figures of the first-passage experiments (Fig. 3b, Eq. 19): simulated means with the exact finite-c curves of
the decoupled SDE (the paper's model, positive control) and of Langevin dynamics (the alternative), Eq. (17)'s
asymptote, local slopes, and the critical dimension."""
from __future__ import annotations

import numpy as np

from ...present.plotting import stacked, subplots
from . import mfpt
from .figures import STYLE, log_ticks
from .run import CriticalResult, EscapeResult

QUAD = {"decoupled": ("k", "-", "decoupled SDE, exact"), "langevin": ("0.45", "--", "Langevin, exact"),
        "gaussian": ("C2", ":", "Gaussian-covariance SDE, exact")}


def _panels(n: int, height: float = 2.9):
    """n data panels two per row, plus a last panel for the legend (legend outside the data)."""
    fig, axes = stacked(n + 1, ncols=2, height=height, width=6.5)  # tight bbox stays inside the page width
    axes[-1].axis("off")
    return fig, axes[:-1], axes[-1]


def _legend(fig, lax, axes) -> None:
    """One legend for all panels, in its own panel."""
    seen = {}
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(lab, h)
    lax.legend(list(seen.values()), list(seen), loc="center", fontsize=11, frameon=False)


def fig_escape(res: EscapeResult):
    """Mean first-passage time against c per d: SGD (Gaussian x), decoupled-SDE and Langevin simulations (steps of
    eta), Rademacher SGD at its d, with the exact curves and Eq. (17)'s asymptote; the fit window shaded."""
    dims = sorted({int(k.split("/")[2]) for k in res.runs})
    fig, axes, lax = _panels(len(dims))
    fine = np.geomspace(min(e.c.min() for e in res.runs.values()), max(e.c.max() for e in res.runs.values()), 40)
    for ax, d in zip(axes, dims):
        key = f"sgd/gaussian/{d}"
        eps, h = res.eps[key], res.h[key]
        for model, (col, ls_, lab) in QUAD.items():
            ax.plot(fine, mfpt.mfpt(fine, eps, d, model) / h, ls_, color=col, lw=1.3, label=lab)
        w = res.window(key)
        if w.any():
            c_w = res.runs[key].c[w]
            ax.axvspan(c_w.min(), c_w.max(), color="C0", alpha=0.08, label="fit window (SGD)")
            top = mfpt.mfpt([c_w.max()], eps, d)[0] / h
            ax.plot(c_w, top * (c_w / c_w.max()) ** res.theory[key], "-.", color="C4", lw=1.3,
                    label="Eq. (17) slope")
        for k in (k for k in res.runs if k.endswith(f"/{d}")):
            e, (col, mk, lab) = res.runs[k], STYLE["/".join(k.split("/")[:2])]
            ok = res.window(k)
            ax.plot(e.c[ok], e.mean[ok], mk, color=col, label=lab + " (simulated)")
            ax.plot(e.c[~ok], e.mean[~ok], mk, color=col, mfc="none")
        ax.set(xscale="log", yscale="log", xlabel=r"$c = L(\theta^s)/L(\theta^*)$", ylabel=r"mean $t_p$",
               title=f"$d = n = {d}$")
        log_ticks(ax, res.runs[key].c)
        ax.tick_params(axis="x", labelrotation=45)
    axes[0].plot([], [], "o", mfc="none", color="0.3", label="open: > 10% of runs censored")
    _legend(fig, lax, axes)
    return fig


def fig_local_slopes(res: EscapeResult):
    """Local slopes d log t_p / d log c of the simulations per d, with the exact local slopes of the decoupled SDE
    and Langevin dynamics and Eq. (17)'s asymptote."""
    dims = sorted({int(k.split("/")[2]) for k in res.runs})
    fig, axes, lax = _panels(len(dims), height=2.7)
    for ax, d in zip(axes, dims):
        key = f"sgd/gaussian/{d}"
        e = res.runs[key]
        fine = np.geomspace(e.c.min(), e.c.max(), 30)
        mid = np.sqrt(fine[1:] * fine[:-1])
        for model in ("decoupled", "langevin"):
            col, ls_, lab = QUAD[model]
            ax.plot(mid, mfpt.local_slopes(fine, res.eps[key], d, model), ls_, color=col, label=lab)
        ax.axhline(res.theory[key], color="C4", ls="-.", lw=1.2, label=r"Eq. (17): $B/(\eta h^*)+1-n/2$")
        for k in (k for k in res.runs if k.endswith(f"/{d}")):
            col, mk, lab = STYLE["/".join(k.split("/")[:2])]
            ek = res.runs[k]
            ok = res.window(k)[1:] & res.window(k)[:-1]
            ax.plot(np.sqrt(ek.c[1:] * ek.c[:-1])[ok], res.local_slopes(k)[ok], mk, color=col,
                    label=lab + " (simulated)")
        ax.set(xscale="log", xlabel="$c$", ylabel="local slope", title=f"$d = n = {d}$")
        log_ticks(ax, e.c)
        ax.tick_params(axis="x", labelrotation=45)
    _legend(fig, lax, axes)
    return fig


def fig_critical(res: CriticalResult):
    """Eq. (19): (left) mean first-passage time of the decoupled SDE at d below and above n_c, simulated (markers)
    and exact (lines); (right) drift of log L at L = 100 L* against d, with eps (d - n_c) and the Langevin control."""
    fig, (a, b) = subplots(1, 2, width=3.25, height=3.3)
    for i, d in enumerate(res.times):
        a.plot(res.c, res.quad[d], "-", color=f"C{i}", lw=1.2)
        a.plot(res.c, res.watched[d], ":", color=f"C{i}", lw=1.2)
        a.plot(res.c, res.mean(d), "o", color=f"C{i}", label=f"$d = {d}$")
    a.set(xscale="log", yscale="log", xlabel="$c$", ylabel=r"mean $t_p$ ($1/h^*$)",
          title="markers: simulation")
    log_ticks(a, res.c)
    a.legend(fontsize=11, loc="upper left")
    dims = np.array(sorted(res.times))
    for model, mk, col, lab in (("decoupled", "o", "k", "decoupled SDE"), ("langevin", "x", "0.45", "Langevin")):
        m = np.array([res.drift[(model, d)] for d in dims])
        b.errorbar(dims, m[:, 0], 2 * m[:, 1], fmt=mk, color=col, label=lab)
    grid = np.linspace(dims.min(), dims.max(), 50)
    b.plot(grid, res.eps * (grid - res.n_c), "k-", lw=1, label=r"$\frac{\eta h^*}{B}(d-n_c)$")
    b.axhline(0, color="0.6", lw=0.8)
    b.axvline(res.n_c, color="C3", ls="--", lw=1.2, label=f"$n_c = {res.n_c:g}$")
    b.set(xlabel="$d = n$", ylabel=r"$d\log L/dt$ at $L = 100L^*$", title="runaway above $n_c$")
    b.legend(fontsize=11, ncols=2, loc="upper center", bbox_to_anchor=(0.5, -0.22), frameon=False)
    return fig


def render_escape(res: EscapeResult, d: int = 1, c: float = 2.0):
    """Widget frame: survival function of the first-passage time at threshold c for dimension d."""
    fig, ax = subplots(1, 1)
    for key, e in res.runs.items():
        hit = np.flatnonzero(np.isclose(e.c, c))
        if key.endswith(f"/{d}") and len(hit):
            t = np.sort(e.times[hit[0]])
            col, _, lab = STYLE["/".join(key.split("/")[:2])]
            ax.semilogy(np.minimum(t, e.max_time), 1 - np.arange(len(t)) / len(t), drawstyle="steps-post",
                        color=col, label=lab)
    ax.set(xlabel="first-passage time $t$", ylabel=r"$P(t_p > t)$", title=f"$d = {d}$, $c = {c}$")
    ax.legend(fontsize=11, loc="upper right")
    return fig
