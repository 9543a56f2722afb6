"""Separable 2-D correlation of image planes, and the borders that keep their size."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from zoo_metrics.log_kernels import SeparableKernel

# Each pass of a separable filter is a short loop, a few taps per step, not one unrolled sum of
# shifted slices. A loop's result is a materialised buffer, so XLA cannot fuse one pass into the
# next (each output would recompute T x T taps) or into a reduction that follows (XLA's CPU
# reductions do not vectorise such inputs); either fusion measured 2-10x slower on CPU. Several
# taps per step, rather than one, read and write the accumulator fewer times (2x faster).
TAPS_PER_STEP = 6


def steps(length: int) -> tuple[int, int]:
    """(loop steps, taps per step) covering ``length`` taps; at least two steps, since XLA
    inlines a loop that runs once and would fuse it again."""
    count = max(2, -(-length // TAPS_PER_STEP))
    return count, -(-length // count)


def padded_weights(taps: np.ndarray, total: int) -> jax.Array:
    """Taps [K, T] zero-padded to [K, total]. The padded offsets run past the input's end, where
    ``dynamic_slice`` clamps the start; their zero weight makes whatever it reads irrelevant."""
    weights = np.zeros((taps.shape[0], total), np.float32)
    weights[:, : taps.shape[1]] = taps
    return jnp.asarray(weights)


def correlate_many(x: jax.Array, taps: np.ndarray, axis: int) -> jax.Array:
    """Valid 1-D correlation of ``x`` along ``axis`` with each row of ``taps`` [K, T]: [K, ...]."""
    axis = axis % x.ndim
    count, length = taps.shape
    size = x.shape[axis] - length + 1
    shape = (count, *x.shape[:axis], size, *x.shape[axis + 1 :])
    loops, per_step = steps(length)
    weights = padded_weights(taps, loops * per_step)

    def step(index: jax.Array, acc: jax.Array) -> jax.Array:
        for j in range(per_step):
            offset = index * per_step + j
            shifted = lax.dynamic_slice_in_dim(x, offset, size, axis=axis)
            weight = lax.dynamic_slice_in_dim(weights, offset, 1, axis=1)
            acc = acc + weight.reshape((count,) + (1,) * x.ndim) * shifted
        return acc

    return lax.fori_loop(0, loops, step, jnp.zeros(shape, x.dtype))


def correlate_sum(x: jax.Array, taps: np.ndarray, axis: int) -> jax.Array:
    """sum_k of the valid 1-D correlation of ``x[k]`` with ``taps[k]`` along ``x[k]``'s ``axis``."""
    count, length = taps.shape
    axis = axis % (x.ndim - 1)
    size = x.shape[1 + axis] - length + 1
    shape = (*x.shape[1 : 1 + axis], size, *x.shape[2 + axis :])
    loops, per_step = steps(length)
    weights = padded_weights(taps, loops * per_step)

    def step(index: jax.Array, acc: jax.Array) -> jax.Array:
        for j in range(per_step):
            offset = index * per_step + j
            for k in range(count):
                shifted = lax.dynamic_slice_in_dim(x[k], offset, size, axis=axis)
                acc = acc + weights[k, offset] * shifted
        return acc

    return lax.fori_loop(0, loops, step, jnp.zeros(shape, x.dtype))


def separable(planes: jax.Array, kernel: SeparableKernel) -> jax.Array:
    """Valid correlation of the last two axes (rows, columns) with a sum of separable terms."""
    rows = np.stack([r for r, _ in kernel])
    cols = np.stack([c for _, c in kernel])
    return correlate_sum(correlate_many(planes, rows, axis=-2), cols, axis=-1)


def pad_symmetric(planes: jax.Array, width: int) -> jax.Array:
    """Pad the last two axes by mirroring with the edge repeated (scipy 'reflect', MATLAB
    'symmetric'), so a valid correlation keeps the input's size."""
    pad = [(0, 0)] * (planes.ndim - 2) + [(width, width)] * 2
    return jnp.pad(planes, pad, mode="symmetric")


def pad_zero(planes: jax.Array, width: int) -> jax.Array:
    """Pad the last two axes with zeros (MATLAB imfilter's default boundary)."""
    pad = [(0, 0)] * (planes.ndim - 2) + [(width, width)] * 2
    return jnp.pad(planes, pad)
