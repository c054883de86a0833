"""Chapter 4 (Xie et al. 2023): is the top "learning subspace" of the gradient covariance stable?

Two disjoint halves A and B of the per-sample gradients give covariances C_A and C_B. We compare their top-k
eigenspaces (largest principal-angle sine) with the Davis-Kahan sin-Theta bound in the form of Yu, Wang & Samworth
(2015, Theorem 2). Everything goes through n x n Gram matrices; no P x P matrix is ever formed.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import scipy.linalg
import torch
from scipy.linalg import lapack
from scipy.sparse.linalg import LinearOperator, eigsh

from ...core.results import to_numpy
from .spectrum import few_threads

SUBSPACE_KS = (1, 2, 5, 10, 20, 50)  # sizes k of the top-k eigenspaces compared across the two halves


@dataclasses.dataclass(frozen=True)
class SubspaceStability:
    """sin Theta_k = ||(I - U_A U_A^T) U_B||_op vs the bound 2 min(sqrt(k) ||E||_op, ||E||_F) / (l_k - l_k+1)."""

    ks: tuple  # subspace sizes k (those with k + 1 < both half sizes)
    sin_theta: tuple  # largest principal-angle sine between the top-k eigenvectors of C_A and of C_B
    dk_bound: tuple  # Davis-Kahan (Yu-Wang-Samworth) bound, unclipped (inf where the gap is 0); lambda of C_A
    rel_gap: tuple  # (lambda_k - lambda_k+1) / lambda_k of C_A
    e_op: float  # ||C_A - C_B||_op
    e_fro: float  # ||C_A - C_B||_F

    def row(self) -> dict:
        """Flat table columns: sub_sin_k*, sub_dk_k* (clipped at 1: 1 = vacuous), sub_gap_k*, ||E||."""
        return {**{f"sub_sin_k{k}": s for k, s in zip(self.ks, self.sin_theta)},
                **{f"sub_dk_k{k}": min(b, 1.0) for k, b in zip(self.ks, self.dk_bound)},
                **{f"sub_gap_k{k}": g for k, g in zip(self.ks, self.rel_gap)},
                "sub_e_op": self.e_op, "sub_e_fro": self.e_fro}


def top_eigen(k: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """The m largest eigenvalues (descending) and eigenvectors of the symmetric matrix k."""
    kt = torch.as_tensor(k, dtype=torch.float64)
    with few_threads(kt):
        lam, vec = torch.linalg.eigh(kt)
    return lam.numpy()[::-1][:m].copy(), vec.numpy()[:, ::-1][:, :m].copy()


def difference_op_norm(kz: np.ndarray, d: np.ndarray, dense_below: int = 300, seed: int = 0) -> float:
    """||Z^T diag(d) Z||_op from K = Z Z^T alone: K = L L^T (pivoted Cholesky), so Z = L Q^T with Q orthonormal and
    the non-zero eigenvalues are those of L^T diag(d) L (dense, or Lanczos on its matvec for rank >= dense_below)."""
    c, piv, rank, info = lapack.dpstrf(kz, lower=1)
    if info < 0:
        raise ValueError(f"dpstrf failed (info={info})")
    low = np.tril(c)[:, :rank]
    dp = d[piv - 1]
    if rank < max(dense_below, 3):
        low_t = torch.as_tensor(low)
        with few_threads(low_t):
            ev = torch.linalg.eigvalsh(low_t.T @ (torch.as_tensor(dp)[:, None] * low_t))
        return float(ev.abs().max()) if len(ev) else 0.0
    op = LinearOperator((rank, rank), matvec=lambda x: low.T @ (dp * (low @ x)), dtype=np.float64)
    v0 = np.random.default_rng(seed).standard_normal(rank)
    return float(np.abs(eigsh(op, k=1, which="LM", tol=0, v0=v0, return_eigenvectors=False)).max())


def stability_from_gram(kz: np.ndarray, n_a: int, ks=SUBSPACE_KS, dense_below: int = 300) -> SubspaceStability:
    """Subspace stability from K = Z Z^T, Z = [A_c; B_c] the per-half-centred rows (first n_a rows: half A)."""
    kz = np.asarray(kz, dtype=np.float64)
    n_b = len(kz) - n_a
    ks = tuple(int(k) for k in ks if k + 1 < min(n_a, n_b))
    m = max(ks, default=0) + 1
    lam_a, v_a = top_eigen(kz[:n_a, :n_a] / n_a, m)
    lam_b, v_b = top_eigen(kz[n_a:, n_a:] / n_b, m)
    # U = Z_half^T V diag(n_half lambda)^(-1/2) has orthonormal columns, so U_A^T U_B needs only the cross block of K
    tiny = np.finfo(np.float64).tiny
    w_a, w_b = v_a / np.sqrt(np.maximum(n_a * lam_a, tiny)), v_b / np.sqrt(np.maximum(n_b * lam_b, tiny))
    cross = w_a.T @ kz[:n_a, n_a:] @ w_b
    sin = [float(np.sqrt(max(0.0, 1.0 - min(1.0, scipy.linalg.svdvals(cross[:k, :k]).min()) ** 2))) for k in ks]
    d = np.r_[np.full(n_a, 1.0 / n_a), np.full(n_b, -1.0 / n_b)]  # E = C_A - C_B = Z^T diag(d) Z
    e_fro = float(np.sqrt(max(0.0, d @ (kz ** 2) @ d)))  # ||E||_F^2 = trace((K D)^2)
    e_op = difference_op_norm(kz, d, dense_below)
    gaps = [lam_a[k - 1] - lam_a[k] for k in ks]
    bound = [2 * min(np.sqrt(k) * e_op, e_fro) / g if g > 0 else np.inf for k, g in zip(ks, gaps)]
    rel = [g / lam_a[k - 1] if lam_a[k - 1] > 0 else 0.0 for k, g in zip(ks, gaps)]
    return SubspaceStability(ks=ks, sin_theta=tuple(sin), dk_bound=tuple(float(b) for b in bound),
                             rel_gap=tuple(float(r) for r in rel), e_op=e_op, e_fro=e_fro)


def _centred(rows) -> np.ndarray:
    """Rows as float64 numpy, minus their mean."""
    x = np.asarray(to_numpy(rows), dtype=np.float64)
    return x - x.mean(0, keepdims=True)


def subspace_stability(rows_a, rows_b, ks=SUBSPACE_KS, dense_below: int = 300) -> SubspaceStability:
    """sin Theta_k of the top-k eigenspaces of C_A, C_B vs the Davis-Kahan bound (Yu, Wang & Samworth 2015, Thm 2)."""
    z = np.concatenate([_centred(rows_a), _centred(rows_b)])
    return stability_from_gram(z @ z.T, len(rows_a), ks, dense_below)


def centre_halves(k: np.ndarray, n_a: int) -> np.ndarray:
    """Gram of per-half-centred rows, M K M with M = I - blockdiag(11^T / n_a, 11^T / n_b), from any Gram K."""
    k = np.asarray(k, dtype=np.float64)
    avg = np.zeros((len(k), 2))
    avg[:n_a, 0], avg[n_a:, 1] = 1.0 / n_a, 1.0 / (len(k) - n_a)
    ind = (avg > 0).astype(np.float64)
    means = avg.T @ k  # half means of the rows of K, [2, n]
    k = k - ind @ means
    return k - (k @ avg) @ ind.T


def split_stability(k_mean, seed: int, ks=SUBSPACE_KS) -> SubspaceStability:
    """Subspace stability of two seeded random halves of the samples, from their Gram matrix G G^T / n
    (``gradients.gram``, centred or not): the rows are permuted, re-centred per half and rescaled, no P-space work."""
    k = np.asarray(to_numpy(k_mean), dtype=np.float64)
    n = len(k)
    perm = np.random.default_rng(seed).permutation(n)
    kz = centre_halves(k[np.ix_(perm, perm)] * n, n // 2)
    return stability_from_gram(kz, n // 2, ks)
