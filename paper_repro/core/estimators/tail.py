"""Tail-index estimators: Mohammadi et al. (2015) block-sum estimator (as in Simsekli et al. 2019) and Hill."""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch

from ..config import ConfigError, check_choice, check_positive

METHODS = ("mohammadi", "hill")
EPS = float(np.spacing(1))  # the released code adds np.spacing(1) inside every log


@dataclasses.dataclass(frozen=True)
class TailIndexResult:
    """Estimated tail index alpha of a sample, with an approximate standard error."""

    alpha: float  # the estimate alpha-hat
    stderr: float  # approximate standard error of alpha-hat (delta method; nan when undefined)
    method: str  # "mohammadi" or "hill"
    n: int  # number of samples used (n_used)
    k: int  # block size K1 (mohammadi) or number of order statistics (hill)
    n_total: int = 0  # number of samples given (>= n; trailing samples past the last full block are dropped)

    @property
    def n_used(self) -> int:
        """Samples the estimate used (a multiple of K1 for mohammadi)."""
        return self.n

    @property
    def k1(self) -> int:
        """Block size K1 of the Mohammadi estimator (the order-statistics count k for Hill)."""
        return self.k

    @property
    def dropped(self) -> int:
        """Trailing samples left out so that whole blocks of K1 remain."""
        return max(self.n_total - self.n, 0)

    @property
    def ci95(self) -> tuple[float, float]:
        """Normal-approximation 95 % confidence interval."""
        return (self.alpha - 1.96 * self.stderr, self.alpha + 1.96 * self.stderr)


def largest_divisor_below_sqrt(n: int) -> int:
    """K1 of the released code: the largest divisor of n that is <= sqrt(n)."""
    for k in range(math.isqrt(n), 0, -1):
        if n % k == 0:
            return k
    return 1


def block_plan(n: int, k1: int | None = None) -> tuple[int, int]:
    """(n_used, K1) for N = n samples: the released rule K1 = largest divisor of N <= sqrt(N) when that K1 is at
    least sqrt(N)/2; otherwise (prime N, or no divisor near sqrt N) the fewest trailing samples are dropped so
    that n_used = N - d has such a divisor. With ``k1`` given: n_used = K1 * floor(N / K1)."""
    if k1 is not None:
        return (n // int(k1)) * int(k1), int(k1)
    lo = max(2, -(-math.isqrt(n) // 2))
    for d in range(n):
        m = n - d
        for k in range(math.isqrt(m), lo - 1, -1):
            if m % k == 0:
                return m, k
    return n, 2


def _as_flat(x) -> torch.Tensor:
    x = torch.as_tensor(x)
    if not x.is_floating_point():
        x = x.double()
    return x.reshape(-1)


def mohammadi(x, k1: int | None = None, eps: float = EPS) -> TailIndexResult:
    """1/alpha = (mean_i log|Y_i| - mean_k log|X_k|) / log K1, with Y_i the sums of K1 consecutive X_k.

    Mohammadi, Mohammadpour & Ogata (2015), exactly as pooled in Simsekli et al. (2019): K1 defaults to the
    largest divisor of N not above sqrt(N), so every sample is used. With k1 given, trailing samples past the
    last full block are dropped. Float64 input is reduced exactly in float64.
    """
    x = _as_flat(x)
    n = x.numel()
    if n < 4:
        raise ConfigError(f"the tail index needs at least 4 samples, got {n}")
    if k1 is not None:
        check_positive("k1", k1, integer=True)
        if k1 < 2 or k1 > n // 2:
            raise ConfigError(f"k1={k1} must be in [2, N/2] (N={n})")
    n_used, k1 = block_plan(n, k1)
    if x.dtype != torch.float64:  # float32 data: float32 logs, float64 sums (no double copy of a huge vector)
        acc = StreamingMohammadi(n, k1=k1, eps=eps)
        acc.update(x)
        return acc.result()
    xs = x[:n_used]
    log_x = torch.log(xs.abs() + eps)
    log_y = torch.log(xs.view(-1, k1).sum(1).abs() + eps)
    inv_alpha = (log_y.mean() - log_x.mean()).item() / math.log(k1)
    alpha = 1.0 / inv_alpha if inv_alpha != 0 else math.inf
    var_inv = (log_y.var().item() / log_y.numel() + log_x.var().item() / n_used) / math.log(k1) ** 2
    return TailIndexResult(alpha=alpha, stderr=alpha ** 2 * math.sqrt(var_inv), method="mohammadi", n=n_used, k=k1,
                           n_total=n)


def hill(x, k: int | None = None) -> TailIndexResult:
    """Hill (1975): 1/alpha = (1/k) sum_{i<k} log(|X|_(i) / |X|_(k)) over the k largest |X| (k defaults to sqrt(N))."""
    a = _as_flat(x).abs()
    a = a[a > 0]
    n = a.numel()
    k = int(math.isqrt(n)) if k is None else int(k)
    if not 2 <= k < n:
        raise ConfigError(f"k={k} must be in [2, N) with N={n} non-zero samples")
    top = torch.topk(a.double(), k + 1).values
    inv_alpha = (torch.log(top[:k]) - torch.log(top[k])).mean().item()
    alpha = 1.0 / inv_alpha if inv_alpha > 0 else math.inf
    return TailIndexResult(alpha=alpha, stderr=alpha / math.sqrt(k), method="hill", n=n, k=k, n_total=n)


def tail_index(x, method: str = "mohammadi", **kwargs) -> TailIndexResult:
    """Tail index alpha-hat of the pooled entries of ``x`` by ``method`` ("mohammadi" as in the paper, or "hill")."""
    check_choice("method", method, METHODS)
    return mohammadi(x, **kwargs) if method == "mohammadi" else hill(x, **kwargs)


class StreamingMohammadi:
    """The Mohammadi estimator over a pooled vector that arrives in pieces (never held in memory at once).

    ``update`` takes consecutive pieces of the pooled vector in order; blocks of K1 consecutive samples may
    straddle pieces. ``result()`` equals ``mohammadi(torch.cat(pieces), k1)``: K1 and the samples used follow
    :func:`block_plan` of ``n_total`` (samples past ``n_used`` are ignored).
    """

    def __init__(self, n_total: int, k1: int | None = None, eps: float = EPS):
        check_positive("n_total", n_total, integer=True)
        if k1 is not None and (int(k1) < 2 or int(k1) > n_total // 2):
            raise ConfigError(f"k1={k1} must be in [2, N/2] (N={n_total})")
        self.n_used, self.k1 = block_plan(n_total, k1)
        self.eps, self.n_total, self._seen = eps, n_total, 0
        self._left: torch.Tensor | None = None
        self._sx = self._sx2 = self._sy = self._sy2 = 0.0
        self.n = self.n_blocks = 0

    def update(self, piece) -> None:
        """Add the next consecutive piece of the pooled vector (float32 pieces are reduced in float64)."""
        piece = _as_flat(piece)
        piece = piece[:max(self.n_used - self._seen, 0)]  # trailing samples past n_used are dropped
        self._seen += piece.numel()
        if self._left is not None and self._left.numel():
            need = self.k1 - self._left.numel()
            head, piece = piece[:need], piece[need:]
            joined = torch.cat([self._left.to(head.device, head.dtype), head])
            if joined.numel() < self.k1:
                self._left = joined
                return
            self._add(joined)
        full = (piece.numel() // self.k1) * self.k1
        if full:
            self._add(piece[:full])
        self._left = piece[full:].clone()

    def _add(self, blocks: torch.Tensor, chunk: int = 1 << 20) -> None:
        step = max(1, chunk // self.k1) * self.k1  # cache-sized pieces, whole blocks each
        for i in range(0, blocks.numel(), step):
            b = blocks[i:i + step]
            lx = b.abs().add_(self.eps).log_()  # float32 stays float32: torch's cascade sums are accurate enough
            ly = b.view(-1, self.k1).sum(1).double().abs_().add_(self.eps).log_()
            self._sx += lx.sum().item()
            self._sx2 += torch.dot(lx, lx).item()
            self._sy += ly.sum().item()
            self._sy2 += torch.dot(ly, ly).item()
        self.n += blocks.numel()
        self.n_blocks += blocks.numel() // self.k1

    def result(self) -> TailIndexResult:
        """alpha-hat of everything seen so far (samples past the last full block are dropped)."""
        if self.n_blocks < 2:
            raise ConfigError("fewer than two full blocks seen")
        mx, my = self._sx / self.n, self._sy / self.n_blocks
        vx = max(self._sx2 / self.n - mx * mx, 0.0) * self.n / (self.n - 1)
        vy = max(self._sy2 / self.n_blocks - my * my, 0.0) * self.n_blocks / (self.n_blocks - 1)
        inv_alpha = (my - mx) / math.log(self.k1)
        alpha = 1.0 / inv_alpha if inv_alpha != 0 else math.inf
        stderr = alpha ** 2 * math.sqrt(vy / self.n_blocks + vx / self.n) / math.log(self.k1)
        return TailIndexResult(alpha=alpha, stderr=stderr, method="mohammadi", n=self.n, k=self.k1,
                               n_total=self.n_total)
