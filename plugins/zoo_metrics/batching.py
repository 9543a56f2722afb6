"""Input checks shared by every metric, and the loops the filtered metrics run in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from jax import lax

# On CPU the filtered metrics take one 256 x 256 plane (or several smaller ones) per loop step,
# so their intermediates (several per pixel) stay in cache and reuse one allocation. Over a whole
# 16 x 256 x 256 x 3 batch the fresh buffers alone cost more than the arithmetic: the whole batch
# at once measured 4-6x slower, a whole image per step 1.5x. Accelerators take everything at once.
CPU_STEP_ELEMENTS = 1 << 16

Score = Callable[[jax.Array, jax.Array], Any]


def checked(name: str, pred: jax.Array, target: jax.Array) -> tuple[jax.Array, jax.Array]:
    """Both NHWC of the same shape, as float32; ``ValueError`` naming the metric otherwise."""
    pred, target = jnp.asarray(pred), jnp.asarray(target)
    if pred.ndim != 4 or pred.shape != target.shape:
        raise ValueError(
            f"{name}: pred and target must be NHWC arrays of the same shape, got "
            f"{pred.shape} and {target.shape}"
        )
    return pred.astype(jnp.float32), target.astype(jnp.float32)


def require_size(name: str, images: jax.Array, minimum: int) -> None:
    """Refuse images whose height or width is below ``minimum`` (a filter window)."""
    height, width = images.shape[1:3]
    if min(height, width) < minimum:
        raise ValueError(
            f"{name} needs images of at least {minimum}x{minimum}, got {height}x{width}"
        )


def step_size(count: int, elements: int) -> int:
    """How many items of ``elements`` values each one loop step takes."""
    if jax.default_backend() != "cpu":
        return count
    return max(1, min(count, CPU_STEP_ELEMENTS // elements))


def map_pairs(score: Score, xs: jax.Array, ys: jax.Array) -> Any:
    """``score(x, y)`` for each pair along the leading axis, a cache-sized step at a time."""
    size = step_size(xs.shape[0], xs[0].size)
    if size == xs.shape[0]:
        return jax.vmap(score)(xs, ys)
    # batch_size=1 would still vmap the step over a unit axis, which measured 2x slower.
    return lax.map(lambda pair: score(*pair), (xs, ys), batch_size=size if size > 1 else None)


def per_image(score: Score, pred: jax.Array, target: jax.Array) -> Any:
    """``score(pred_chw, target_chw)`` for each image, channels first: leading axis N."""
    return map_pairs(score, jnp.moveaxis(pred, -1, 1), jnp.moveaxis(target, -1, 1))


def per_plane(score: Score, pred: jax.Array, target: jax.Array) -> Any:
    """``score(pred_hw, target_hw)`` for each image and channel: leading axes [N, C]."""
    count, height, width, channels = pred.shape

    def planes(images: jax.Array) -> jax.Array:
        return jnp.moveaxis(images, -1, 1).reshape(count * channels, height, width)

    values = map_pairs(score, planes(pred), planes(target))
    return jax.tree.map(lambda v: v.reshape(count, channels, *v.shape[1:]), values)
