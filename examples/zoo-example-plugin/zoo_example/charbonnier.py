"""The Charbonnier loss (Lai et al., LapSRN 2017): a differentiable, outlier-robust L1."""

from __future__ import annotations

import jax.numpy as jnp

from zoo.plugin import Images, Metric, PerImage


def charbonnier(epsilon: float = 1e-3) -> Metric:
    """Per-image mean of sqrt((pred - target)^2 + epsilon^2); ``epsilon`` in [0, 1] units."""
    if epsilon <= 0:
        raise ValueError(f"charbonnier epsilon must be positive, got {epsilon}")

    def metric(pred: Images, target: Images) -> PerImage:
        difference = pred.astype(jnp.float32) - target.astype(jnp.float32)
        return jnp.mean(jnp.sqrt(difference * difference + epsilon**2), axis=(1, 2, 3))

    return metric
