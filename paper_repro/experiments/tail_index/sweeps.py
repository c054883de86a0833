"""Chapter 1 (Simsekli et al. 2019): the chapter's sweeps, the estimator checks and the SDE study."""
from __future__ import annotations

import dataclasses

import numpy as np
import torch

from ...core.config import resolve_device
from ...core.estimators.tail import tail_index
from ...core.results import output_dir, record_path
from ...pipeline.sweep import SweepOptions, run_sweep
from .config import CHAPTER, TailIndexConfig, sweep_configs
from .measure import pooling_variants
from .noise import sample_sas
from .plan import SYNTHETIC, path_measurement
from .run import run_net
from .sde import ExitTimes, brownian_exit_theory, levy_exit_theory, simulate_exit


@dataclasses.dataclass(frozen=True)
class NetTable:
    """Finished net runs as rows: config fields and metrics merged (see ``NetRun`` and ``run_net``)."""

    rows: list  # list of dicts (every run, diverged ones included)

    @property
    def ok(self) -> list:
        """Rows that finished without divergence (the only ones fits and verdicts use)."""
        return [r for r in self.rows if r.get("status", "ok") == "ok" and not r.get("diverged")]

    @property
    def n_diverged(self) -> int:
        """Runs that diverged (counted on the figures, left out of every fit)."""
        return len(self.rows) - len(self.ok)

    def select(self, **match) -> list:
        """Finished rows whose fields equal ``match``."""
        return [r for r in self.ok if all(r.get(k) == v for k, v in match.items())]

    def curve(self, x: str, y: str = "alpha_train", **match) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Mean and std over seeds of ``y`` against ``x`` for the finished rows matching ``match``."""
        xs = sorted({r[x] for r in self.select(**match)})
        vals = [[r[y] for r in self.select(**match, **{x: v}) if r.get(y) is not None] for v in xs]
        return (np.array(xs, float), np.array([np.mean(v) if v else np.nan for v in vals]),
                np.array([np.std(v) if v else np.nan for v in vals]))


def run_networks(cfg: TailIndexConfig, opts: SweepOptions | None = None) -> dict:
    """Run (or reload, when finished before) every net of ``sweep_configs``; a NetTable per sweep.

    Each finished (architecture, dataset, measurement) combination is noted with ``record_path``.
    """
    folder, opts = output_dir(CHAPTER) / "runs", opts or SweepOptions()
    out = {}
    for name, configs in sweep_configs(cfg).items():
        records = run_sweep(run_net, configs, folder, progress=False, **opts.run_kwargs()) if configs else []
        out[name] = NetTable([{**rec["config"], **rec["metrics"], "status": rec["status"]} for rec in records])
        for run in configs:
            record_path(CHAPTER, run.arch, run.dataset, path_measurement(name, run))
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
    record_path(CHAPTER, *SYNTHETIC[0])
    return {"alphas": np.array(cfg.synth_alphas), "sizes": np.array(cfg.synth_sizes), **est}


def pooling_calibration(cfg: TailIndexConfig, shape: tuple[int, int], seed: int = 0) -> dict:
    """The pooling variants (same code, same K1) of i.i.d. SaS(alpha) matrices of the measured noise's shape.

    Returns {variant: array over cfg.calib_alphas} plus "alphas": what each variant reads when the noise really
    is i.i.d. SaS(alpha), so a measured value can be read against it.
    """
    gen = torch.Generator().manual_seed(seed)
    rows = [pooling_variants(sample_sas(a, shape, generator=gen), cfg.k1_fixed) for a in cfg.calib_alphas]
    record_path(CHAPTER, *SYNTHETIC[1])
    keys = ("pooled", "permuted", "standardised_permuted", "pooled_sqrt_n", "hill_pooled")
    return {"alphas": np.array(cfg.calib_alphas), "shape": np.array(shape), "k1": cfg.k1_fixed,
            **{k: np.array([r[k] for r in rows]) for k in keys}}


def equivalent_alpha(calib: dict, measured: float, key: str = "standardised_permuted") -> float:
    """The true alpha of i.i.d. SaS matrices whose ``key`` variant reads ``measured`` (interpolated, clipped)."""
    y, a = calib[key], calib["alphas"]
    order = np.argsort(y)
    return float(np.interp(measured, y[order], a[order]))


def exit_time_study(cfg: TailIndexConfig) -> dict:
    """First-exit times against epsilon (half-width 1) and against the half-width (epsilon fixed), every alpha."""
    dev = resolve_device(cfg.device)
    a, e = np.meshgrid(cfg.sde_alphas, cfg.sde_eps, indexing="ij")
    kw = dict(n_particles=cfg.sde_particles, dt=cfg.sde_dt, t_max=cfg.sde_t_max, device=dev)
    by_eps = simulate_exit(a.ravel(), e.ravel(), 1.0, seed=0, **kw)
    a, w = np.meshgrid(cfg.sde_alphas, cfg.sde_widths, indexing="ij")
    by_width = simulate_exit(a.ravel(), cfg.sde_eps_fixed, w.ravel(), seed=1, **kw)
    record_path(CHAPTER, *SYNTHETIC[2])
    return {"eps": by_eps, "width": by_width}


def exit_theory(res: ExitTimes, dt: float = 0.0) -> np.ndarray:
    """Small-noise theory of the mean exit time of each setting (Levy for alpha < 2, exact Brownian at alpha = 2)."""
    levy = levy_exit_theory(np.minimum(res.alpha, 1.99), res.eps, res.width)
    brown = brownian_exit_theory(np.sqrt(2.0) * res.eps, res.width, dt=dt)
    return np.where(res.alpha < 2, levy, brown)


def pooling_groups(cfg: TailIndexConfig, nets: dict) -> dict:
    """Pooling variants per net for figure 6: a net at init on Gaussian inputs, the first-seed NLL nets of the
    width and depth sweeps, and the base net fed raw pixels (nets whose noise was streamed have none)."""
    from .run import init_gaussian_variants

    sens = {"init, Gaussian inputs": init_gaussian_variants(k1=cfg.k1_fixed)}
    record_path(CHAPTER, *SYNTHETIC[3])
    first = dict(loss="nll", seed=cfg.seeds[0], dataset=cfg.dataset)
    for r in nets["width"].select(**first) + nets["depth"].select(**first):
        if r.get("variants"):
            sens.setdefault(f"w{r['width']} d{r['depth']}", r["variants"])
    for r in nets["raw"].select():
        sens[f"w{cfg.base_width} d{cfg.base_depth}, raw [0,1] pixels"] = r.get("variants") or {}
    return sens


def histogram_row(cfg: TailIndexConfig, nets: dict) -> dict:
    """The net of figure 1: the largest CIFAR-10 AlexNet (NLL, first seed) when run, else the widest FC net."""
    cnn = nets["cnn"].select(dataset="cifar10", loss="nll", seed=cfg.seeds[0])
    fc = nets["width"].select(loss="nll", seed=cfg.seeds[0], dataset=cfg.dataset)
    rows = [r for r in (cnn or fc or [r for t in nets.values() for r in t.ok]) if r.get("hist")]
    return max(rows, key=lambda r: r["width"])


def measured_shape(nets: dict, cfg: TailIndexConfig) -> tuple[int, int]:
    """(batches, parameters) of the base net's noise matrix: the shape of the calibration matrices."""
    rows = nets["depth"].select(width=cfg.base_width, depth=cfg.base_depth, dataset=cfg.dataset) or nets["width"].ok
    return int(rows[0]["n_batches"]), int(rows[0]["n_params"])
