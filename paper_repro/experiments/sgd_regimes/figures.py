"""Figures of chapter 2 in the paper's units: phase diagram, lazy weight change and T_c(P), scaling, perceptron."""
from __future__ import annotations

import matplotlib.ticker
import numpy as np

from ...present.plotting import subplots
from .effects import capped_counts


def _mean_by(table, sel, by="T", key="test_error", log=False):
    """Seed mean (geometric when ``log``) and standard error of ``key`` for each value of ``by`` among ``sel``."""
    xs = np.unique(table[by][sel])
    vals = [table[key][sel & (table[by] == x)] for x in xs]
    if log:
        m = np.array([np.exp(np.mean(np.log(v))) for v in vals])
        s = np.array([m_ * np.std(np.log(v)) / np.sqrt(len(v)) for m_, v in zip(m, vals)])
    else:
        m = np.array([np.mean(v) for v in vals])
        s = np.array([np.std(v) / np.sqrt(len(v)) for v in vals])
    return xs, m, s


def _legend(ax, **kw):
    """A legend only when something is labelled (no matplotlib warning in the notebook)."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**kw)


def _edges(v):
    lv = np.log(v)
    d = np.diff(lv)
    return np.exp(np.concatenate([[lv[0] - d[0] / 2], (lv[1:] + lv[:-1]) / 2, [lv[-1] + d[-1] / 2]]))


def plot_phase(table: dict, opt=None, ax=None):
    """Seed-mean test error in the (alpha, T) plane; x diverged, open square capped, stars T_opt(alpha)."""
    if ax is None:
        _, ax = subplots(width=6.5, height=4.2)
    al, Ts = np.unique(table["alpha"]), np.unique(table["T"])
    err = np.full((len(Ts), len(al)), np.nan)
    for i, T in enumerate(Ts):
        for j, a in enumerate(al):
            sel = (table["T"] == T) & (table["alpha"] == a) & (table["status"] == "fitted")
            if sel.any():
                err[i, j] = table["test_error"][sel].mean()
    mesh = ax.pcolormesh(_edges(al), _edges(Ts), err, cmap="viridis_r", shading="flat")
    ax.figure.colorbar(mesh, ax=ax, label="test error")
    for status, kw in (("capped", dict(marker="s", s=160, facecolors="none", edgecolors="k")),
                       ("diverged", dict(marker="x", c="r"))):
        sel = table["status"] == status
        if sel.any():
            ax.scatter(table["alpha"][sel], table["T"][sel], label=status + (" (number: capped seeds of the cell)"
                                                                             if status == "capped" else ""), **kw)
    for (a, T), n in capped_counts(table).items():
        ax.annotate(str(n), (a, T), ha="center", va="center", fontsize=11, color="k")
    if opt is not None:
        used = np.isfinite(opt.T_opt) & ~opt.at_edge
        ax.plot(opt.alpha[used], opt.T_opt[used], "w*", ms=11, mec="k", label=r"$T_\mathrm{opt}(\alpha)$")
        ax.plot(opt.alpha[~used], opt.T_opt[~used], "*", mfc="none", mec="w", ms=11, label="at a grid edge")
        if np.isfinite(opt.k):
            a = opt.alpha[opt.fitted]
            c = np.exp(np.mean(np.log(opt.T_opt[opt.fitted]) - opt.k * np.log(a)))
            ax.plot(a, c * a ** opt.k, "w--", lw=1.5,
                    label=rf"$\alpha^{{k}}$, $k = {opt.k:.2f} \pm {2 * opt.err_k:.2f}$")
    ax.set(xscale="log", yscale="log", xlabel=r"$\alpha$", ylabel=r"$T = \mathrm{d}t / (B h)$")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, facecolor="0.8")
    return ax


def plot_lazy(table: dict, cross, axes=None):
    """Top: ||w-w0||/||w0|| vs T per P (level and T_c marked); middle: test error vs T; bottom: T_c against P."""
    if axes is None:
        _, axes = subplots(3, 1, width=6.8, height=2.7)
    Ps = np.unique(table["P"])
    for i, P in enumerate(Ps):
        sel = (table["P"] == P) & (table["status"] == "fitted")
        if not sel.any():
            continue
        T, m, s = _mean_by(table, sel, key="weight_change", log=True)
        axes[0].errorbar(T, m, s, color=f"C{i}", marker="o", label=f"$P = {int(P)}$")
        T, m, s = _mean_by(table, sel)
        axes[1].errorbar(T, m, s, color=f"C{i}", marker="o")
        div = (table["P"] == P) & (table["status"] == "diverged")
        if div.any():
            axes[0].plot(np.unique(table["T"][div]), np.full(len(np.unique(table["T"][div])), np.nanmax(m * 0 + 1)),
                         "x", color=f"C{i}")
        if np.isfinite(cross.T_c[i]):
            for ax in axes[:2]:
                ax.axvline(cross.T_c[i], color=f"C{i}", ls=":")
    axes[0].axhline(cross.level, color="k", lw=0.8, ls="--", label="kernel-regime exit level")
    axes[0].set(xscale="log", yscale="log", ylabel=r"$\|w - w_0\| / \|w_0\|$")
    _legend(axes[0], loc="upper left", bbox_to_anchor=(1.02, 1), borderaxespad=0)
    axes[1].set(xscale="log", xlabel=r"$T$", ylabel="test error")
    good = np.isfinite(cross.T_c)
    if not good.any():
        axes[2].text(0.5, 0.5, "no P reaches the level inside the grid", ha="center", transform=axes[2].transAxes)
        axes[2].set(xlabel=r"$P$", ylabel=r"$T_c$")
        return axes
    axes[2].errorbar(cross.P[good], cross.T_c[good], cross.T_c[good] * np.nan_to_num(cross.T_c_err[good]), fmt="ko",
                     label=r"$T_c(P)$")
    if good.sum() >= 2:
        c = np.polyfit(np.log(cross.P[good]), np.log(cross.T_c[good]), 1)
        axes[2].plot(cross.P, np.exp(np.polyval(c, np.log(cross.P))), "k--",
                     label=rf"$P^{{-a}}$, $a = {cross.a:.2f} \pm {2 * cross.err_a:.2f}$")
    axes[2].set(xscale="log", yscale="log", xlabel=r"$P$", ylabel=r"$T_c$")
    axes[2].legend(loc="upper left", bbox_to_anchor=(1.02, 1), borderaxespad=0)
    return axes


def plot_scaling(table: dict, fits: dict, axes=None):
    """||w-w0||/||w0|| / P^gamma and t* / P^b against T: the curves of all P collapse where the power laws hold."""
    if axes is None:
        _, axes = subplots(2, 1, width=6.8, height=2.8)
    keys = (("weight_change", r"$\|w - w_0\| / \|w_0\| \;/\; P^{\gamma}$", fits["weights"]),
            ("time", r"$t^* / P^{b}$", fits["time"]))
    for ax, (key, label, fit) in zip(axes, keys):
        for i, P in enumerate(np.unique(table["P"])):
            sel = (table["P"] == P) & (table["status"] == "fitted")
            if sel.any() and np.isfinite(fit.e_P):
                T, m, _ = _mean_by(table, sel, key=key, log=True)
                ax.loglog(T, m / P ** fit.e_P, "o-", color=f"C{i}", label=f"$P = {int(P)}$")
        if np.isfinite(fit.e_T):
            Ts = np.unique(table["T"][table["status"] == "fitted"])
            ax.loglog(Ts, np.exp(fit.log_C) * Ts ** fit.e_T, "k--", label=f"fit: $T^{{{fit.e_T:.2f}}}$")
        ax.set(xlabel=r"$T$", ylabel=label)
        _legend(ax, loc="upper left", bbox_to_anchor=(1.02, 1), borderaxespad=0)
    return axes


def plot_perceptron(table: dict, fits: dict, axes=None):
    """w_par and t* against P at every T: circles, solid lines chi = 0; squares, dashed lines chi > 0."""
    if axes is None:
        _, axes = subplots(2, 1, width=6.8, height=2.8)
    for i, chi in enumerate(np.unique(table["chi"])):
        for j, T in enumerate(np.unique(table["T"])):
            sel = (table["chi"] == chi) & (table["T"] == T) & (table["status"] == "fitted")
            for ax, key in zip(axes, ("w_par", "time")):
                P, m, _ = _mean_by(table, sel, by="P", key=key, log=True)
                ax.loglog(P, m, "o-" if i == 0 else "s--", color=f"C{j}", alpha=0.85,
                          label=rf"$\chi = {chi:g}$, $T = 2^{{{np.log2(T):.0f}}}$" if key == "w_par" else None)
    axes[0].set(xlabel=r"$P$", ylabel=r"$w_\parallel$")
    axes[1].set(xlabel=r"$P$", ylabel=r"$t^*$")
    for ax in axes[:2]:
        _int_ticks(ax, np.unique(table["P"]))
    _legend(axes[0], loc="upper left", bbox_to_anchor=(1.02, 1), borderaxespad=0)
    return axes


def _int_ticks(ax, values):
    """Log axis ticked at ``values`` with integer labels (no overlapping minor labels)."""
    ax.set_xticks(values, [f"{v:.0f}" for v in values])
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())


def plot_local(local: dict, rates: dict, axes):
    """Local P-slopes of w_par, w_par/||w_perp|| and ||w_perp|| (one panel each) per chi, with the predictions
    (dotted) and, in the legend, the verdict and the share of the rule's verdicts on its controls."""
    label = {"w_par": r"$w_\parallel$", "ratio": r"$w_\parallel/\|w_\perp\|$", "w_perp": r"$\|w_\perp\|$"}
    for ax, key in zip(axes, label):
        ax.set_xscale("log")
        for i, ((chi, _), ex) in enumerate((ck, e) for ck, e in local.items() if ck[1] == key):
            P = np.array(ex.pairs, float)
            pos, neg = rates.get((chi, key), (np.nan, np.nan))
            ax.errorbar(np.sqrt(P.prod(1)) * (1 + 0.04 * i), ex.slope, 2 * ex.err, fmt="o-" if i == 0 else "s--",
                        color=f"C{i}", capsize=3,
                        label=rf"$\chi = {chi:g}$: {ex.verdict} (controls {pos:.0%} / {neg:.0%})")
            ax.axhline(ex.target, color=f"C{i}", ls=":", lw=1.2)
            _int_ticks(ax, np.unique(P))
        ax.set(xlabel=r"$P$ (ticks: the grid; points: between neighbours)", ylabel="local slope of\n" + label[key])
        _legend(ax, loc="upper left", bbox_to_anchor=(1.02, 1), borderaxespad=0)
    return axes


def plot_run(table: dict, i: int, axes=None):
    """Training curves of run i: alpha x training hinge loss and fraction of unfitted points against SGD steps."""
    if axes is None:
        _, axes = subplots(2, 1, width=6.8, height=2.4)
    steps, loss, unfit = table["curves"][i]
    steps = np.asarray(steps, float)
    for ax, v, c, lab in ((axes[0], loss, "C0-o", r"$\alpha \times$ training loss"),
                          (axes[1], unfit, "C1-o", "fraction unfitted")):
        v = np.array([np.nan if u is None else u for u in v], float)
        good = np.isfinite(v) & (v > 0)
        if good.any():
            ax.semilogy(steps[good], v[good], c, ms=3)
        else:
            ax.text(0.5, 0.5, "no finite value (diverged)", ha="center", transform=ax.transAxes)
        ax.set(xlabel="SGD step", ylabel=lab)
    return axes
