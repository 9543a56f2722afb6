"""Mean absolute error per image: the L1 loss EDSR and most later SR networks train with."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from zoo.plugin import Metric
from zoo_metrics.batching import checked


def mean_absolute_error(pred: jax.Array, target: jax.Array) -> jax.Array:
    """Mean of absolute differences over height, width and channels: shape [N]."""
    return jnp.mean(jnp.abs(pred - target), axis=(1, 2, 3))


def mae() -> Metric:
    """MAE (L1): mean of absolute differences per image (numpy's mean(abs(p - t)))."""

    def metric(pred: jax.Array, target: jax.Array) -> jax.Array:
        return mean_absolute_error(*checked("mae", pred, target))

    return jax.jit(metric)
