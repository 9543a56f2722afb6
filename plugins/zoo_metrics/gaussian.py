"""One-dimensional Gaussian taps, built exactly as scipy.ndimage builds them."""

from __future__ import annotations

import numpy as np


def radius(sigma: float, truncate: float) -> int:
    """scipy.ndimage's filter radius: ``int(truncate * sigma + 0.5)``."""
    return int(truncate * sigma + 0.5)


def gaussian_taps(sigma: float, radius: int, order: int = 0) -> np.ndarray:
    """The taps of scipy.ndimage.gaussian_filter1d (order 0) or its second derivative (order 2).

    Float64, length ``2 * radius + 1``. The order-0 taps sum to one; the order-2 taps are the
    normalised Gaussian times ``(x**2 - sigma**2) / sigma**4``, as in scipy.
    """
    if order not in (0, 2):
        raise ValueError(f"Gaussian derivative order must be 0 or 2, got {order}")
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    phi = np.exp(-0.5 * x**2 / sigma**2)
    phi /= phi.sum()
    if order == 0:
        return phi
    return phi * (x**2 - sigma**2) / sigma**4
