"""Mean squared error per image."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from zoo.plugin import Metric
from zoo_metrics.batching import checked


def mean_squared_error(pred: jax.Array, target: jax.Array) -> jax.Array:
    """Mean of squared differences over height, width and channels: shape [N]."""
    return jnp.mean(jnp.square(pred - target), axis=(1, 2, 3))


def mse() -> Metric:
    """MSE: mean of squared differences per image (equals skimage.metrics.mean_squared_error)."""

    def metric(pred: jax.Array, target: jax.Array) -> jax.Array:
        return mean_squared_error(*checked("mse", pred, target))

    return jax.jit(metric)
