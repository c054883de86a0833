"""Unit conversion between the earlier chapter's convention and the released code's (pinned by a test).

Earlier: readout W h / sqrt(h), plain ReLU, loss max(0, 1 - a y dF) / a^2, lr = T_old B. Released: readout W h / h,
sqrt(2) ReLU, loss max(0, 1 - alpha y dF) / alpha, dt = T h B. With L hidden layers of width h,
F_released = 2^(L/2) / sqrt(h) F_old, hence alpha = a sqrt(h) / 2^(L/2) and T = T_old / (a 2^(L/2) sqrt(h))
(L = 5, h = 128: alpha = 2 a, T = T_old / (64 a)).
"""
from __future__ import annotations

import math


def released_units(T_old: float, a_old: float, h: int = 128, L: int = 5) -> tuple[float, float]:
    """(alpha, T) of the released code for the earlier chapter's (a, T_old)."""
    return a_old * math.sqrt(h) / 2 ** (L / 2), T_old / (a_old * 2 ** (L / 2) * math.sqrt(h))
