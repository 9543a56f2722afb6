"""Laplacian-of-Gaussian kernels written as sums of separable (rows, columns) terms."""

from __future__ import annotations

import numpy as np

from zoo_metrics.gaussian import gaussian_taps, radius

# A 2-D kernel sum_k outer(rows_k, cols_k), every tap vector of the same odd length.
SeparableKernel = tuple[tuple[np.ndarray, np.ndarray], ...]


def scipy_gaussian_laplace(sigma: float, truncate: float = 4.0) -> SeparableKernel:
    """scipy.ndimage.gaussian_laplace: d2/dy2 G + d2/dx2 G, each a product of 1-D scipy taps."""
    r = radius(sigma, truncate)
    smooth, second = gaussian_taps(sigma, r, 0), gaussian_taps(sigma, r, 2)
    return ((second, smooth), (smooth, second))


def matlab_log(size: int, sigma: float) -> SeparableKernel:
    """MATLAB ``fspecial('log', size, sigma)``, the kernel Ravishankar and Bresler used for HFEN.

    fspecial normalises the 2-D Gaussian g, forms h = g (x^2 + y^2 - 2 sigma^2) / sigma^4 and
    subtracts the mean of h so the kernel sums to zero. With g = g1 g1 that is
    a(y) g1(x) + g1(y) a(x) - c, where a = g1 (x^2 - sigma^2) / sigma^4 and c the mean: three
    separable terms. fspecial also zeroes Gaussian taps below eps * max(g), which would break
    separability; sizes where that happens are refused.
    """
    if size % 2 != 1:
        raise ValueError(f"LoG size must be odd, got {size}")
    half = size // 2
    if np.exp(-(half**2) / sigma**2) < np.finfo(np.float64).eps:
        raise ValueError(f"fspecial('log', {size}, {sigma}) zeroes its corners; not separable")
    x = np.arange(-half, half + 1, dtype=np.float64)
    g1 = np.exp(-(x**2) / (2 * sigma**2))
    g1 /= g1.sum()
    a = g1 * (x**2 - sigma**2) / sigma**4
    mean = 2.0 * a.sum() * g1.sum() / size**2
    ones = np.ones(size)
    return ((a, g1), (g1, a), (-mean * ones, ones))
