"""Chapter 4 (Xie, Tang, Sun, Li 2023): power-law tests on dimension-wise and iteration-wise stochastic gradients,
and the power-law spectrum of the gradient covariance, on LeNet / FCN trained with SGD on MNIST-like data."""
from __future__ import annotations

import dataclasses

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from ..config import (DEVICES, PROFILES, check_choice, check_positive, check_positive_all, check_range,
                      from_profile, resolve_device)
from ..data import batch_indices, load_dataset
from ..estimators.powerlaw import PowerLawResult, fit_power_law
from ..gradients import full_grad, gram, per_sample_grads
from ..models import lenet, mlp
from ..train import sgd_train
from .gradient_structure_subspace import SUBSPACE_KS, SubspaceStability, split_stability

MODELS = ("lenet", "fcn")
DATASETS = ("mnist", "fashion_mnist")
ITER_TAIL = 0.2  # tail fraction of the iteration-wise paper rule (the top 1000 of 5000 minibatches)
SPEC_KS = (50, 100, 200, 500, 1000, 2000)  # top-k eigenvalue counts scanned for the power-law range
ITER_FIT = {"max_candidates": 100, "ks_points": 500}  # fast (near-exact) fits for the many per-coordinate tests


@dataclasses.dataclass(frozen=True)
class GradientStructureConfig:
    """Settings of the chapter's real-gradient experiments (one validation error per bad field)."""

    profile: str = "quick"  # smoke | quick | paper
    device: str = "auto"  # auto | cpu | cuda
    datasets: tuple = DATASETS  # datasets, each trained separately
    models: tuple = MODELS  # "lenet" (LeNet-5) and/or "fcn" (ReLU MLP of widths fcn_widths)
    fcn_widths: tuple = (64, 64)  # hidden widths of the FCN
    n_train: int = 10_000  # training subset; minibatches are drawn from it
    steps: int = 1500  # SGD steps to the last stage
    stages: tuple = (0.0, 1.0)  # checkpoints as fractions of `steps` (0 = random init)
    lr: float = 0.05  # SGD learning rate
    batch_size: int = 64  # training batch size, and the minibatch of the dimension-wise test
    test_batch_sizes: tuple = (16, 64, 256)  # batch sizes of the iteration-wise test and minibatch spectra
    n_batches: int = 1000  # minibatches drawn at fixed theta (iteration-wise test)
    n_coords: int = 500  # random coordinates tested iteration-wise
    n_spectrum: int = 2000  # per-sample gradients behind the covariance spectrum
    top_k: int = 1000  # top values fitted under the paper's rule (top 1000: d_c = 0.0430), dimension-wise and spectra
    n_boot: int = 100  # synthetic sets of each bootstrap p-value (Clauset: >= 100)
    n_rep: int = 50  # seeded samples per size when measuring how often the rule accepts Gaussians
    accept_sizes: tuple = (300, 1000, 3000, 10_000)  # sample sizes of that measurement
    mech_coords: int = 100_000  # synthetic coordinates pooled in the mechanism check
    seed: int = 0  # seed of init, batches and coordinates

    def __post_init__(self) -> None:
        check_choice("profile", self.profile, PROFILES)
        check_choice("device", self.device, DEVICES)
        for d in self.datasets:
            check_choice("datasets element", d, DATASETS)
        for m in self.models:
            check_choice("models element", m, MODELS)
        for name in ("fcn_widths", "test_batch_sizes", "accept_sizes"):
            check_positive_all(name, getattr(self, name), integer=True)
        for name in ("n_train", "steps", "batch_size", "n_batches", "n_coords", "n_spectrum", "top_k", "n_boot",
                     "n_rep", "mech_coords"):
            check_positive(name, getattr(self, name), integer=True)
        check_positive("lr", self.lr)
        if not self.stages:
            raise ValueError("stages must not be empty")
        for f in self.stages:
            check_range("stages element", f, 0.0, 1.0)
        check_range("n_spectrum", self.n_spectrum, 2, self.n_train)
        check_range("top_k", self.top_k, 2, self.n_spectrum - 1)
        check_range("batch_size", self.batch_size, 1, self.n_train)
        check_range("max(test_batch_sizes)", max(self.test_batch_sizes), 1, self.n_spectrum)
        check_range("seed", self.seed, 0, 2 ** 31)


PRESETS = {
    "smoke": GradientStructureConfig(profile="smoke", datasets=("mnist",), models=("fcn",), n_train=1000, steps=60,
                                     test_batch_sizes=(16, 64), n_batches=300, n_coords=40, n_spectrum=400,
                                     top_k=200, n_boot=20, n_rep=10, accept_sizes=(300, 1000, 3000),
                                     mech_coords=20_000),
    "quick": GradientStructureConfig(profile="quick", stages=(0.0, 0.1, 1.0), n_batches=2000, n_coords=300),
    "paper": GradientStructureConfig(profile="paper", fcn_widths=(256, 256), n_train=60_000, steps=20_000,
                                     stages=(0.0, 0.1, 0.5, 1.0), test_batch_sizes=(16, 64, 256, 1024),
                                     n_batches=5000, n_coords=1000, n_spectrum=5000),
}


def make_config(profile: str = "quick", **overrides) -> GradientStructureConfig:
    """The profile's preset with the non-None overrides applied (validated)."""
    return from_profile(PRESETS, profile, **overrides)


@dataclasses.dataclass(frozen=True)
class CheckpointStructure:
    """All tests at one parameter vector theta (one dataset, model and training step)."""

    dataset: str  # dataset name
    model: str  # lenet | fcn
    step: int  # SGD steps taken (0 = random init)
    dim_grad: PowerLawResult  # dimension-wise |g_i| of one minibatch gradient, free xmin
    dim_grad_top: PowerLawResult  # same, top_k values only
    dim_noise: PowerLawResult  # dimension-wise |g_B - g_full|, free xmin
    dim_noise_top: PowerLawResult  # same, top_k values only
    iter_batch_sizes: tuple  # batch sizes of the iteration-wise tests
    iter_pass_grad: tuple  # fraction of coordinates whose |g_i| over minibatches passes d_ks < d_c (top iter_tail)
    iter_pass_noise: tuple  # same for the noise |g_i - g_full,i|
    iter_pass_grad_free: tuple  # same as iter_pass_grad with a free (KS-minimising) xmin
    iter_pass_noise_free: tuple  # same as iter_pass_noise with a free xmin
    iter_beta_grad: tuple  # median beta over coordinates (gradients, free xmin)
    spec_fit: PowerLawResult  # power law on the top_k eigenvalues of the per-sample gradient covariance
    spec_slope: float  # least-squares slope of log lambda_k vs log k over k <= top_k (= -s)
    minibatch_s: tuple  # s of the minibatch-gradient covariance (top min(top_k, M/2) of M <= 1000 minibatches), per B
    spec_by_k: tuple  # (k, s, d_ks, d_c, passes) of fits to the top k eigenvalues, k in SPEC_KS (k < n_spectrum)
    var_fit: PowerLawResult  # free-xmin fit of the per-coordinate variances of per-sample gradients (mechanism)
    subspace: SubspaceStability  # top-k covariance eigenspaces of two seeded sample halves vs the Davis-Kahan bound
    arrays: dict = dataclasses.field(default_factory=dict, repr=False)  # abs_grad, eigenvalues, example coords

    @property
    def label(self) -> str:
        """e.g. 'mnist/lenet@1500'."""
        return f"{self.dataset}/{self.model}@{self.step}"

    def row(self) -> dict:
        """Headline numbers as one flat table row."""
        d, t, s = self.dim_grad, self.dim_grad_top, self.spec_fit
        return {"setting": self.label, "dim_beta": t.beta, "dim_d_ks": t.ks_distance, "dim_d_c": t.critical_value,
                "dim_pass": t.passes, "dim_noise_pass": self.dim_noise_top.passes, "dim_beta_free": d.beta,
                "dim_xmin_free": d.xmin, "dim_n_tail_free": d.n_tail, "dim_pass_free": d.passes,
                **{f"iter_pass_g_B{b}": p for b, p in zip(self.iter_batch_sizes, self.iter_pass_grad)},
                **{f"iter_pass_n_B{b}": p for b, p in zip(self.iter_batch_sizes, self.iter_pass_noise)},
                **{f"iter_free_g_B{b}": p for b, p in zip(self.iter_batch_sizes, self.iter_pass_grad_free)},
                "spec_s": s.s, "spec_slope": self.spec_slope, "spec_d_ks": s.ks_distance,
                "spec_d_c": s.critical_value, "spec_pass": s.passes, "var_beta": self.var_fit.beta,
                "spec_pass_range": max([k for k, *_, ok in self.spec_by_k if ok], default=0),
                "noise_beta_free": self.dim_noise.beta, "noise_beta_predicted": 2 * self.var_fit.beta - 1,
                **self.subspace.row()}


def build_model(name: str, cfg: GradientStructureConfig, in_channels: int = 1) -> torch.nn.Module:
    """LeNet-5 or the bias-free ReLU FCN of the config, seeded."""
    torch.manual_seed(cfg.seed)
    return lenet(in_channels=in_channels) if name == "lenet" else mlp(784 * in_channels, list(cfg.fcn_widths), 10)


def per_sample_parts(model, x, y, coords, n_rows: int, chunk: int = 1000):
    """Per-sample gradients in chunks: their values at ``coords`` for all samples, full rows for the first n_rows."""
    sub, rows = [], []
    for i in range(0, len(x), chunk):
        g = per_sample_grads(model, F.cross_entropy, x[i:i + chunk], y[i:i + chunk])
        sub.append(g[:, coords].double())
        if i < n_rows:
            rows.append(g[: n_rows - i])
    return torch.cat(sub), torch.cat(rows)


def selection(n: int, batch_size: int, n_batches: int, seed: int, dtype=torch.float64, device="cpu"):
    """Sparse [n_batches, n] matrix S with S[m, mu] = 1/B for the samples mu of seeded random minibatch m."""
    idx = batch_indices(n, batch_size, n_batches, seed=seed, device=device)
    rows = torch.arange(n_batches, device=device).repeat_interleave(batch_size)
    vals = torch.full((idx.numel(),), 1.0 / batch_size, dtype=dtype, device=device)
    return torch.sparse_coo_tensor(torch.stack([rows, idx.reshape(-1)]), vals, (n_batches, n),
                                   check_invariants=True).coalesce()


def minibatch_means(values: torch.Tensor, batch_size: int, n_batches: int, seed: int) -> torch.Tensor:
    """Means of ``values`` [n, K] over seeded random minibatches: the iteration-wise gradients [n_batches, K]."""
    return torch.sparse.mm(selection(len(values), batch_size, n_batches, seed, values.dtype, values.device), values)


def pass_fraction(values: torch.Tensor, tail: float) -> tuple[float, float, float]:
    """Fractions of columns whose |values| pass d_ks < d_c with the top ``tail`` fraction and with a free xmin,
    and the median free-xmin beta.

    Columns with fewer than 20 distinct non-zero values (e.g. weights of dead ReLUs) cannot be tested and are skipped.
    """
    cols = [c for c in values.abs().T.cpu().numpy() if len(np.unique(c[c > 0])) >= 20]
    if not cols:
        return float("nan"), float("nan"), float("nan")
    top = [fit_power_law(c, n_tail=max(2, int(tail * np.sum(c > 0)))).passes for c in cols]
    fits = [fit_power_law(c, **ITER_FIT) for c in cols]
    return float(np.mean(top)), float(np.mean([f.passes for f in fits])), float(np.median([f.beta for f in fits]))


def minibatch_spectrum(k: torch.Tensor, batch_size: int, n_batches: int, seed: int) -> torch.Tensor:
    """Eigenvalues of the covariance of minibatch gradients S G, via S K S^T with K = G G^T (Gram trick), centred."""
    sel = selection(len(k), batch_size, n_batches, seed, k.dtype, k.device).to_dense()
    a = sel @ k @ sel.T
    a = a - a.mean(0, keepdim=True) - a.mean(1, keepdim=True) + a.mean()  # H A H: centre the minibatch gradients
    return torch.linalg.eigvalsh(a / n_batches).flip(0).clamp_min(0.0)


def analyze_checkpoint(model, data, cfg: GradientStructureConfig, step: int, dataset: str, name: str,
                       ) -> CheckpointStructure:
    """Dimension-wise, iteration-wise and spectral power-law tests at the current parameters of ``model``."""
    gen = torch.Generator().manual_seed(cfg.seed + step)
    x, y = data.x, data.y
    p = sum(q.numel() for q in model.parameters())
    coords = torch.randperm(p, generator=gen)[: cfg.n_coords].to(x.device)
    batch0 = batch_indices(len(x), cfg.batch_size, 1, seed=cfg.seed + step + 1, device=x.device)[0]
    g_full = full_grad(model, F.cross_entropy, x, y)
    g_b = full_grad(model, F.cross_entropy, x[batch0], y[batch0])
    abs_g, abs_n = g_b.abs().cpu().numpy(), (g_b - g_full).abs().cpu().numpy()
    sub, rows = per_sample_parts(model, x, y, coords, cfg.n_spectrum)
    mean_sub = sub.mean(0)
    iters = [minibatch_means(sub, b, cfg.n_batches, seed=cfg.seed + b) for b in cfg.test_batch_sizes]
    grads = [pass_fraction(it, ITER_TAIL) for it in iters]
    noises = [pass_fraction(it - mean_sub, ITER_TAIL) for it in iters]
    k = gram(rows, center=True).double()
    ev = torch.linalg.eigvalsh(k).flip(0).clamp_min(0.0).cpu().numpy()
    top = ev[: cfg.top_k]
    spec = fit_power_law(top, n_tail=int(np.sum(top > 0)))
    by_k = tuple((k, f.s, f.ks_distance, f.critical_value, f.passes) for k in SPEC_KS if k < len(ev)
                 for f in [fit_power_law(ev[:k], n_tail=int(np.sum(ev[:k] > 0)))])
    slope = float(np.polyfit(np.log(np.arange(1, len(top) + 1)[top > 0]), np.log(top[top > 0]), 1)[0])
    mb_s = []
    for b in cfg.test_batch_sizes:
        ev_b = minibatch_spectrum(k * len(k), b, min(cfg.n_batches, cfg.n_spectrum, 1000), cfg.seed + b).cpu().numpy()
        top_b = ev_b[: min(cfg.top_k, len(ev_b) // 2)]  # M minibatches resolve about M/2 eigenvalues
        mb_s.append(fit_power_law(top_b, n_tail=int(np.sum(top_b > 0))).s)
    stab = split_stability(k, seed=cfg.seed + step, ks=SUBSPACE_KS)  # n x n work on the Gram matrix only
    it0 = minibatch_means(sub, cfg.batch_size, cfg.n_batches, seed=cfg.seed)[:, 0]
    return CheckpointStructure(
        dataset=dataset, model=name, step=step, dim_grad=fit_power_law(abs_g),
        dim_grad_top=fit_power_law(abs_g, n_tail=min(cfg.top_k, int(np.sum(abs_g > 0)))),
        dim_noise=fit_power_law(abs_n),
        dim_noise_top=fit_power_law(abs_n, n_tail=min(cfg.top_k, int(np.sum(abs_n > 0)))),
        iter_batch_sizes=tuple(cfg.test_batch_sizes), iter_pass_grad=tuple(g[0] for g in grads),
        iter_pass_noise=tuple(n[0] for n in noises), iter_pass_grad_free=tuple(g[1] for g in grads),
        iter_pass_noise_free=tuple(n[1] for n in noises), iter_beta_grad=tuple(g[2] for g in grads), spec_fit=spec,
        spec_slope=slope, minibatch_s=tuple(mb_s), spec_by_k=by_k,
        var_fit=fit_power_law(rows.var(0).double().cpu().numpy()), subspace=stab,
        arrays={"subspace_sin_theta": np.array(stab.sin_theta), "subspace_dk_bound": np.array(stab.dk_bound),
                "abs_grad": abs_g, "eigenvalues": ev, "iter_coord0": it0.cpu().numpy(), "minibatch_eigs": ev_b,
                "iter_coord0_mean": float(mean_sub[0])})


@dataclasses.dataclass(frozen=True)
class GradientStructureResult:
    """Every checkpoint analysed, with the SGD training curves."""

    checkpoints: list  # CheckpointStructure, in (dataset, model, step) order
    train_losses: dict  # "dataset/model" -> minibatch losses
    diverged: dict  # "dataset/model" -> bool

    def rows(self) -> list[dict]:
        """Table rows of all checkpoints."""
        return [c.row() for c in self.checkpoints]

    def get(self, dataset: str, model: str, stage: str = "last") -> CheckpointStructure:
        """The checkpoint of (dataset, model) at the first or last stage."""
        cs = [c for c in self.checkpoints if c.dataset == dataset and c.model == model]
        return cs[0] if stage == "first" else cs[-1]


def run_gradient_structure(cfg: GradientStructureConfig, progress: bool = True) -> GradientStructureResult:
    """Train each (dataset, model) with SGD and analyse the gradients at every stage of ``cfg.stages``."""
    device = resolve_device(cfg.device)
    checkpoints, losses, diverged = [], {}, {}
    stage_steps = sorted({int(round(f * cfg.steps)) for f in cfg.stages})
    jobs = [(d, m) for d in cfg.datasets for m in cfg.models]
    for dataset, name in tqdm(jobs, desc="settings", disable=not progress):
        data = load_dataset(dataset, device=device).random_subset(cfg.n_train, seed=cfg.seed)
        model = build_model(name, cfg).to(device)
        done = 0
        for step in stage_steps:
            if step > done:
                res = sgd_train(model, F.cross_entropy, data.x, data.y, cfg.lr, cfg.batch_size, step - done,
                                seed=cfg.seed + done)
                losses[f"{dataset}/{name}"] = np.concatenate([losses.get(f"{dataset}/{name}", []), res.losses])
                diverged[f"{dataset}/{name}"] = res.diverged
                done = step
                if res.diverged:
                    break
            checkpoints.append(analyze_checkpoint(model, data, cfg, step, dataset, name))
    return GradientStructureResult(checkpoints=checkpoints, train_losses=losses, diverged=diverged)
