"""The measured stopping-time law that prices the plan: t* = steps x dt fitted on the quick run's fitted nets.

Lazy sweeps: t* = C T^x P^b (one fit over T and P). Phase diagrams: per alpha, log t* = c_alpha + x_alpha log T at
the phase diagram's P, moved to another P with the lazy P^b; between measured alphas the coefficients are
interpolated in log alpha (held at the ends). Below the measured temperatures t* is held at its value at the smallest
one (the GD-like limit, where t* no longer depends on T: steps = t* / dt then grow like 1/T). Steps of a run =
min(cap, t* / (T h B)); the same t* law prices the MNAS sweeps (an assumption: no CNN was timed on a CPU).
"""
from __future__ import annotations

import json

import numpy as np

from ...core.results import output_root, save_json

NAME = "stopping_law"  # <quick results>/<chapter>/stopping_law.json, written by the quick run


def _fit(logT, logP, logt):
    """Least squares log t = c + x log T (+ b log P when P varies): (c, x, b)."""
    cols = [np.ones_like(logT), logT] + ([logP] if np.ptp(logP) > 0 else [])
    coef = np.linalg.lstsq(np.stack(cols, 1), logt, rcond=None)[0]
    return float(coef[0]), float(coef[1]), float(coef[2]) if len(coef) > 2 else 0.0


def measure(lazy: dict, phase: dict) -> dict:
    """The law from the quick run's lazy sweep and phase diagram (fitted runs only)."""
    ok = (lazy["status"] == "fitted") & (lazy["time"] > 0)
    c, x, b = _fit(np.log(lazy["T"][ok]), np.log(lazy["P"][ok]), np.log(lazy["time"][ok]))
    rows = []
    for a in np.unique(phase["alpha"]):
        sel = (phase["alpha"] == a) & (phase["status"] == "fitted") & (phase["time"] > 0)
        if len(np.unique(phase["T"][sel])) >= 2:
            ca, xa, _ = _fit(np.log(phase["T"][sel]), np.zeros(sel.sum()), np.log(phase["time"][sel]))
            rows.append((float(a), ca, xa, float(phase["T"][sel].min())))
    return {"lazy": {"log_C": c, "x": x, "b": b, "T_min": float(lazy["T"][ok].min()) if ok.any() else np.nan},
            "phase": {"alpha": [r[0] for r in rows], "c": [r[1] for r in rows], "x": [r[2] for r in rows],
                      "T_min": [r[3] for r in rows], "P": float(np.unique(phase["P"])[0]) if len(phase["P"]) else 0}}


def save(chapter: str, law: dict) -> None:
    save_json(chapter, NAME, law)


def recorded(chapter: str):
    """The law recorded in the repository (``book/<chapter>_stopping_law.json``, from a quick run), which a fresh
    clone's plan uses."""
    from ...core.results import REPO_ROOT

    return REPO_ROOT / "book" / f"{chapter}_{NAME}.json"


def load(chapter: str) -> dict | None:
    """The law stored by the last good quick run (``<output root>/quick/<chapter>/``), else the one recorded in the
    repository; None when there is neither."""
    for path in (output_root() / "quick" / chapter / f"{NAME}.json", recorded(chapter)):
        if path.exists():
            return json.loads(path.read_text())
    return None


def lazy_time(law: dict, T, P) -> np.ndarray:
    """t*(T, P) of the lazy law, held below its smallest measured T."""
    lz = law["lazy"]
    T = np.maximum(np.asarray(T, float), lz["T_min"])
    return np.exp(lz["log_C"] + lz["x"] * np.log(T) + lz["b"] * np.log(np.asarray(P, float)))


def phase_time(law: dict, alpha, T, P) -> np.ndarray:
    """t*(alpha, T, P) of the phase law (coefficients interpolated in log alpha, t* held below the measured T)."""
    ph = law["phase"]
    if not ph["alpha"]:
        return lazy_time(law, T, P)
    la, lalpha = np.log(ph["alpha"]), np.log(np.asarray(alpha, float))
    c, x = np.interp(lalpha, la, ph["c"]), np.interp(lalpha, la, ph["x"])
    T = np.maximum(np.asarray(T, float), np.exp(np.interp(lalpha, la, np.log(ph["T_min"]))))
    return np.exp(c + x * np.log(T) + law["lazy"]["b"] * np.log(np.asarray(P, float) / ph["P"]))


def steps(t_star, T, h: int, B: int, cap: int) -> np.ndarray:
    """Steps of each run: t* / dt with dt = T h B, at most ``cap`` (and at least 1)."""
    return np.clip(np.asarray(t_star, float) / (np.asarray(T, float) * h * B), 1, cap)
