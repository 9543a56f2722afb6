"""HFENN, the DLI course's normalised high-frequency error: mean squared LoG of the difference."""

from __future__ import annotations

from typing import Literal

import jax
import jax.numpy as jnp

from zoo.plugin import Metric
from zoo_metrics.batching import checked, per_plane, require_size
from zoo_metrics.filtering import pad_symmetric, separable
from zoo_metrics.log_kernels import scipy_gaussian_laplace

SIGMA = 1.5
LOG = scipy_gaussian_laplace(SIGMA, truncate=4.0)  # 13 x 13 taps
LOG_RADIUS = len(LOG[0][0]) // 2

# The course reports 1e4 * mean(LoG^2) as the metric; its training loss divides mean(LoG^2) by
# 0.325^2, the squared operator norm of this LoG (largest frequency response 0.327), so the loss
# term is of order one.
NORMALIZATIONS = {"dli_metric": 1.0e4, "dli_loss": 1.0 / 0.325**2}


def mean_squared_log(plane: jax.Array) -> jax.Array:
    """mean((LoG * plane)^2) over one HxW plane, with scipy 'reflect' borders."""
    return jnp.mean(jnp.square(separable(pad_symmetric(plane, LOG_RADIUS), LOG)))


def hfenn(normalization: Literal["dli_metric", "dli_loss"] = "dli_metric") -> Metric:
    """HFENN: factor * mean((LoG * (pred - target))^2) per image, 0 when identical.

    LoG is scipy.ndimage.gaussian_laplace(sigma=1.5, truncate=4.0, mode='reflect') on each
    channel. ``normalization`` picks the factor: ``dli_metric`` 1e4 (the course's reported
    metric), ``dli_loss`` 1 / 0.325^2 (the course's training loss).
    """
    if normalization not in NORMALIZATIONS:
        raise ValueError(
            f"hfenn: normalization must be one of {', '.join(NORMALIZATIONS)}, "
            f"got {normalization!r}"
        )
    factor = NORMALIZATIONS[normalization]

    def metric(pred: jax.Array, target: jax.Array) -> jax.Array:
        pred, target = checked("hfenn", pred, target)
        require_size("hfenn", pred, LOG_RADIUS + 1)
        per_channel = per_plane(lambda x, y: mean_squared_log(x - y), pred, target)
        return factor * jnp.mean(per_channel, axis=1)

    return jax.jit(metric)
