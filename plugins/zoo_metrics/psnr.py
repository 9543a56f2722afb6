"""Peak signal-to-noise ratio per image."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from zoo.plugin import Metric
from zoo_metrics.batching import checked
from zoo_metrics.mse import mean_squared_error


def psnr(data_range: float = 1.0) -> Metric:
    """PSNR in dB, 10 log10(R^2 / MSE) per image; +inf where pred equals target.

    ``data_range`` is R: 1 for images in [0, 1] (both conventions keep metrics in those units).
    """
    if data_range <= 0:
        raise ValueError(f"psnr: data_range must be positive, got {data_range}")
    peak = float(data_range) ** 2

    def metric(pred: jax.Array, target: jax.Array) -> jax.Array:
        return 10.0 * jnp.log10(peak / mean_squared_error(*checked("psnr", pred, target)))

    return jax.jit(metric)
