"""Chapter 5 figures: mechanisms a-d (each with its rule's controls) and the explorer's panels."""
from __future__ import annotations

import matplotlib.ticker
import numpy as np

from ...present.plotting import subplots
from ..escape_rate.linear_sgd import loss_density
from . import analysis as an

LOSS_MARK = {"mse": "o", "ce": "s"}


def _legend_below(ax, ncol: int = 4):
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.28), ncol=ncol, frameon=False, fontsize=11)


def scale_mixture(end: list[dict], ctrl):
    """Pooled alpha-hat against the scale-mixture alpha-hat per run (a), and the rule's controls."""
    fig, (ax, bx) = subplots(1, 2, width=3.5, height=3.8, gridspec_kw={"width_ratios": [1.3, 1]})
    for i, net in enumerate(sorted({r["net"] for r in an.ok(end)})):
        for loss, mk in LOSS_MARK.items():
            sel = an.ok(end, net=net, loss=loss)
            ax.scatter([r["alpha_pooled"] for r in sel], [r["mix_robust"] for r in sel], marker=mk, color=f"C{i}",
                       label=f"{net}, {loss}", alpha=0.7)
            ax.scatter([r["alpha_pooled"] for r in sel], [r["mix_diag"] for r in sel], marker=mk, facecolors="none",
                       edgecolors=f"C{i}", alpha=0.5)
    ax.scatter([], [], marker="o", color="gray", label="robust scales")
    ax.scatter([], [], marker="o", facecolors="none", edgecolors="gray", label="variances")
    lim = [0.3, 2.3]
    ax.plot(lim, lim, "k--", lw=1, label="equal")
    ax.set(xlim=lim, ylim=lim, xlabel="pooled α̂ (measured noise)", ylabel="α̂ of Gaussian, same scales")
    _legend_below(ax, 2)
    ctrl.plot(bx)
    bx.set_title("rule's controls", fontsize=11)
    bx.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=1, frameon=False, fontsize=11)
    return fig


def coordinate_tails(end: list[dict], gauss: np.ndarray, ctrl):
    """Per-coordinate alpha-hat of the top-variance coordinates against a Gaussian control of the same size (b)."""
    fig, (ax, bx) = subplots(1, 2, width=3.5, height=3.8, gridspec_kw={"width_ratios": [1.3, 1]})
    bins = np.linspace(0.5, 4, 36)
    ax.hist(np.clip(gauss, 0.5, 4), bins, density=True, histtype="step", color="k", lw=2, label="Gaussian control")
    for i, net in enumerate(sorted({r["net"] for r in an.ok(end)})):
        vals = [a for r in an.ok(end, net=net) for a in (r.get("coord_alphas") or []) if a is not None
                and np.isfinite(a)]
        ax.hist(np.clip(vals, 0.5, 4), bins, density=True, alpha=0.45, color=f"C{i}", label=net)
    ax.set(xlabel="α̂ of one coordinate across minibatches", ylabel="density")
    _legend_below(ax, 2)
    ctrl.plot(bx)
    bx.set_title("rule's controls", fontsize=11)
    bx.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=1, frameon=False, fontsize=11)
    return fig


def iterate_tails(lin: list[dict], end: list[dict]):
    """Linear model: stationary loss density with Mori's phi (dashed) and the exact-chain phi (dotted) (c); nets:
    iterate tail index against 2 phi - 1."""
    fig, (ax, bx) = subplots(1, 2, width=3.5, height=3.8)
    for i, r in enumerate(lin):
        ex = r["losses"].reshape(-1) / r["loss_star"] - 1
        ex = ex[ex > 0]
        edges = np.geomspace(np.quantile(ex, 0.01), ex.max(), 30)
        dens, _ = np.histogram(ex, edges, density=True)
        mid = np.sqrt(edges[1:] * edges[:-1])
        ax.loglog(mid, dens, "o", ms=4, color=f"C{i}", label=f"η={r['lr']:g}, B={r['B']}")
        pred = loss_density(r["loss_star"] * (1 + mid), r["loss_star"], 1, r["phi_theory"]) * r["loss_star"]
        ax.loglog(mid, pred, "--", color=f"C{i}")
        if np.isfinite(r["phi_chain"]) and r["phi_chain"] > 0.5:
            chain = loss_density(r["loss_star"] * (1 + mid), r["loss_star"], 1, r["phi_chain"]) * r["loss_star"]
            ax.loglog(mid, chain, ":", color=f"C{i}", lw=2)
    ax.set(xlabel="L / L* − 1 (stationary iterates)", ylabel="density")
    _legend_below(ax, 2)
    pts = [(r["iter_pred"], r["iter_hill"], r["net"]) for r in an.ok(end) if np.isfinite(r.get("iter_hill", np.nan))
           and np.isfinite(r.get("iter_pred", np.nan))]
    for i, net in enumerate(sorted({p[2] for p in pts})):
        bx.scatter([p[0] for p in pts if p[2] == net], [p[1] for p in pts if p[2] == net], color=f"C{i + 2}",
                   label=net, alpha=0.7)
    bx.set_xscale("log")
    bx.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    bx.set(xlabel="predicted iterate tail 2φ − 1", ylabel="Hill index of iterates")
    if pts:
        _legend_below(bx, 2)
    return fig


def temperature(end: list[dict], temp: dict, ctrl, keys=("alpha_pooled", "test_error")):
    """Two quantities against T, one line per B (d); t statistics of every quantity; the rule's controls."""
    nets = sorted(temp)
    fig, axes = subplots(2, 2, width=3.5, height=3.3)
    for ax, key in zip(axes[0], keys):
        for i, net in enumerate(nets):
            for j, b in enumerate(sorted({r["B"] for r in an.ok(end, net=net)})):
                ts = sorted({r["T"] for r in an.ok(end, net=net, B=b)})
                ms = [an.mean_se([r[key] for r in an.ok(end, net=net, B=b, T=t)]) for t in ts]
                ax.errorbar(ts, [m for m, _ in ms], [2 * np.nan_to_num(s) for _, s in ms], color=f"C{i}",
                            ls="-" if j == 0 else ":", marker="o", label=f"{net}, B={b}")
        ax.set(xscale="log", xlabel="T = η/B", ylabel=an.QUANTITIES[key][0])
        ts = sorted({r["T"] for r in an.ok(end)})
        ax.set_xticks(ts, [f"{t:g}" for t in ts], rotation=30)
        ax.minorticks_off()
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper center", ncol=4, fontsize=11, frameon=False)
    ax = axes[1][0]
    from .synth import KEYS_D
    w = 0.8 / max(len(nets), 1)
    for i, net in enumerate(nets):
        y = np.arange(len(KEYS_D))
        ax.barh(y + i * w, [np.clip(temp[net][k]["t_T"], -20, 20) for k in KEYS_D], w / 2, color=f"C{i}",
                label=f"{net}: log T")
        ax.barh(y + i * w + w / 2, [np.clip(temp[net][k]["t_B"], -20, 20) for k in KEYS_D], w / 2,
                color=f"C{i}", alpha=0.4, label=f"{net}: log B")
    ax.set_yticks(np.arange(len(KEYS_D)) + 0.3, [an.QUANTITIES[k][0] for k in KEYS_D], fontsize=11)
    ax.axvline(2, color="k", lw=0.8, ls="--")
    ax.axvline(-2, color="k", lw=0.8, ls="--")
    ax.set_xlabel("t value of the slope (clipped at ±20)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False, fontsize=11)
    ctrl.plot(axes[1][1])
    axes[1][1].set_title("rule's controls", fontsize=11)
    axes[1][1].legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=2, frameon=False, fontsize=11)
    return fig


def explorer_renderer(rows: list[dict]):
    """render(net, T, checkpoint) -> the four papers' quantities of that (net, T) at that checkpoint, per loss, B."""
    def render(net: str, T: float, checkpoint: int):
        sel = an.ok(rows, net=net, T=T, stage=checkpoint)
        fig, axes = subplots(1, 3, width=2.4, height=3.4)
        groups = sorted({(r["loss"], r["B"]) for r in sel})
        x = np.arange(len(groups))
        for ax, keys, title in ((axes[0], ("alpha_sqrt_n", "mix_diag", "alpha_std_cal"), "tail index"),
                                (axes[1], ("dim_pass", "iter_pass"), "Xie pass rates"),
                                (axes[2], ("weight_change", "test_error"), "Sclocchi")):
            for j, k in enumerate(keys):
                ms = [an.mean_se([r[k] for r in sel if (r["loss"], r["B"]) == g]) for g in groups]
                ax.errorbar(x + 0.12 * j, [m for m, _ in ms], [2 * np.nan_to_num(s) for _, s in ms], fmt="o",
                            label=an.QUANTITIES[k][0].split(" (")[0].replace("α̂", r"$\hat\alpha$"))
            ax.set_xticks(x, [f"{lo}\nB={b}" for lo, b in groups], fontsize=11)
            ax.set_title(title, fontsize=11)
            ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.3), fontsize=11, frameon=False)
        fig.suptitle(f"{net}, T = {T:g}, checkpoint {checkpoint}", fontsize=11)
        return fig
    return render
