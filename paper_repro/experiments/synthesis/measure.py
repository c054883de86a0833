"""All four papers' quantities at one checkpoint, on one set of noise samples, by the chapters' own estimators.

The noise samples: per-sample gradients G [n_pool, P] of a fixed pool of training samples; n_batches minibatches
of size B drawn from the pool (chapter 4's selection); noise = minibatch gradient - pool gradient [n_batches, P].
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from scipy.sparse.linalg import LinearOperator, eigsh

from ...core.estimators import fit_power_law, tail_index
from ...core.gradients import params_of, per_sample_grads
from ...core.models import accuracy
from ..escape_rate.linear_sgd import phi_theory
from ..escape_rate.noise_strength import half_sq, noise_strength
from ..gradient_structure import ITER_TAIL
from ..gradient_structure.run import pass_fraction
from ..gradient_structure.spectrum import centred_eigenvalues, fit_resolved_spectrum, minibatch_means
from ..sgd_regimes.ensemble import _layer_changes
from ..tail_index.measure import fixed_alpha, pooling_variants


def loss_fn(loss: str):
    """The training loss: Mori's half squared error on one-hot targets, or cross-entropy."""
    return half_sq if loss == "mse" else F.cross_entropy


def targets(y: torch.Tensor, loss: str, classes: int) -> torch.Tensor:
    """One-hot float targets for the squared error, class labels for cross-entropy."""
    return F.one_hot(y, classes).float() if loss == "mse" else y


def hessian_top(model, lossf, x, y, ncv: int = 12, seed: int = 0) -> tuple[float, np.ndarray]:
    """Largest Hessian eigenvalue h* of the loss on (x, y) and its eigenvector, by Lanczos (scipy eigsh) on exact
    Hessian-vector products (double backward through one retained gradient graph)."""
    params = [p for p in model.parameters() if p.requires_grad]
    was = model.training
    model.eval()
    grads = torch.autograd.grad(lossf(model(x), y), params, create_graph=True)
    flat = torch.cat([g.reshape(-1) for g in grads])
    p = flat.numel()

    def hvp(v: np.ndarray) -> np.ndarray:
        vt = torch.as_tensor(np.asarray(v).reshape(-1), dtype=flat.dtype, device=flat.device)
        out = torch.autograd.grad(flat, params, grad_outputs=vt, retain_graph=True, allow_unused=True)
        return torch.cat([(o if o is not None else torch.zeros_like(q)).reshape(-1)
                          for o, q in zip(out, params)]).double().cpu().numpy()

    op = LinearOperator((p, p), matvec=hvp, dtype=np.float64)
    v0 = np.random.default_rng(seed).standard_normal(p)
    try:
        if not np.any(hvp(v0)):  # a zero Hessian (e.g. every unit dead on these samples): h* = 0
            return 0.0, v0 / np.linalg.norm(v0)
        val, vec = eigsh(op, k=1, which="LA", ncv=min(ncv, p - 1), tol=1e-2, v0=v0, maxiter=50 * p)
        return float(val[0]), vec[:, 0]
    finally:
        model.train(was)


def weight_change(model, init: dict) -> float:
    """Sclocchi et al.'s relative weight change ||w - w0|| / ||w0|| (chapter 2's own function)."""
    final = {k: v.detach().unsqueeze(0) for k, v in params_of(model).items()}
    return float(_layer_changes(final, {k: v.unsqueeze(0) for k, v in init.items()})[1][0])


def noise_samples(model, lossf, x, y, batch_size: int, n_batches: int, seed: int):
    """(per-sample gradients G, minibatch gradients S G, noise S G - mean G) at the current parameters, on the
    coordinates whose gradient is not identically zero on the pool."""
    model.eval()
    g = per_sample_grads(model, lossf, x, y, chunk_size=64)
    g = g[:, g.abs().amax(0) > 0]  # coordinates with no gradient on the pool (dead units) carry no noise: dropped
    mb = minibatch_means(g, batch_size, n_batches, seed)
    return g, mb, mb - g.mean(0, keepdim=True)


def scale_mixture(noise: torch.Tensor, k1: int, seed: int = 0, max_entries: int = 0) -> dict:
    """Pooled alpha-hat of Gaussian noise with exactly the measured per-coordinate variances (diagonal), with
    robust per-coordinate scales (root mean square without the max(2, n/32) largest |values| of the coordinate:
    close to the standard deviation for Gaussian data, not inflated by a few large draws of heavy-tailed data), and
    with the measured (rank <= n_batches) covariance: Z N / sqrt(n - 1), Z i.i.d. normal [n, n] (mechanism a).
    Coordinates whose robust scale is 0 (fewer non-zero draws than trimmed) are left out of the robust mixture.
    With ``max_entries`` > 0, a random subset of about max_entries / n coordinates is used."""
    gen = torch.Generator(device=noise.device).manual_seed(seed)
    n = len(noise)
    if max_entries and noise.numel() > max_entries:  # a random subset of coordinates: the same mixture of scales
        keep = torch.randperm(noise.shape[1], generator=gen, device=noise.device)[:max(max_entries // n, 1)]
        noise = noise[:, keep]
    trim = max(2, n // 32)
    scale = (noise - noise.median(0, keepdim=True).values).abs().sort(0).values[:n - trim].pow(2).mean(0, keepdim=True).sqrt()
    robust = torch.randn(noise.shape, generator=gen, device=noise.device) * scale
    live = scale.reshape(-1) > 0
    diag = torch.randn(noise.shape, generator=gen, device=noise.device) * noise.std(0, keepdim=True)
    centred = noise - noise.mean(0, keepdim=True)
    low = torch.randn((n, n), generator=gen, device=noise.device) @ centred / math.sqrt(n - 1)
    return {"mix_diag": fixed_alpha(diag.reshape(-1), k1).alpha, "mix_lowrank": fixed_alpha(low.reshape(-1), k1).alpha,
            "mix_robust": fixed_alpha(robust[:, live].reshape(-1), k1).alpha if live.sum() * n >= 4 * k1 else float("nan"),
            "zero_frac": float((noise == 0).float().mean())}


def coordinate_tails(g: torch.Tensor, noise: torch.Tensor, top: int, batch_size: int, n: int, seed: int) -> dict:
    """Mohammadi alpha-hat (default K1) and the power-law test of each of the ``top`` highest-variance coordinates
    across ``n`` fresh minibatches of the pool (only those columns are drawn: cheap at any n) (mechanism b)."""
    idx = torch.argsort(noise.var(0), descending=True)[:top]
    sub = g[:, idx].double()
    cols = (minibatch_means(sub, batch_size, n, seed + 1) - sub.mean(0, keepdim=True)).cpu()
    alphas = [tail_index(c).alpha for c in cols.T]
    top_rate, _ = pass_fraction(cols, ITER_TAIL)
    return {"coord_alphas": alphas, "coord_pass": top_rate}


def xie_tests(g: torch.Tensor, mb: torch.Tensor, cfg, seed: int, mb_size: int) -> dict:
    """Dimension-wise test on one minibatch gradient, iteration-wise pass rates on n_coords random coordinates
    (each over coord_batches fresh minibatches of size mb_size: only those columns are drawn), and the covariance
    spectrum exponent s of the per-sample gradients (chapter 4's estimators)."""
    one = mb[0].abs().cpu().numpy()
    live = int(np.sum(one > 0))
    dim = fit_power_law(one, n_tail=min(cfg.top_k, live // 2)) if live >= 40 else None
    coords = torch.randperm(g.shape[1], generator=torch.Generator().manual_seed(seed))[:cfg.n_coords]
    cols = minibatch_means(g[:, coords.to(g.device)].double(), mb_size, cfg.coord_batches, seed + 2)
    iter_top, iter_free = pass_fraction(cols, ITER_TAIL)
    gd = g.double()
    spec = fit_resolved_spectrum(centred_eigenvalues(gd @ gd.T), n=len(g))
    nan = float("nan")
    return {"dim_pass": float(dim.passes) if dim else nan, "dim_beta": dim.beta if dim else nan,
            "iter_pass": iter_top, "iter_pass_free": iter_free, "spectrum_s": spec.s, "spectrum_pass": float(spec.fit.passes) if spec.pass_by_k else float("nan")}


TAIL_KEYS = ("alpha_pooled", "alpha_sqrt_n", "alpha_std", "alpha_std_cal", "mix_diag", "mix_lowrank", "mix_robust", "zero_frac",
             "coord_pass", "dim_pass", "dim_beta", "iter_pass", "iter_pass_free", "spectrum_s", "spectrum_pass")


def quantities(model, lossf, pool, test, init: dict, batch_size: int, lr: float, cfg, calib: dict, seed: int,
               with_hessian: bool = True) -> dict:
    """Every paper's quantities at the current parameters (one checkpoint), plus mechanisms a and b."""
    from ..tail_index.sweeps import equivalent_alpha

    g, mb, noise = noise_samples(model, lossf, pool.x, pool.y, batch_size, cfg.n_batches, seed)
    out = dict.fromkeys(TAIL_KEYS, float("nan"))
    if g.shape[1] >= max(cfg.top_coords, 8):  # else (a dead net) the noise has (almost) no live coordinate
        var = pooling_variants(noise.clone(), cfg.k1_fixed, max_elements=cfg.max_pooled, seed=seed)
        out.update({"alpha_pooled": var["pooled"], "alpha_sqrt_n": var["pooled_sqrt_n"],
                    "alpha_std": var["standardised_permuted"],
                    "alpha_std_cal": equivalent_alpha(calib, var["standardised_permuted"]),
                    **scale_mixture(noise, cfg.k1_fixed, seed, cfg.max_pooled), **xie_tests(g, mb, cfg, seed, batch_size),
                    **coordinate_tails(g, noise, cfg.top_coords, batch_size, cfg.coord_batches, seed)})
    out["live_coords"] = g.shape[1]
    with torch.no_grad():
        train_loss = float(lossf(model.eval()(pool.x), pool.y))
    out.update(train_loss=train_loss, noise_strength=noise_strength(model, lossf, pool.x, pool.y, chunk_size=64),
               weight_change=weight_change(model, init))
    out["test_error"] = 1.0 - accuracy(model, test.x, test.y) if test is not None else float("nan")
    if with_hessian:
        sub = pool.first(min(cfg.n_hessian, len(pool)))
        h, _ = hessian_top(model, lossf, sub.x, sub.y, cfg.lanczos_ncv, seed)
        out.update(h_top=h, phi=phi_theory(lr, batch_size, h) if h > 0 else float("nan"))
    return out
