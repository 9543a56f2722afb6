"""Bicubic upscaling followed by an unsharp mask: a classic trick, here as a plugin."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from zoo import resize


def _gaussian_blur(images: jax.Array, sigma: float) -> jax.Array:
    radius = max(1, int(3 * sigma + 0.5))
    taps = jnp.exp(-0.5 * (jnp.arange(-radius, radius + 1) / sigma) ** 2)
    taps = taps / taps.sum()
    padded = jnp.pad(images, ((0, 0), (radius, radius), (radius, radius), (0, 0)), mode="edge")
    rows = sum(taps[i] * padded[:, i : i + images.shape[1], :, :] for i in range(2 * radius + 1))
    return sum(taps[i] * rows[:, :, i : i + images.shape[2], :] for i in range(2 * radius + 1))


def sharp_bicubic(amount: float = 0.6, sigma: float = 1.0):
    """``amount`` of (image - blur(image, sigma)) added back after MATLAB bicubic upscaling."""
    if amount < 0 or sigma <= 0:
        raise ValueError("sharp_bicubic needs amount >= 0 and sigma > 0")

    def upscale(lr: jax.Array, scale: int) -> jax.Array:
        image = resize.imresize_scale(lr, scale, "cubic", border="symmetric")
        return image + amount * (image - _gaussian_blur(image, sigma))

    return upscale
