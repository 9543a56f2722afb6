"""Argument checks shared by the degradations: option ranges and HR image shapes."""

from __future__ import annotations

from typing import TypeVar

import jax

Number = TypeVar("Number", int, float)


def check_range(
    name: str, bounds: tuple[Number, Number], low: Number, high: Number
) -> tuple[Number, Number]:
    """An option ``(lo, hi)`` with ``low <= lo <= hi <= high``, or a ValueError saying which;
    integer bounds (JPEG qualities) stay integers."""
    if len(bounds) != 2:
        raise ValueError(f"{name} must be a pair (low, high), got {bounds!r}.")
    lo, hi = bounds
    if not low <= lo <= hi <= high:
        raise ValueError(f"{name} must satisfy {low} <= low <= high <= {high}, got ({lo}, {hi}).")
    return lo, hi


def check_probability(name: str, value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a probability in [0, 1], got {value}.")
    return float(value)


def check_hr(hr: jax.Array, scale: int) -> None:
    """HR must be NHWC with height and width divisible by ``scale`` (mod-crop it first)."""
    if hr.ndim != 4:
        raise ValueError(f"hr must be NHWC, got shape {tuple(hr.shape)}.")
    height, width = hr.shape[1:3]
    if height % scale or width % scale:
        raise ValueError(
            f"hr height and width must be divisible by scale {scale}, got {height}x{width}; "
            f"crop to {height - height % scale}x{width - width % scale} first."
        )
