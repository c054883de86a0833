"""Chapter 1 (Simsekli et al. 2019): the chapter's figures (each a pure function of saved results)."""
from __future__ import annotations

import numpy as np
import torch

from ...present.plotting import subplots
from .noise import sample_sas
from .sde import ExitTimes
from .sweeps import NetTable, exit_theory

COLORS = {"nll": "C0", "hinge": "C3"}
LOSS_LABELS = {"nll": "NLL", "hinge": "hinge"}


def below(ax, ncols: int = 2, y: float = -0.3) -> None:
    """The axes' legend under it, outside the data."""
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, y), ncols=ncols, fontsize=11)


def _diverged_note(ax, table: NetTable) -> None:
    """Say on the figure how many runs diverged (they are left out of every curve)."""
    if table.n_diverged:
        ax.text(0.02, 0.02, f"{table.n_diverged} diverged run(s) left out", transform=ax.transAxes)


def plot_histogram(hist: dict, alpha: float, ax=None, n_ref: int = 400_000):
    """Figure 1: density of |noise components| (log-log) with the Gaussian and SaS(alpha-hat) fits of equal scale.

    The SaS scale matches the median |component|; the Gaussian has the components' variance. A power-law tail
    p(|x|) ~ |x|^(-1-alpha) is a straight line here.
    """
    if ax is None:
        _, ax = subplots()
    edges, counts = np.asarray(hist["edges"]), np.asarray(hist["counts"])
    mid, width = np.sqrt(edges[1:] * edges[:-1]), np.diff(edges)
    dens = lambda c, n: np.where(c > 0, c / (n * width), np.nan)  # noqa: E731
    ax.loglog(mid, dens(counts, hist["n"]), ".", color="k", ms=4, label="gradient noise |component|")
    sd = hist["std"]
    ax.loglog(mid, 2 * np.exp(-mid ** 2 / (2 * sd ** 2)) / np.sqrt(2 * np.pi * sd ** 2), "C0-", label="Gaussian fit")
    ref = sample_sas(min(max(alpha, 0.3), 2.0), n_ref, generator=torch.Generator().manual_seed(0)).double().abs()
    ref = ref * hist["median_abs"] / ref.median()
    ref_counts = np.histogram(ref.numpy(), bins=edges)[0]
    ax.loglog(mid, dens(ref_counts, n_ref), "C3-", label=rf"S$\alpha$S fit, $\alpha$={alpha:.2f}")
    ax.set(xlabel="|noise component|", ylabel="density",
           ylim=(np.nanmin(dens(counts, hist["n"])) / 10, np.nanmax(dens(counts, hist["n"])) * 10))
    below(ax, 3, -0.22)
    return ax


def plot_sweep(table: NetTable, x: str, ax=None, logx: bool = False, k1_fixed: int | None = None,
               dataset: str | None = None):
    """Figure 2: alpha-hat against width or depth, one colour per loss; solid: paper's K1 ~ sqrt N, dashed: fixed K1;
    open circles: exact zeros dropped (paper's K1)."""
    if ax is None:
        _, ax = subplots(width=7)
    match = {} if dataset is None else {"dataset": dataset}
    for loss in sorted({r["loss"] for r in table.select(**match)}):
        c = COLORS.get(loss)
        xs, m, s = table.curve(x, "alpha_train", loss=loss, **match)
        ax.errorbar(xs, m, yerr=s, marker="o", capsize=3, color=c,
                    label=rf"{LOSS_LABELS[loss]}, $K_1 \approx \sqrt{{N}}$")
        xs, m, s = table.curve(x, "alpha_train_fixed", loss=loss, **match)
        ax.errorbar(xs, m, yerr=s, marker="s", capsize=3, color=c, ls="--", mfc="none",
                    label=rf"{LOSS_LABELS[loss]}, $K_1 = {k1_fixed}$")
        xs, m, _ = table.curve(x, "alpha_nonzero", loss=loss, **match)
        ax.plot(xs, m, "o:", color=c, mfc="white", label=f"{LOSS_LABELS[loss]}, zeros dropped")
    ax.axhline(2.0, color="gray", ls=":", label=r"Gaussian ($\alpha = 2$)")
    low = np.nanmin([r.get("alpha_train_fixed", np.nan) for r in table.select(**match)] +
                    [r.get("alpha_train", np.nan) for r in table.select(**match)] + [2.0])
    ax.set(xlabel=x, ylabel=r"$\hat\alpha$ (train noise)", xscale="log" if logx else "linear",
           ylim=(max(0.0, low - 0.15), 2.1))
    ticks = sorted({r[x] for r in table.select(**match)})
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.minorticks_off()
    _diverged_note(ax, table)
    return ax


def plot_width_depth(nets: dict, cfg, dataset: str):
    """Figure 2 for one dataset: width sweep (top), depth sweep (bottom), one legend under both."""
    fig, axes = subplots(2, 1, width=6.6, height=2.9)
    plot_sweep(nets["width"], "width", axes[0], logx=True, k1_fixed=cfg.k1_fixed, dataset=dataset)
    plot_sweep(nets["depth"], "depth", axes[1], k1_fixed=cfg.k1_fixed, dataset=dataset)
    axes[0].set_title(f"{dataset}, depth {cfg.base_depth}")
    axes[1].set_title(f"{dataset}, width {cfg.base_width}")
    below(axes[1], 3, -0.3)
    return fig


def plot_batch(table: NetTable, ax=None, k1_fixed: int | None = None):
    """Figure 3: alpha-hat of train and test noise against the batch size (fixed epochs), both K1 choices."""
    if ax is None:
        _, ax = subplots(width=7)
    for y, label, c in (("alpha_train", "train", "C0"), ("alpha_test", "test", "C1")):
        xs, m, s = table.curve("batch_size", y)
        ax.errorbar(xs, m, yerr=s, marker="o", color=c, capsize=3, label=rf"{label}, $K_1 \approx \sqrt{{N}}$")
        xs, m, s = table.curve("batch_size", y + "_fixed")
        ax.errorbar(xs, m, yerr=s, marker="s", color=c, ls="--", mfc="none", capsize=3,
                    label=rf"{label}, $K_1 = {k1_fixed}$")
    ax.set(xscale="log", xlabel="batch size $b$", ylabel=r"$\hat\alpha$", ylim=(0, 2.1))
    ax.axhline(2.0, color="gray", ls=":")
    ax.set_xticks(xs, [str(int(b)) for b in xs])
    ax.minorticks_off()
    below(ax, 2, -0.22)
    _diverged_note(ax, table)
    return ax


def plot_track(tests: list, axes=None, until: int = 0):
    """Figure 4: alpha-hat of train (solid) and test (dashed) noise and the train accuracy along training, one colour
    per seed (x linear over the dense window, logarithmic after it); bottom: the null distribution of the two-phase
    statistic S per seed, its 95 % point and the observed S."""
    if axes is None:
        fig, axes = subplots(3, 1, width=6.6, height=2.4)
        axes[0].sharex(axes[1])
    for k, (row, test, verdict) in enumerate(tests):
        track, c = row.get("track") or [], f"C{k}"
        if not track:
            continue
        steps = np.array([t["step"] for t in track])
        axes[0].plot(steps, [t["alpha"] for t in track], "o-", ms=2.5, color=c, label=f"seed {row['seed']}, train")
        axes[0].plot(steps, [t["alpha_test"] for t in track], "--", color=c, alpha=0.7,
                     label=f"seed {row['seed']}, test")
        if np.isfinite(test["step_min"]):
            axes[0].axvline(test["step_min"], color=c, lw=0.8, ls=":")
        axes[1].plot(steps, [t["train_acc"] for t in track], "o-", ms=2.5, color=c)
        if len(test["null"]):
            axes[2].hist(test["null"], bins=30, color=c, alpha=0.4, label=f"seed {row['seed']}: null of S")
            axes[2].axvline(test["q95"], color=c, ls="--", label="its 95 % point")
            axes[2].axvline(test["s"], color=c, lw=2.5, label=f"observed S ({verdict})")
    axes[1].set_xscale("symlog", linthresh=max(until, 1), linscale=2)
    axes[1].set_xlabel("SGD iteration (linear to the dense window's end, then log)")
    axes[0].tick_params(labelbottom=False)
    axes[0].set_ylabel(r"$\hat\alpha$ ($K_1 \approx \sqrt{N}$)")
    axes[1].set_ylabel("train accuracy")
    axes[2].set(xlabel="S = min(drop, jump) of α̂", ylabel="null draws")
    handles = [h for ax in (axes[0], axes[2]) for h in zip(*ax.get_legend_handles_labels())]
    if handles:
        axes[0].figure.legend(*zip(*handles), loc="outside lower center", ncols=2, fontsize=11)
    return axes


def plot_controls(results: dict, ax=None):
    """Figure 8: share of verdicts of each rule on synthetic data where its claim holds and where it does not."""
    from ...core.verdicts import VERDICTS

    if ax is None:
        _, ax = subplots(width=6.0, height=0.55 * 2 * len(results) + 1)
    colors = dict(zip(VERDICTS, ("#2e7d32", "#9e9d24", "#c62828", "#757575", "#bdbdbd")))
    labels = []
    for i, (name, res) in enumerate(results.items()):
        for j, (side, counts) in enumerate((("claim holds", res.positive), ("alternative", res.negative))):
            left = 0.0
            for verdict, n in zip(VERDICTS, counts):
                ax.barh(2 * i + j, n / res.n_rep, left=left, color=colors[verdict],
                        label=verdict if (i, j) == (0, 0) else None)
                left += n / res.n_rep
            labels.append(f"{name}: {side}")
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    ax.set(xlim=(0, 1), xlabel=f"share of {next(iter(results.values())).n_rep} synthetic draws")
    below(ax, 3, -0.18)
    return ax


def plot_synthetic(syn: dict, ax=None, method: str = "mohammadi", legend: bool = True):
    """Figure 5: alpha-hat against the true alpha of SaS samples, one curve per sample size (reps as error bars)."""
    if ax is None:
        _, ax = subplots()
    a = syn["alphas"]
    for j, n in enumerate(syn["sizes"]):
        est = np.asarray(syn[method])[:, j]
        ax.errorbar(a + 0.006 * (j - 1.5), est.mean(1), yerr=est.std(1), marker="o", ms=4, capsize=2,
                    label=f"n = {int(n):.0e}")
    ax.plot([a.min(), a.max()], [a.min(), a.max()], "k--", lw=1, label="exact")
    ax.set_ylim(0.5 * a.min(), 1.5 * a.max())
    ax.set(xlabel=r"true $\alpha$", ylabel=rf"$\hat\alpha$ ({method})")
    if legend:
        below(ax, 3, -0.3)
    return ax


VARIANT_LABELS = {"pooled": "as pooled (paper)", "nonzero_pooled": "zeros dropped", "permuted": "permuted",
                  "standardised_permuted": "standardised + permuted", "hill_pooled": r"Hill, top $\sqrt{n}$"}


def plot_sensitivity(groups: dict, ax=None):
    """Figure 6: alpha-hat of the same noise pooled in different ways (one K1 for all), one group of bars per net."""
    if ax is None:
        _, ax = subplots(width=7)
    names = list(groups)
    for k, (key, label) in enumerate(VARIANT_LABELS.items()):
        vals = [groups[n].get(key) for n in names]
        vals = [np.nan if v is None else v for v in vals]
        ax.bar(np.arange(len(names)) + 0.16 * (k - 2), vals, width=0.16, label=label)
    ax.axhline(2.0, color="gray", ls=":")
    ax.set_xticks(np.arange(len(names)), names, rotation=20, ha="right")
    ax.set_ylabel(r"$\hat\alpha$")
    below(ax, 3, -0.45)
    return ax


def plot_calibration(calib: dict, measured: dict, ax=None):
    """Figure 6b: what each variant reads on i.i.d. SaS(alpha) matrices of the measured shape (lines, against the
    true alpha), and the values measured on the trained nets (horizontal ticks at the right, same colours)."""
    if ax is None:
        _, ax = subplots(width=7)
    a = calib["alphas"]
    for k, key in enumerate(("pooled", "permuted", "standardised_permuted")):
        ax.plot(a, calib[key], "o-", color=f"C{k}", label=f"i.i.d. S$\\alpha$S: {VARIANT_LABELS[key]}")
        vals = [v[key] for v in measured.values() if v.get(key) is not None]
        ax.hlines(vals, a.max() + 0.03 + 0.03 * k, a.max() + 0.05 + 0.03 * k, color=f"C{k}", lw=2,
                  label=f"trained nets: {VARIANT_LABELS[key]}")
    ax.plot([a.min(), 2], [a.min(), 2], "k:", lw=1, label="exact")
    ax.set(xlabel=r"true $\alpha$ of the i.i.d. S$\alpha$S matrix", ylabel=rf"$\hat\alpha$ ($K_1 = {calib['k1']}$)")
    ax.legend(ncols=2, loc="upper center", bbox_to_anchor=(0.5, -0.24), fontsize=11)
    return ax


def plot_exit(res: ExitTimes, x: str, ax=None, dt: float = 0.0):
    """Figure 7: mean first-exit time against epsilon or half-width (log-log), simulation and theory per alpha."""
    if ax is None:
        _, ax = subplots()
    theory = exit_theory(res, dt)
    for k, a in enumerate(np.unique(res.alpha)):
        rows = res.alpha == a
        xs = getattr(res, x)[rows]
        cens = res.censored_fraction[rows] > 0.5
        label = "Brownian" if a >= 2 else rf"$\alpha$={a:g}"
        ax.plot(xs[~cens], res.mean[rows][~cens], "o", color=f"C{k}", label=label)
        ax.plot(xs[cens], res.mean[rows][cens], "^", color=f"C{k}", mfc="none")
        ax.plot(xs, theory[rows], "-", color=f"C{k}", lw=1)
    ax.set(xscale="log", yscale="log", xlabel=r"noise scale $\varepsilon$" if x == "eps" else "basin half-width a",
           ylabel="mean first-exit time", ylim=(None, 10 * res.times.max()))
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=11)
    return ax


def fitted_slopes(res: ExitTimes, x: str) -> dict:
    """Least-squares log-log slope of the simulated mean exit time against ``x``, per alpha (uncensored points)."""
    out = {}
    for a in np.unique(res.alpha):
        rows = (res.alpha == a) & (res.censored_fraction < 0.05)
        if rows.sum() >= 2:
            out[float(a)] = float(np.polyfit(np.log(getattr(res, x)[rows]), np.log(res.mean[rows]), 1)[0])
    return out


def slope_errors(res: ExitTimes, x: str) -> dict:
    """alpha -> (slope of ``fitted_slopes``, its standard error): the unweighted least-squares slope b of
    log(mean) on log(x) with var(b) = sum (u_i - u_bar)^2 s_i^2 / (sum (u_i - u_bar)^2)^2, where
    s_i = stderr(mean_i) / mean_i from the particles' spread."""
    out = {}
    for a, b in fitted_slopes(res, x).items():
        rows = (res.alpha == a) & (res.censored_fraction < 0.05)
        u = np.log(getattr(res, x)[rows])
        t = res.times[rows]
        s = t.std(1, ddof=1) / np.sqrt(t.shape[1]) / t.mean(1)
        du = u - u.mean()
        out[a] = (b, float(np.sqrt(np.sum(du ** 2 * s ** 2)) / np.sum(du ** 2)))
    return out


def plot_cnn(table: NetTable, ax=None):
    """Figure 2 (CNN part): alpha-hat of the AlexNet nets against the channel scale ch, per dataset and loss."""
    if ax is None:
        _, ax = subplots(width=7)
    for d in sorted({r["dataset"] for r in table.ok}):
        for loss in sorted({r["loss"] for r in table.ok}):
            xs, m, s = table.curve("width", dataset=d, loss=loss)
            ax.errorbar(xs, m, yerr=s, marker="o", capsize=3,
                        label=rf"{d}, {LOSS_LABELS[loss]}, $K_1 \approx \sqrt{{N}}$")
            xs, m, s = table.curve("width", "alpha_train_fixed", dataset=d, loss=loss)
            ax.errorbar(xs, m, yerr=s, marker="s", ls="--", mfc="none", capsize=3,
                        label=f"{d}, {LOSS_LABELS[loss]}, fixed $K_1$")
    ax.axhline(2.0, color="gray", ls=":")
    ax.set(xscale="log", xlabel="channel scale ch (released AlexNet)", ylabel=r"$\hat\alpha$ (train noise)",
           ylim=(0, 2.1))
    below(ax, 2, -0.22)
    _diverged_note(ax, table)
    return ax
