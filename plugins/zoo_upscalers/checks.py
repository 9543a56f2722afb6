"""Argument checks shared by the upscalers."""

from __future__ import annotations

import operator


def check_scale(scale: int) -> int:
    """``scale`` as a positive Python int (static under jit), or a ValueError naming it."""
    try:
        value = operator.index(scale)
    except TypeError:
        raise ValueError(f"scale must be a positive Python int, got {scale!r}.") from None
    if isinstance(scale, bool) or value < 1:
        raise ValueError(f"scale must be a positive Python int, got {scale!r}.")
    return value
