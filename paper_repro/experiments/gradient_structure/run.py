"""Chapter 4 runs: train one (dataset, model, B) with the group's recipe and test its gradients at every stage.

One setting is one run of :func:`paper_repro.pipeline.sweep.run_sweep` (resumable, inline / local / Slurm); its
record holds every number and the short arrays the figures need, and :func:`checkpoint_from_record` rebuilds the results.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ...core.config import resolve_device
from ...core.data import batch_indices
from ...core.estimators.powerlaw import PowerLawResult, fit_power_law
from ...core.gradients import full_grad
from ...core.results import output_dir, to_jsonable
from ...pipeline.sweep import run_sweep
from .config import CHAPTER, ITER_TAIL, GradientStructureConfig, epochs_of, settings
from .recipe import build_model, train_with_checkpoints, training_data
from .spectrum import (SpectrumFit, centred_eigenvalues, fit_resolved_spectrum, gram_by_blocks, minibatch_means,
                       minibatch_spectrum)
from .subspace import SUBSPACE_KS, SubspaceStability, split_stability

ITER_FIT = {"max_candidates": 100, "ks_points": 500}  # fast (near-exact) fits for the many per-coordinate tests


@dataclasses.dataclass(frozen=True)
class RunSpec:
    """One training run of the chapter: the config and the (dataset, model, training batch size) it trains."""

    cfg: GradientStructureConfig  # all measurement settings
    dataset: str  # dataset name
    model: str  # lenet | fcn | resnet18
    batch_size: int  # training batch size B


@dataclasses.dataclass(frozen=True)
class Checkpoint:
    """All tests at one parameter vector theta (one setting and training step)."""

    dataset: str  # dataset name
    model: str  # lenet | fcn | resnet18
    batch_size: int  # training batch size B
    step: int  # SGD steps taken (0 = random init)
    dim_top: PowerLawResult  # dimension-wise |g_i| of the first minibatch draw, top_k values
    dim_free: PowerLawResult  # same, free (KS-minimising) xmin
    noise_top: PowerLawResult  # dimension-wise |g_B - g_full| of the first draw, top_k values
    noise_free: PowerLawResult  # same, free xmin
    dim_pass_rate: float  # fraction of the n_draws minibatch gradients whose top_k |g_i| pass d_ks < d_c
    noise_pass_rate: float  # same for the noise
    dim_pass_rate_free: float  # same as dim_pass_rate with a free (KS-minimising) xmin on every draw
    noise_pass_rate_free: float  # same for the noise
    dim_betas: tuple  # top_k beta of every draw
    iter_batch_sizes: tuple  # batch sizes of the iteration-wise test
    iter_pass_grad: tuple  # fraction of coordinates whose |g_i| over minibatches passes (top ITER_TAIL), per B
    iter_pass_noise: tuple  # same for the noise |g_i - mean_i|
    iter_pass_grad_free: tuple  # same as iter_pass_grad with a free xmin
    iter_pass_noise_free: tuple  # same as iter_pass_noise with a free xmin
    train_loss: float  # cross-entropy on the training subset at this theta (evaluation mode)
    train_acc: float  # accuracy on the training subset at this theta
    var_fit: PowerLawResult  # free-xmin fit of the per-coordinate variances of per-sample gradients (mechanism)
    spectrum: SpectrumFit | None  # fit of the covariance spectrum within its resolved range (spectrum stages only)
    minibatch_s: tuple  # s of the minibatch-gradient covariance per test batch size (spectrum stages only)
    subspace: SubspaceStability | None  # top-k eigenspaces of two sample halves vs Davis-Kahan (spectrum stages)
    arrays: dict = dataclasses.field(default_factory=dict, repr=False)  # short arrays for the figures

    @property
    def label(self) -> str:
        """e.g. 'mnist/lenet@234' (with '/B1024' for the batch-size sweep)."""
        b = "" if self.batch_size == 128 else f"/B{self.batch_size}"
        return f"{self.dataset}/{self.model}{b}@{self.step}"


def _fit_pair(values: np.ndarray, top_k: int) -> tuple[PowerLawResult, PowerLawResult]:
    """Top-k and free-xmin fits of the positive values."""
    return fit_power_law(values, n_tail=min(top_k, int(np.sum(values > 0)))), fit_power_law(values)


def pass_fraction(values: torch.Tensor, tail: float) -> tuple[float, float]:
    """Fractions of columns whose |values| pass d_ks < d_c with the top ``tail`` fraction and with a free xmin.

    Columns with fewer than 20 distinct non-zero values (e.g. weights of dead ReLUs) cannot be tested and are skipped.
    """
    cols = [c for c in values.abs().T.cpu().numpy() if len(np.unique(c[c > 0])) >= 20]
    if not cols:
        return float("nan"), float("nan")
    top = [fit_power_law(c, n_tail=max(2, int(tail * np.sum(c > 0)))).passes for c in cols]
    return float(np.mean(top)), float(np.mean([fit_power_law(c, **ITER_FIT).passes for c in cols]))


def train_state(model, data, chunk: int = 1000) -> tuple[float, float]:
    """Mean cross-entropy and accuracy on the training subset at the current theta, in chunks of images."""
    loss, hits = 0.0, 0
    with torch.no_grad():
        for i in range(0, len(data), chunk):
            out, y = model(data.x[i:i + chunk]), data.y[i:i + chunk]
            loss += float(F.cross_entropy(out, y, reduction="sum"))
            hits += int((out.argmax(1) == y).sum())
    return loss / len(data), hits / len(data)


def _ccdf(values: np.ndarray, points: int = 1500) -> tuple[np.ndarray, np.ndarray]:
    """Geometrically thinned empirical CCDF (x, P(X >= x)) of the positive values."""
    x = np.sort(values[values > 0])
    keep = np.unique(np.geomspace(1, len(x), min(points, len(x))).astype(int) - 1)
    return x[keep], 1.0 - keep / len(x)


def dimension_wise(model, data, cfg, batch_size: int, seed: int) -> dict:
    """Both rules (top_k and free xmin) on n_draws minibatch gradients and their noise g_B - g_full at this theta."""
    g_full = full_grad(model, F.cross_entropy, data.x, data.y)
    draws = batch_indices(len(data), batch_size, cfg.n_draws, seed=seed, device=data.x.device)
    fits = {"grad": [], "noise": []}  # (top_k, free) fit pairs of every draw
    out = {}
    for i, idx in enumerate(draws):
        g = full_grad(model, F.cross_entropy, data.x[idx], data.y[idx])
        abs_g, abs_n = g.abs().cpu().numpy(), (g - g_full).abs().cpu().numpy()
        fits["grad"].append(_fit_pair(abs_g, cfg.top_k))
        fits["noise"].append(_fit_pair(abs_n, cfg.top_k))
        if i == 0:
            (out["dim_top"], out["dim_free"]), (out["noise_top"], out["noise_free"]) = fits["grad"][0], fits["noise"][0]
            out["arrays"] = dict(zip(("ccdf_x", "ccdf_p"), _ccdf(abs_g)))
            rng = np.random.default_rng(seed)
            out["arrays"]["abs_sample"] = rng.choice(abs_g[abs_g > 0], min(5000, int(np.sum(abs_g > 0))), False)
    for key, name in (("grad", "dim"), ("noise", "noise")):
        out[f"{name}_pass_rate"] = float(np.mean([top.passes for top, _ in fits[key]]))
        out[f"{name}_pass_rate_free"] = float(np.mean([free.passes for _, free in fits[key]]))
    out["dim_betas"] = tuple(top.beta for top, _ in fits["grad"])
    return out


def analyze_checkpoint(model, data, cfg: GradientStructureConfig, step: int, batch_size: int, dataset: str,
                       name: str, with_spectrum: bool) -> Checkpoint:
    """Dimension-wise, iteration-wise and (with_spectrum) spectral tests at the current parameters of ``model``."""
    gen = torch.Generator().manual_seed(cfg.seed + step)
    p = sum(q.numel() for q in model.parameters())
    coords = torch.randperm(p, generator=gen)[: cfg.n_coords]
    dim = dimension_wise(model, data, cfg, min(batch_size, len(data)), cfg.seed + step + 1)
    pool = data.x[: cfg.n_spectrum], data.y[: cfg.n_spectrum]
    parts = gram_by_blocks(model, *pool, cfg.gram_block_bytes, coords, with_gram=with_spectrum)
    sub = parts.coords
    test_bs = tuple(min(b, len(sub)) for b in cfg.test_batch_sizes)  # capped only on data smaller than B (tests)
    iters = [minibatch_means(sub, b, cfg.n_batches, seed=cfg.seed + b) for b in test_bs]
    grads = [pass_fraction(it, ITER_TAIL) for it in iters]
    noises = [pass_fraction(it - sub.mean(0), ITER_TAIL) for it in iters]
    loss, acc = train_state(model, data)
    arrays = {**dim.pop("arrays"), "iter_coord0": iters[0][:, 0].cpu().numpy()}
    spec, mb_s, stab = None, (), None
    if with_spectrum:
        ev = centred_eigenvalues(parts.k)
        spec = fit_resolved_spectrum(ev, len(ev))
        arrays["eigenvalues"] = ev
        k = parts.k.double()
        m = min(cfg.n_batches, cfg.n_spectrum, 1000)
        mb_s = tuple(fit_resolved_spectrum(minibatch_spectrum(k, b, m, cfg.seed + b).cpu().numpy(), m).s
                     if b < len(k) else float("nan") for b in test_bs)  # B = n: every minibatch is the pool
        stab = split_stability(k / len(k), seed=cfg.seed + step, ks=SUBSPACE_KS)
    return Checkpoint(dataset=dataset, model=name, batch_size=batch_size, step=step, **dim,
                      iter_batch_sizes=test_bs, iter_pass_grad=tuple(g[0] for g in grads),
                      iter_pass_noise=tuple(g[0] for g in noises), iter_pass_grad_free=tuple(g[1] for g in grads),
                      iter_pass_noise_free=tuple(g[1] for g in noises), train_loss=loss, train_acc=acc,
                      var_fit=fit_power_law(parts.var.cpu().numpy()), spectrum=spec, minibatch_s=mb_s,
                      subspace=stab, arrays=arrays)


def run_setting(spec: RunSpec) -> dict:
    """Train one setting with the recipe and analyse every stage: the sweep record (JSON; NaN stored as null)."""
    cfg = spec.cfg
    device = resolve_device(cfg.device)
    before = torch.get_num_threads()
    if torch.device(device).type == "cpu":
        torch.set_num_threads(cfg.cpu_threads)
    try:
        return _run_setting(spec, device)
    finally:
        torch.set_num_threads(before)


def _run_setting(spec: RunSpec, device) -> dict:
    """run_setting's body, on ``device``."""
    cfg = spec.cfg
    data = training_data(spec.dataset, cfg.n_train, cfg.seed, device)
    model = build_model(spec.model, data, cfg.fcn_widths, cfg.resnet_width, cfg.seed, cfg.fcn_bias).to(device)
    batch = min(spec.batch_size, len(data))  # smaller only on a dataset smaller than B (tiny test files)
    total = epochs_of(cfg, spec.dataset) * (len(data) // batch)
    spec_steps = {int(round(f * total)) for f in cfg.spectrum_stages}
    cps = []
    train = train_with_checkpoints(model, data, cfg, batch, lambda step, m: cps.append(analyze_checkpoint(
        m, data, cfg, step, spec.batch_size, spec.dataset, spec.model, step in spec_steps)))
    return to_jsonable({**train, "params": sum(q.numel() for q in model.parameters()), "batch_used": batch,
                        "checkpoints": cps})


def checkpoint_from_record(r: dict) -> Checkpoint:
    """Rebuild a Checkpoint from its JSON record (None back to NaN, lists to tuples and arrays)."""
    nan = lambda v: float("nan") if v is None else v  # noqa: E731
    fit = lambda d: PowerLawResult(**{k: nan(v) for k, v in d.items()})  # noqa: E731
    spec = r["spectrum"] and SpectrumFit(**{**r["spectrum"], "fit": fit(r["spectrum"]["fit"]),
                                            **{k: tuple(map(nan, r["spectrum"][k])) for k in ("ks", "s_by_k")},
                                            "pass_by_k": tuple(r["spectrum"]["pass_by_k"])})
    sub = r["subspace"] and SubspaceStability(**{k: tuple(map(nan, v)) if isinstance(v, list) else nan(v)
                                                  for k, v in r["subspace"].items()})
    tup = {k: tuple(map(nan, r[k])) for k in ("dim_betas", "iter_batch_sizes", "iter_pass_grad", "iter_pass_noise",
                                              "iter_pass_grad_free", "iter_pass_noise_free",
                                              "minibatch_s")}
    return Checkpoint(**{**r, **tup, **{k: fit(r[k]) for k in ("dim_top", "dim_free", "noise_top", "noise_free",
                                                               "var_fit")},
                         "spectrum": spec or None, "subspace": sub or None,
                         "arrays": {k: np.asarray(v, dtype=float) for k, v in r["arrays"].items()}})


@dataclasses.dataclass(frozen=True)
class GradientStructureResult:
    """Every checkpoint of every setting, with the training curves."""

    checkpoints: list  # Checkpoint, in (setting, step) order
    train_losses: dict  # "dataset/model/B" -> decimated loss curve
    diverged: dict  # "dataset/model/B" -> bool
    settings: list  # (dataset, model, B) in run order

    def of(self, dataset: str, model: str, batch_size: int) -> list:
        """The checkpoints of one setting, in step order."""
        return [c for c in self.checkpoints if (c.dataset, c.model, c.batch_size) == (dataset, model, batch_size)]


def run_gradient_structure(cfg: GradientStructureConfig, sweep_kwargs: dict | None = None,
                           out_dir: str | Path | None = None) -> GradientStructureResult:
    """Every setting of the config through run_sweep (resumable); the records rebuilt as checkpoints."""
    sets = settings(cfg)
    specs = [RunSpec(cfg, d, m, b) for d, m, b in sets]
    out_dir = out_dir or output_dir(CHAPTER) / "runs"
    records = run_sweep(run_setting, specs, out_dir, progress=False, **(sweep_kwargs or {}))
    cps, losses, diverged = [], {}, {}
    for (d, m, b), rec in zip(sets, records):
        met = rec["metrics"]
        losses[f"{d}/{m}/B{b}"], diverged[f"{d}/{m}/B{b}"] = met.get("losses", []), bool(met.get("diverged", True))
        cps += [checkpoint_from_record(c) for c in met.get("checkpoints", [])]
    return GradientStructureResult(checkpoints=cps, train_losses=losses, diverged=diverged, settings=sets)
