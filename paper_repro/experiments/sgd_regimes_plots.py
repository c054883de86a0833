"""Figures of the SGD-regimes chapter: phase diagram, lazy-regime T_c(P), scaling collapse, perceptron."""
from __future__ import annotations

import numpy as np

from ..plotting import subplots

MARK = {"capped": dict(marker="s", mfc="none"), "diverged": dict(marker="x")}


def _mean_by(table, sel, by="T", key="test_error"):
    """Mean and standard error of ``key`` over seeds for each value of ``by`` among ``sel`` runs."""
    xs = np.unique(table[by][sel])
    m = np.array([np.nanmean(table[key][sel & (table[by] == x)]) for x in xs])
    s = np.array([np.nanstd(table[key][sel & (table[by] == x)]) / np.sqrt(max((sel & (table[by] == x)).sum(), 1))
                  for x in xs])
    return xs, m, s


def plot_phase(table: dict, opt=None, T_c: float | None = None, ax=None):
    """Heat map of test error in the (alpha, T) plane; x = diverged, open square = capped, line = T_opt ∝ alpha^k."""
    if ax is None:
        _, ax = subplots(width=5.2, height=3.8)
    al, Ts = np.unique(table["alpha"]), np.unique(table["T"])
    err = np.full((len(Ts), len(al)), np.nan)
    for i, T in enumerate(Ts):
        for j, a in enumerate(al):
            sel = (table["T"] == T) & (table["alpha"] == a) & (table["status"] == "fitted")
            if sel.any():
                err[i, j] = np.nanmean(table["test_error"][sel])
    edges = lambda v: np.exp(np.concatenate([[np.log(v[0]) - 0.5 * np.log(v[1] / v[0])],  # noqa: E731
                                             (np.log(v[1:]) + np.log(v[:-1])) / 2,
                                             [np.log(v[-1]) + 0.5 * np.log(v[-1] / v[-2])]]))
    mesh = ax.pcolormesh(edges(al), edges(Ts), err, cmap="viridis_r", shading="flat")
    ax.figure.colorbar(mesh, ax=ax, label="test error")
    capped, diverged = table["status"] == "capped", table["status"] == "diverged"
    ax.scatter(table["alpha"][capped], table["T"][capped], marker="s", facecolors="none", edgecolors="k",
               label="capped")
    ax.scatter(table["alpha"][diverged], table["T"][diverged], marker="x", c="r", label="diverged")
    if opt is not None:
        ax.plot(opt.alpha, opt.T_opt, "w*", ms=10, label="T_opt(alpha)")
        if np.isfinite(opt.k):
            a = opt.alpha[opt.alpha <= 1]
            i = np.nanargmin(np.abs(np.log(a)))
            ax.plot(a, opt.T_opt[opt.alpha <= 1][i] * (a / a[i]) ** (2 / 3), "w--", label="slope 2/3 (paper)")
    if T_c is not None and np.isfinite(T_c):
        ax.axhline(T_c, color="orange", ls=":", label="lazy T_c(P)")
    ax.set(xscale="log", yscale="log", xlabel="alpha (initialisation scale)", ylabel="T = lr / B")
    ax.legend(fontsize=7, loc="lower right", facecolor="0.75")
    return ax


def plot_lazy_error(table: dict, cross, axes=None):
    """Left: test error vs T per P (T_c(P) dotted); right: T_c against P with its power-law fit."""
    if axes is None:
        _, axes = subplots(1, 2, width=4.4)
    colors = dict(zip(np.unique(table["P"]), ["C0", "C1", "C2", "C3", "C4", "C5", "C6"]))
    for P, c in colors.items():
        sel = (table["P"] == P) & (table["status"] == "fitted")
        T, m, s = _mean_by(table, sel)
        axes[0].errorbar(T, m, s, color=c, marker="o", label=f"P={int(P)}")
        for status, style in MARK.items():
            bad = (table["P"] == P) & (table["status"] == status)
            if bad.any():
                axes[0].plot(table["T"][bad], np.full(bad.sum(), np.nanmax(table["test_error"])), ls="none",
                             color=c, **style)
        j = list(cross.P).index(P)
        if np.isfinite(cross.T_c[j]):
            axes[0].axvline(cross.T_c[j], color=c, ls=":")
    axes[0].set(xscale="log", xlabel="T", ylabel="test error", title="lazy regime")
    axes[0].legend(fontsize=7)
    good = np.isfinite(cross.T_c)
    axes[1].loglog(cross.P[good], cross.T_c[good], "ko", label="T_c(P)")
    if good.sum() >= 2:
        fitline = np.exp(np.polyval(np.polyfit(np.log(cross.P[good]), np.log(cross.T_c[good]), 1), np.log(cross.P)))
        axes[1].loglog(cross.P, fitline, "k--", label=f"P^-a, a = {cross.a:.2f} ± {cross.err_a:.2f}")
    axes[1].set(xlabel="P", ylabel="T_c")
    axes[1].legend(fontsize=7)
    return axes


def plot_scaling(table: dict, fits: dict, T_min: float, axes=None):
    """||w-w0||/||w0|| and t* against T per P (top) and their collapse with the fitted exponents (bottom)."""
    if axes is None:
        _, axes = subplots(2, 2, width=4.2, height=3.0)
    keys = (("weight_change", "||w - w0|| / ||w0||", fits["weights"]), ("time", "t* = steps * lr", fits["time"]))
    for col, (key, label, fit) in enumerate(keys):
        for i, P in enumerate(np.unique(table["P"])):
            sel = (table["P"] == P) & (table["status"] == "fitted")
            T, m, _ = _mean_by(table, sel, key=key)
            axes[0, col].loglog(T, m, "o-", color=f"C{i}", label=f"P={int(P)}")
            if np.isfinite(fit.e_P):
                axes[1, col].loglog(T, m / P ** fit.e_P, "o-", color=f"C{i}")
        Ts = np.unique(table["T"][table["T"] >= T_min])
        if np.isfinite(fit.e_T) and len(Ts):
            axes[1, col].loglog(Ts, np.exp(fit.log_C) * Ts ** fit.e_T, "k--",
                                label=f"T^{fit.e_T:.2f}, P-exponent {fit.e_P:.2f}")
        axes[0, col].set(xlabel="T", ylabel=label)
        axes[1, col].set(xlabel="T", ylabel=f"{label.split(' =')[0]} / P^exp")
        axes[1, col].legend(fontsize=7)
    axes[0, 0].legend(fontsize=7)
    return axes


def plot_perceptron(table: dict, fits: dict, predictions: dict, axes=None):
    """||w|| and t* against P for each chi and T; dashed: scaling-argument slopes gamma and b."""
    if axes is None:
        _, axes = subplots(1, 3, width=3.8)
    for i, chi in enumerate(np.unique(table["chi"])):
        for j, T in enumerate(np.unique(table["T"])):
            sel = (table["chi"] == chi) & (table["T"] == T) & (table["status"] == "fitted")
            for ax, key in zip(axes, ("w_norm", "time", "test_error")):
                P, m, _ = _mean_by(table, sel, by="P", key=key)
                ax.loglog(P, m, "o-" if i == 0 else "s--", color=f"C{j}", alpha=0.8,
                          label=f"chi={chi:g}, T={T:g}" if key == "w_norm" else None)
        Ps = np.unique(table["P"])
        pred = predictions[chi]
        for ax, key, e in ((axes[0], "w_norm", pred["gamma"]), (axes[1], "time", pred["b"])):
            sel = (table["chi"] == chi) & (table["status"] == "fitted")
            ref = np.nanmean(table[key][sel & (table["P"] == Ps[0])])
            ax.loglog(Ps, ref * (Ps / Ps[0]) ** e, "k:" if i == 0 else "k-.", lw=1,
                      label=f"P^{e:.2f} (pred., chi={chi:g})")
    for ax, lab in zip(axes, ("||w||", "t*", "test error")):
        ax.set(xlabel="P", ylabel=lab)
    for ax in axes[:2]:
        ax.legend(fontsize=6)
    return axes


def plot_run(table: dict, i: int, axes=None):
    """Training curves of run i: training hinge loss and fraction of unfitted points against SGD steps."""
    if axes is None:
        _, axes = subplots(1, 2, width=3.6, height=2.8)
    steps, loss, unfit = table["curves"][i]
    steps = np.asarray(steps, float)
    loss = np.array([np.nan if v is None else v for v in loss], float)
    unfit = np.array([np.nan if v is None else v for v in unfit], float)
    for ax, v, c in ((axes[0], loss, "C0-o"), (axes[1], np.where(unfit > 0, unfit, np.nan), "C1-o")):
        good = np.isfinite(v) & (v > 0)
        if good.any():
            ax.semilogy(steps[good], v[good], c, ms=3)
        else:
            ax.text(0.5, 0.5, "no finite value (diverged)", ha="center", transform=ax.transAxes)
    axes[0].set(xlabel="SGD step", ylabel="training hinge loss")
    axes[1].set(xlabel="SGD step", ylabel="fraction unfitted")
    title = (f"alpha={table['alpha'][i]:g}, T={table['T'][i]:g}, P={int(table['P'][i])}: {table['status'][i]}, "
             f"test err {table['test_error'][i]:.3f}")
    axes[0].figure.suptitle(title, fontsize=9)
    return axes
