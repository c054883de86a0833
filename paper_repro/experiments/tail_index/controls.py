"""Chapter 1 (Simsekli et al. 2019): every verdict rule run on synthetic data where its claim holds and where the
alternative holds (``core.verdicts.run_controls``), with the chapter's settings, seeds and sample sizes.

The nets' alpha-hat comes from i.i.d. SaS samples of ``n`` components (the chapter uses n = min(control_n, the
smallest noise vector of its nets)) read by the same estimator, so the seed spread is the estimator's own; the
two-phase rule gets a flat or V-shaped alpha-hat series with Gaussian jitter of the tracked runs' size.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import torch

from ...core.estimators.tail import tail_index
from ...core.verdicts import ControlResult, run_controls, threshold_verdict
from . import claims as tc
from . import phases
from .noise import sample_sas
from .sweeps import NetTable

ARCH_ALPHAS = (1.1, 1.4)  # alpha at the smallest and largest setting when alpha depends on it (span 0.3)
FLAT_ALPHA = 1.25  # alpha of every setting when it does not
V_DROP, V_JUMP = 0.06, 0.08  # drop and jump of the V-shaped series (the third-party log: 0.06, then 0.06-0.09)


@dataclasses.dataclass(frozen=True)
class ControlSetup:
    """What the controls mimic: settings per sweep, seeds, SaS sample size, tracked series length and jitter."""

    n_settings: int  # settings of the width (or depth) sweep
    n_batch: int  # batch sizes of the batch sweep
    n_nets: int  # nets in the pooled "alpha-hat < 2" rule
    seeds: int  # seeds per setting
    n: int  # SaS components per synthetic net
    n_points: int  # points of a tracked series (dense window)
    jitter: float  # point-to-point jitter of a tracked series
    n_boot: int  # bootstrap draws of the two-phase null


def setup(cfg, nets: dict, jitter: float, n_points: int) -> ControlSetup:
    """The chapter's setup: its grids and seeds, n = min(control_n, smallest noise vector of its nets)."""
    sizes = [r["n_params"] * (r["n_train"] // r["batch_size"]) for t in nets.values() for r in t.ok if "n_params" in r]
    n = int(min([cfg.control_n, *sizes]))
    return ControlSetup(len(cfg.widths), len(cfg.batch_sizes), min(len(cfg.widths) * len(cfg.seeds), 6),
                        len(cfg.seeds), n, max(n_points, 5), jitter if np.isfinite(jitter) and jitter > 0 else 0.01,
                        cfg.phase_boot)


def _alpha_hat(alpha: float, n: int, rng: np.random.Generator) -> tuple[float, float]:
    res = tail_index(sample_sas(alpha, n, generator=torch.Generator().manual_seed(int(rng.integers(2**62)))))
    return res.alpha, res.stderr


def synthetic_sweep(alphas, seeds: int, n: int, rng, x: str = "width") -> NetTable:
    """A sweep table whose setting k has true alpha ``alphas[k]``, alpha-hat from SaS samples, one row per seed."""
    rows = []
    for k, a in enumerate(alphas):
        for s in range(seeds):
            ah, se = _alpha_hat(a, n, rng)
            rows.append({x: k, "seed": s, "loss": "nll", "dataset": "synthetic", "alpha_train": ah,
                         "alpha_train_fixed": ah, "stderr_train": se})
    return NetTable(rows)


def _ramp(k: int, lo: float, hi: float) -> np.ndarray:
    return np.linspace(lo, hi, k)


def track_series(su: ControlSetup, rng, v_shape: bool) -> list:
    """A tracked series: accuracy rising from 10 % to 98 % over the first half; alpha-hat flat, or dropping by V_DROP
    over the first sixth and rising by V_JUMP over the next sixth, plus Gaussian jitter."""
    n = su.n_points
    k = max(n // 6, 2)
    base = np.full(n, 1.2)
    if v_shape:
        base[:k] = _ramp(k, 1.2 + V_DROP, 1.2)
        base[k:2 * k] = _ramp(k, 1.2, 1.2 + V_JUMP)
        base[2 * k:] = 1.2 + V_JUMP
    acc = 0.1 + 0.88 * np.minimum(np.arange(n) / max(n / 2, 1), 1.0)
    a = base + su.jitter * rng.standard_normal(n)
    return [{"step": 5 * i, "alpha": float(a[i]), "train_acc": float(acc[i])} for i in range(n)]


def rules(su: ControlSetup) -> dict:
    """name -> (rule, draw where the claim holds, draw from the alternative)."""
    below = lambda table: tc.claim_alpha_below_2(_CFG, {"width": table}).verdict  # noqa: E731
    arch = lambda table: tc.span_verdict(*tc.sweep_span(table, "width", "alpha_train"))  # noqa: E731
    batch = lambda table: threshold_verdict(*_interval(tc.sweep_span(table, "width", "alpha_train")), 0.1, 0.25)  # noqa: E731,E501

    def phase(track):
        return phases.phase_verdict(phases.phase_test(track, n_boot=su.n_boot, seed=1), phases.first_share(track))

    nets = lambda a: (lambda rng: (synthetic_sweep([a] * su.n_nets, 1, su.n, rng),))  # noqa: E731
    sweep = lambda alphas: (lambda rng: (synthetic_sweep(alphas, su.seeds, su.n, rng),))  # noqa: E731
    return {"α̂ < 2 in every setting": (below, nets(1.2), nets(2.0)),
            "α̂ depends on width / depth": (arch, sweep(_ramp(su.n_settings, *ARCH_ALPHAS)),
                                            sweep([FLAT_ALPHA] * su.n_settings)),
            "batch size changes α̂ little": (batch, sweep([FLAT_ALPHA] * su.n_batch),
                                             sweep(_ramp(su.n_batch, 1.05, 1.45))),
            "drop then jump": (phase, lambda rng: (track_series(su, rng, True),),
                               lambda rng: (track_series(su, rng, False),))}


def _interval(span_err: tuple[float, float]) -> tuple[float, float]:
    span, err = span_err
    return span - tc.Z * err, span + tc.Z * err


class _Cfg:  # the fields claim_alpha_below_2 reads
    dataset, profile = "synthetic", "controls"


_CFG = _Cfg()


def run_all(su: ControlSetup, n_rep: int, seed: int = 0) -> dict[str, ControlResult]:
    """Every rule on ``n_rep`` draws of each side."""
    return {name: dataclasses.replace(run_controls(rule, pos, neg, n_rep=n_rep, seed=seed), rule=name)
            for name, (rule, pos, neg) in rules(su).items()}
