"""The Charbonnier loss (Lai et al., LapSRN 2017): a differentiable, outlier-robust L1."""

from __future__ import annotations

import jax
import jax.numpy as jnp


def charbonnier(epsilon: float = 1e-3):
    """Per-image mean of sqrt((pred - target)^2 + epsilon^2); ``epsilon`` in [0, 1] units."""
    if epsilon <= 0:
        raise ValueError(f"charbonnier epsilon must be positive, got {epsilon}")

    def metric(pred: jax.Array, target: jax.Array) -> jax.Array:
        difference = pred.astype(jnp.float32) - target.astype(jnp.float32)
        return jnp.mean(jnp.sqrt(difference * difference + epsilon**2), axis=(1, 2, 3))

    return metric
