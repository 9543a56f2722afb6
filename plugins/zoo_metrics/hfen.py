"""HFEN (Ravishankar and Bresler, IEEE TMI 2011): L2 norm of the 15x15 LoG of the difference."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import jax
import jax.numpy as jnp

from zoo.plugin import Metric
from zoo_metrics.batching import checked, per_plane, require_size
from zoo_metrics.filtering import pad_symmetric, pad_zero, separable
from zoo_metrics.log_kernels import matlab_log

# fspecial('log', 15, 1.5), the filter of the paper's MATLAB code.
LOG = matlab_log(15, 1.5)
LOG_RADIUS = 7

Padding = Literal["symmetric", "zero"]
PADDINGS: dict[str, Callable[[jax.Array, int], jax.Array]] = {
    "symmetric": pad_symmetric,
    "zero": pad_zero,
}


def safe_sqrt(x: jax.Array) -> jax.Array:
    """sqrt with gradient 0 instead of NaN at 0, so identical images do not poison a loss."""
    positive = x > 0
    return jnp.where(positive, jnp.sqrt(jnp.where(positive, x, 1.0)), 0.0)


def squared_log_norms(planes: jax.Array, padding: Padding) -> jax.Array:
    """sum((LoG * p)^2) over height and width for each p in planes [K, H, W]."""
    filtered = separable(PADDINGS[padding](planes, LOG_RADIUS), LOG)
    return jnp.sum(jnp.square(filtered), axis=(1, 2))


def check_padding(name: str, padding: str) -> None:
    if padding not in PADDINGS:
        raise ValueError(f"{name}: padding must be one of {', '.join(PADDINGS)}, got {padding!r}")


def hfen(padding: Padding = "symmetric") -> Metric:
    """HFEN: ||LoG * (pred - target)||_2 per image (all channels), LoG = fspecial('log', 15, 1.5).

    ``padding`` is the border: ``symmetric`` (edge pixel repeated, as scipy 'reflect') or
    ``zero`` (MATLAB imfilter's default). The value grows with image size; compare like sizes.
    """
    check_padding("hfen", padding)

    def score(x: jax.Array, y: jax.Array) -> jax.Array:
        return squared_log_norms((x - y)[None], padding)[0]

    def metric(pred: jax.Array, target: jax.Array) -> jax.Array:
        pred, target = checked("hfen", pred, target)
        require_size("hfen", pred, LOG_RADIUS + 1)
        return safe_sqrt(jnp.sum(per_plane(score, pred, target), axis=1))

    return jax.jit(metric)


def hfen_relative(padding: Padding = "symmetric") -> Metric:
    """Relative HFEN: ||LoG * (pred - target)||_2 / ||LoG * target||_2 per image.

    Same filter and ``padding`` as ``hfen``. Independent of image size and intensity scale.
    0 where pred equals target; +inf for a flat target (no high frequencies) otherwise.
    """
    check_padding("hfen_relative", padding)

    def score(x: jax.Array, y: jax.Array) -> jax.Array:
        return squared_log_norms(jnp.stack([x - y, y]), padding)

    def metric(pred: jax.Array, target: jax.Array) -> jax.Array:
        pred, target = checked("hfen_relative", pred, target)
        require_size("hfen_relative", pred, LOG_RADIUS + 1)
        error, reference = jnp.sum(per_plane(score, pred, target), axis=1).T
        return jnp.where(error > 0, safe_sqrt(error) / jnp.sqrt(reference), 0.0)

    return jax.jit(metric)
