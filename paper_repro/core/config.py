"""Shared configuration helpers: profiles, devices and one-error validation of experiment configs."""
from __future__ import annotations

import dataclasses
from typing import Any, Iterable, Mapping, TypeVar

import torch

PROFILES = ("smoke", "quick", "paper")
DEVICES = ("auto", "cpu", "cuda")

Cfg = TypeVar("Cfg")


class ConfigError(ValueError):
    """A parameter has a value outside its allowed set; raised before any compute."""


def check_choice(name: str, value: Any, allowed: Iterable[Any]) -> None:
    """Raise ConfigError unless ``value`` is one of ``allowed``."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise ConfigError(f"{name}={value!r} is not allowed; choose one of {', '.join(map(repr, allowed))}")


def check_positive(name: str, value: Any, *, integer: bool = False) -> None:
    """Raise ConfigError unless ``value`` is a finite number > 0 (an int when ``integer``)."""
    if integer and (isinstance(value, bool) or not isinstance(value, int)):
        raise ConfigError(f"{name}={value!r} must be a positive integer")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or value == float("inf"):
        raise ConfigError(f"{name}={value!r} must be a positive finite number (> 0)")


def check_range(name: str, value: Any, lo: float, hi: float) -> None:
    """Raise ConfigError unless ``lo <= value <= hi``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not lo <= value <= hi:
        raise ConfigError(f"{name}={value!r} must be a number in [{lo}, {hi}]")


def check_positive_all(name: str, values: Iterable[Any], *, integer: bool = False) -> None:
    """Raise ConfigError unless every element of ``values`` passes :func:`check_positive` (and there is one)."""
    values = tuple(values)
    if not values:
        raise ConfigError(f"{name} must not be empty")
    for v in values:
        check_positive(f"{name} element", v, integer=integer)


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """Map ``auto|cpu|cuda`` to a torch device; ``auto`` takes the GPU when there is one."""
    if isinstance(device, torch.device):
        return device
    check_choice("device", device, DEVICES)
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device='cuda' was asked for but torch sees no CUDA GPU; use device='auto' or 'cpu'")
    return torch.device(device)


def from_profile(presets: Mapping[str, Cfg], profile: str, **overrides: Any) -> Cfg:
    """Return ``presets[profile]`` with the non-None ``overrides`` applied (validated by the dataclass)."""
    check_choice("profile", profile, tuple(presets))
    base = presets[profile]
    fields = {f.name for f in dataclasses.fields(base)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise ConfigError(f"unknown parameter(s) {unknown}; known: {sorted(fields)}")
    changes = {k: v for k, v in overrides.items() if v is not None}
    if "profile" in fields:
        changes.setdefault("profile", profile)
    return dataclasses.replace(base, **changes)
