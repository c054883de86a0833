"""Chapter 1 (Simsekli et al. 2019): alpha-hat along training, the drop-then-jump test and its calibrated null.

The tracked runs measure alpha-hat every few iterations early in training (where a third-party log made with the
released estimator shows the drop and the jump, within the first 100 iterations at b = 100), then at the released
cadence. The statistic is S = min(drop, jump): the drop into the series' minimum over the accuracy rise (up to the
first point with 90 % of the rise made) from the highest point before it, and the jump from that minimum to the
highest point after it. Its null distribution is that of a flat series with the series' own jitter: independent
Gaussian values whose standard deviation is that of the point-to-point differences / sqrt(2) (the jitter's when it
is independent from point to point; larger when the series moves, which makes the test conservative). A bootstrap
of the differences themselves caps the null's extremes at the observed ones and passed a flat series 9 % of the
time at level 5 %; the Gaussian null passes it 2-3 % of the time (tests/test_tail_index_phases.py).
"""
from __future__ import annotations

import numpy as np

from ...core.results import Claim
from ...core.verdicts import VERDICTS

P_LEVEL = 0.05  # significance level of the drop-then-jump test (derived here)
SMOOTH = 1  # running-mean window applied to the series and to every null draw (1: none; derived here)
RISE = (0.1, 0.9)  # the accuracy rise: from 10 % to 90 % of the way from the first value to the maximum


def smooth(a: np.ndarray, w: int = SMOOTH) -> np.ndarray:
    """Running mean over ``w`` points (shorter at the ends), along the last axis."""
    if w <= 1 or a.shape[-1] < w:
        return a
    c = np.cumsum(np.pad(a, [(0, 0)] * (a.ndim - 1) + [(1, 0)]), axis=-1)
    h = w // 2
    idx = np.arange(a.shape[-1])
    lo, hi = np.maximum(idx - h, 0), np.minimum(idx + h + 1, a.shape[-1])
    return (c[..., hi] - c[..., lo]) / (hi - lo)


def drop_jump(a: np.ndarray, m: int | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(drop, jump, index of the minimum) of each series along the last axis, the minimum taken over its first
    ``m`` points (all when None): the drop from the highest point before it, the jump to the highest point after."""
    i = np.argmin(a[..., :m], axis=-1)
    n = a.shape[-1]
    before = np.where(np.arange(n) <= i[..., None], a, -np.inf).max(-1)
    after = np.where(np.arange(n) >= i[..., None], a, -np.inf).max(-1)
    amin = np.take_along_axis(a, i[..., None], -1)[..., 0]
    return before - amin, after - amin, i


def null_draws(a: np.ndarray, n_boot: int, m: int | None = None, seed: int = 0) -> np.ndarray:
    """S = min(drop, jump) of ``n_boot`` flat series with the jitter of ``a`` (see the module docstring)."""
    sd = float(np.std(np.diff(a), ddof=1) / np.sqrt(2))
    sims = smooth(sd * np.random.default_rng(seed).standard_normal((n_boot, len(a))))
    drop, jump, _ = drop_jump(sims, m)
    return np.minimum(drop, jump)


def window(track: list, until: int | None) -> list:
    """The points of the dense early window (all points when there is none)."""
    pts = [t for t in track if until is None or t["step"] <= until]
    return pts if len(pts) >= 5 else track


def rise_steps(track: list) -> tuple[float, float]:
    """First steps at which the train accuracy has made 10 % and 90 % of its rise (nan when it does not rise)."""
    acc, steps = np.array([t["train_acc"] for t in track], float), np.array([t["step"] for t in track])
    rise = np.nanmax(acc) - acc[0] if len(acc) > 1 else np.nan
    if not rise > 0:
        return np.nan, np.nan
    return tuple(float(steps[np.argmax(acc >= acc[0] + f * rise)]) for f in RISE)


def phase_test(track: list, key: str = "alpha", until: int | None = None, n_boot: int = 400,
               seed: int = 0) -> dict:
    """The drop-then-jump test of one tracked run: observed drop, jump, S, its bootstrap p-value and 95 % null
    quantile, the jitter, the step of the minimum and whether it falls within the accuracy rise."""
    pts = window(track, until)
    raw = np.array([t[key] for t in pts], float)
    if len(raw) < 5 or not np.isfinite(raw).all():
        return {"n": len(raw), "p": np.nan, "drop": np.nan, "jump": np.nan, "s": np.nan, "q95": np.nan,
                "jitter": np.nan, "step_min": np.nan, "in_rise": False, "null": np.array([]), "rise": (np.nan,) * 2}
    a, (lo, hi) = smooth(raw), rise_steps(pts)
    steps = np.array([t["step"] for t in pts])
    m = max(2, int((steps <= hi).sum())) if np.isfinite(hi) else None  # the minimum is sought within the rise
    drop, jump, i = (float(v) for v in drop_jump(a, m))
    s, null = min(drop, jump), null_draws(raw, n_boot, m, seed)
    step = float(pts[int(i)]["step"])
    return {"n": len(a), "m": m or len(a), "drop": drop, "jump": jump, "s": s, "null": null,
            "q95": float(np.quantile(null, 0.95)), "p": float((1 + (null >= s).sum()) / (1 + len(null))),
            "jitter": float(np.std(np.diff(raw), ddof=1) / np.sqrt(2)), "step_min": step, "rise": (lo, hi),
            "in_rise": bool(lo <= step <= hi), "acc_min": float(pts[int(i)]["train_acc"])}


def first_share(track: list) -> float:
    """Share of the train accuracy's rise (first point to its maximum) made before the second measurement."""
    acc = np.array([t["train_acc"] for t in track], float)
    rise = float(np.nanmax(acc) - acc[0]) if len(acc) > 1 else np.nan
    return float((acc[1] - acc[0]) / rise) if len(acc) > 1 and rise > 0 else np.nan


def phase_verdict(test: dict, share: float, diverged: bool = False) -> str:
    """One run: reproduced when S is beyond its null (p <= P_LEVEL) with the minimum inside the accuracy rise;
    partly when S is significant but the minimum lies outside the rise; not reproduced when p > P_LEVEL; inconclusive
    when the run diverged, has < 5 points, or made over half of its accuracy rise before its second measurement
    (a drop and jump during that rise would not be resolved) and the test does not already reproduce."""
    if diverged or not np.isfinite(test["p"]):
        return "inconclusive"
    verdict = ("reproduced" if test["in_rise"] else "partly") if test["p"] <= P_LEVEL else "not reproduced"
    unresolved = not np.isfinite(share) or share > 0.5
    return "inconclusive" if unresolved and verdict != "reproduced" else verdict


def combine_seeds(verdicts: list[str]) -> str:
    """Seeds together: reproduced if every seed is; not reproduced if one is; partly if every seed is partly or
    reproduced; else inconclusive ("not run" with none)."""
    assert set(verdicts) <= set(VERDICTS)
    if not verdicts:
        return "not run"
    if "not reproduced" in verdicts:
        return "not reproduced"
    if all(v == "reproduced" for v in verdicts):
        return "reproduced"
    return "partly" if set(verdicts) <= {"reproduced", "partly"} else "inconclusive"


def tracked_rows(nets: dict) -> list[dict]:
    """The tracked runs (one per seed), diverged ones marked."""
    return [r if r.get("status", "ok") == "ok" and not r.get("diverged") else {**r, "diverged": True, "track": []}
            for r in nets["track"].rows]


def seed_tests(cfg, nets: dict, key: str = "alpha") -> list[tuple[dict, dict, str]]:
    """(row, test, verdict) of every tracked run, judged on ``key`` (train or test noise)."""
    out = []
    for k, row in enumerate(tracked_rows(nets)):
        track = row.get("track") or []
        until = row.get("dense_until") or None
        test = phase_test(track, key, until, cfg.phase_boot, seed=k) if track else phase_test([], key)
        share = first_share(window(track, until)) if track else np.nan
        out.append((row, test, phase_verdict(test, share, bool(row.get("diverged")))))
    return out


SRC_PHASES = ("asked here: recalled from the paper but in no readable copy; a third-party log made with the released "
              "estimator (ifgovh/sgd_tail_index, b = 100, every 10 iterations) shows a drop then a rise of about "
              "0.06 within the first 100 iterations")


def _seed_text(row: dict, test: dict, verdict: str) -> str:
    if not np.isfinite(test["p"]):
        return f"seed {row.get('seed')}: no usable track ({verdict})"
    return (f"seed {row['seed']}: drop {test['drop']:.3f}, jump {test['jump']:.3f}; S = {test['s']:.3f} against a "
            f"null 95 % point of {test['q95']:.3f} (p = {test['p']:.3f}), minimum at iteration {test['step_min']:.0f} "
            f"(train accuracy {test['acc_min']:.0%})")


def cadence_text(cfg) -> str:
    """'at every iteration up to iteration 30, then every 100' (or 'every 5 iterations up to ...')."""
    dense = ("at every iteration" if cfg.track_dense_every == 1 else f"every {cfg.track_dense_every} iterations")
    return f"{dense} up to iteration {cfg.track_dense_until}, then every {cfg.track_every}"


def claim_two_phases(cfg, nets: dict) -> Claim:
    """Beyond the paper: along training alpha-hat first drops, then jumps, while the accuracy rises (every seed)."""
    tests = seed_tests(cfg, nets)
    return Claim(id="two_phases", statement=r"While the accuracy rises, $\hat\alpha$ first drops, then jumps",
                 paper_value="a drop then a jump of α̂ as the accuracy rises (recalled, unverified)",
                 ours="; ".join(_seed_text(*t) for t in tests), verdict=combine_seeds([v for *_, v in tests]),
                 dataset=cfg.dataset, profile=cfg.profile, source=SRC_PHASES, basis="derived here", beyond=True,
                 figure="fig4_alpha_during_training",
                 detail=f"train noise measured {cadence_text(cfg)}; per seed, S = min(drop, jump) with the "
                 "minimum sought within the accuracy rise (10-90 %) against the null of a flat series with the "
                 f"series' own jitter: reproduced if p <= {P_LEVEL} and the minimum lies within the rise (partly: "
                 "outside it), not reproduced if p > the level, inconclusive if over half the rise falls before the "
                 "second measurement; seeds combined (every seed reproduced, one not reproduced decides)")
