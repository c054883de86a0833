"""Chapter 1 (Simsekli et al. 2019): the chapter's sweeps, synthetic checks, SDE study and their figures."""
from __future__ import annotations

import dataclasses

import numpy as np
import torch

from ..config import resolve_device
from ..estimators.tail import tail_index
from ..noise import sample_sas
from ..plotting import subplots
from ..results import output_dir
from ..sde import ExitTimes, brownian_exit_theory, levy_exit_theory, simulate_exit
from ..sweep import run_sweep
from .tail_index import CHAPTER, TailIndexConfig, run_net

COLORS = {"nll": "C0", "hinge": "C3"}


@dataclasses.dataclass(frozen=True)
class NetTable:
    """Finished net runs as rows: config fields and metrics merged (see ``NetRun`` and ``run_net``)."""

    rows: list  # list of dicts

    def select(self, **match) -> list:
        """Rows whose fields equal ``match``."""
        return [r for r in self.rows if all(r.get(k) == v for k, v in match.items())]

    def curve(self, x: str, y: str = "alpha_train", **match) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Mean and std over seeds of ``y`` against ``x`` for the rows matching ``match``."""
        xs = sorted({r[x] for r in self.select(**match)})
        vals = [[r[y] for r in self.select(**match, **{x: v}) if r.get(y) is not None] for v in xs]
        return (np.array(xs, float), np.array([np.mean(v) if v else np.nan for v in vals]),
                np.array([np.std(v) if v else np.nan for v in vals]))


def sweep_configs(cfg: TailIndexConfig) -> dict:
    """NetRuns of the width, depth and batch-size sweeps and of the tracked run (figures 2-4)."""
    grid = lambda **kw: [cfg.net(**kw, loss=loss, seed=s) for loss in cfg.losses for s in cfg.seeds]  # noqa: E731
    return {"width": [r for w in cfg.widths for r in grid(width=w, depth=cfg.base_depth)],
            "depth": [r for d in cfg.depths for r in grid(depth=d, width=cfg.base_width)],
            "batch": [cfg.net(batch_size=b, depth=cfg.base_depth, width=cfg.base_width) for b in cfg.batch_sizes],
            "track": [cfg.net(steps=cfg.track_steps, track_points=cfg.track_points, details=False, width=128)],
            "raw": [cfg.net(normalize=False)],
            "cnn": [cfg.net(arch="alexnet", dataset=d, width=ch, n_train=50000, loss=loss, seed=s)
                    for d in cfg.cnn_datasets for ch in cfg.cnn_channels for loss in cfg.losses for s in cfg.seeds]}


def run_networks(cfg: TailIndexConfig) -> dict:
    """Run (or reload, when finished before) every net of ``sweep_configs``; a NetTable per sweep."""
    folder = output_dir(CHAPTER) / "runs"
    out = {}
    for name, configs in sweep_configs(cfg).items():
        if not configs:
            out[name] = NetTable([])
            continue
        records = run_sweep(run_net, configs, folder, executor="inline", progress=True)
        out[name] = NetTable([{**rec["config"], **rec["metrics"], "status": rec["status"]} for rec in records])
    return out


def synthetic_validation(cfg: TailIndexConfig, seed: int = 0) -> dict:
    """alpha-hat (Mohammadi and Hill) of SaS samples for every true alpha, sample size and repetition."""
    gen = torch.Generator().manual_seed(seed)
    shape = (len(cfg.synth_alphas), len(cfg.synth_sizes), cfg.synth_reps)
    est = {"mohammadi": np.empty(shape), "hill": np.empty(shape)}
    for i, a in enumerate(cfg.synth_alphas):
        for j, n in enumerate(cfg.synth_sizes):
            for r in range(cfg.synth_reps):
                x = sample_sas(a, n, generator=gen)
                est["mohammadi"][i, j, r] = tail_index(x).alpha
                est["hill"][i, j, r] = tail_index(x, "hill").alpha
    return {"alphas": np.array(cfg.synth_alphas), "sizes": np.array(cfg.synth_sizes), **est}


def exit_time_study(cfg: TailIndexConfig) -> dict:
    """First-exit times against epsilon (half-width 1) and against the half-width (epsilon fixed), every alpha."""
    dev = resolve_device(cfg.device)
    a, e = np.meshgrid(cfg.sde_alphas, cfg.sde_eps, indexing="ij")
    kw = dict(n_particles=cfg.sde_particles, dt=cfg.sde_dt, t_max=cfg.sde_t_max, device=dev)
    by_eps = simulate_exit(a.ravel(), e.ravel(), 1.0, seed=0, **kw)
    a, w = np.meshgrid(cfg.sde_alphas, cfg.sde_widths, indexing="ij")
    by_width = simulate_exit(a.ravel(), cfg.sde_eps_fixed, w.ravel(), seed=1, **kw)
    return {"eps": by_eps, "width": by_width}


def exit_theory(res: ExitTimes, dt: float = 0.0) -> np.ndarray:
    """Small-noise theory of the mean exit time of each setting (Levy for alpha < 2, exact Brownian at alpha = 2)."""
    levy = levy_exit_theory(np.minimum(res.alpha, 1.99), res.eps, res.width)
    brown = brownian_exit_theory(np.sqrt(2.0) * res.eps, res.width, dt=dt)
    return np.where(res.alpha < 2, levy, brown)


# ----------------------------------------------------------------------------------------------------- figures
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
    ax.legend(fontsize=8)
    return ax


def plot_sweep(table: NetTable, x: str, ax=None, y: str = "alpha_train", logx: bool = False):
    """Figure 2: alpha-hat against width or depth, one curve per loss, seeds as error bars."""
    if ax is None:
        _, ax = subplots()
    for loss in sorted({r["loss"] for r in table.rows}):
        xs, m, s = table.curve(x, y, loss=loss)
        ax.errorbar(xs, m, yerr=s, marker="o", capsize=3, color=COLORS.get(loss), label=loss)
    ax.axhline(2.0, color="gray", ls=":", label="Gaussian (alpha=2)")
    ax.set(xlabel=x, ylabel=r"$\hat\alpha$ (train noise)", xscale="log" if logx else "linear", ylim=(0, 2.1))
    ticks = sorted({r[x] for r in table.rows})
    ax.set_xticks(ticks, [str(t) for t in ticks])
    ax.minorticks_off()
    ax.legend(fontsize=8)
    return ax


def plot_batch(table: NetTable, ax=None):
    """Figure 3: alpha-hat of train and test noise against the batch size."""
    if ax is None:
        _, ax = subplots()
    for y, label in (("alpha_train", "train noise"), ("alpha_test", "test noise")):
        xs, m, _ = table.curve("batch_size", y)
        ax.plot(xs, m, "o-", label=label)
    ax.set(xscale="log", xlabel="batch size", ylabel=r"$\hat\alpha$", ylim=(0, 2.1))
    ax.axhline(2.0, color="gray", ls=":")
    ax.set_xticks(xs, [str(int(b)) for b in xs])
    ax.minorticks_off()
    ax.legend(fontsize=8)
    return ax


def plot_track(track: list, axes=None):
    """Figure 4: alpha-hat and train/test accuracy along SGD iterations (log-spaced measurements)."""
    if axes is None:
        _, axes = subplots(1, 2)
    steps = np.array([max(t["step"], 0.5) for t in track])
    alpha, err = np.array([t["alpha"] for t in track]), np.array([t["stderr"] for t in track])
    axes[0].errorbar(steps, alpha, yerr=err, marker="o", ms=4)
    axes[0].set(xscale="log", xlabel="iteration (0 plotted at 0.5)", ylabel=r"$\hat\alpha$ (train noise)")
    axes[1].plot(steps, [t["train_acc"] for t in track], "o-", label="train")
    axes[1].plot(steps, [t["test_acc"] for t in track], "s-", label="test")
    axes[1].set(xscale="log", xlabel="iteration", ylabel="accuracy")
    axes[1].legend(fontsize=8)
    return axes


def plot_synthetic(syn: dict, ax=None, method: str = "mohammadi"):
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
    ax.legend(fontsize=8)
    return ax


VARIANT_LABELS = {"pooled": "as pooled (paper)", "nonzero_pooled": "zeros dropped", "permuted": "permuted",
                  "standardised_permuted": "standardised + permuted", "hill_pooled": "Hill, top sqrt(N)"}


def plot_sensitivity(groups: dict, ax=None):
    """Figure 6: alpha-hat of the same noise pooled in different ways, one group of bars per net."""
    if ax is None:
        _, ax = subplots(width=8)
    names = list(groups)
    for k, (key, label) in enumerate(VARIANT_LABELS.items()):
        vals = [groups[n].get(key) for n in names]
        vals = [np.nan if v is None else v for v in vals]
        ax.bar(np.arange(len(names)) + 0.16 * (k - 2), vals, width=0.16, label=label)
    ax.axhline(2.0, color="gray", ls=":")
    ax.set_xticks(np.arange(len(names)), names, rotation=20, fontsize=8)
    ax.set_ylabel(r"$\hat\alpha$")
    ax.legend(fontsize=8, ncols=2)
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
    ax.legend(fontsize=8)
    return ax


def fitted_slopes(res: ExitTimes, x: str) -> dict:
    """Least-squares log-log slope of the simulated mean exit time against ``x``, per alpha (uncensored points)."""
    out = {}
    for a in np.unique(res.alpha):
        rows = (res.alpha == a) & (res.censored_fraction < 0.05)
        if rows.sum() >= 2:
            out[float(a)] = float(np.polyfit(np.log(getattr(res, x)[rows]), np.log(res.mean[rows]), 1)[0])
    return out


def plot_cnn(table: NetTable, ax=None):
    """Figure 2 (CNN part): alpha-hat of the AlexNet-like nets against the channel scale ch, per dataset and loss."""
    if ax is None:
        _, ax = subplots()
    for d in sorted({r["dataset"] for r in table.rows}):
        for loss in sorted({r["loss"] for r in table.rows}):
            xs, m, s = table.curve("width", dataset=d, loss=loss)
            ax.errorbar(xs, m, yerr=s, marker="o", capsize=3, label=f"{d}, {loss}")
    ax.axhline(2.0, color="gray", ls=":")
    ax.set(xscale="log", xlabel="channels ch (AlexNet-like)", ylabel=r"$\hat\alpha$ (train noise)", ylim=(0, 2.1))
    ax.legend(fontsize=8)
    return ax
