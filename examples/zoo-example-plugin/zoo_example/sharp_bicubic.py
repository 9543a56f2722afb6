"""Bicubic upscaling followed by an unsharp mask: a classic trick, here as a plugin."""

from __future__ import annotations

import jax.numpy as jnp

from zoo.plugin import Images, Upscaler, imresize_scale


def _gaussian_blur(images: Images, sigma: float) -> Images:
    radius = max(1, int(3 * sigma + 0.5))
    taps = jnp.exp(-0.5 * (jnp.arange(-radius, radius + 1) / sigma) ** 2)
    taps = taps / taps.sum()
    padded = jnp.pad(images, ((0, 0), (radius, radius), (radius, radius), (0, 0)), mode="edge")
    height, width = images.shape[1:3]
    zero = jnp.zeros((), images.dtype)  # sum()'s start, so that the sums are arrays, not ints
    rows = sum((taps[i] * padded[:, i : i + height, :, :] for i in range(2 * radius + 1)), zero)
    return sum((taps[i] * rows[:, :, i : i + width, :] for i in range(2 * radius + 1)), zero)


def sharp_bicubic(amount: float = 0.6, sigma: float = 1.0) -> Upscaler:
    """``amount`` of (image - blur(image, sigma)) added back after MATLAB bicubic upscaling."""
    if amount < 0 or sigma <= 0:
        raise ValueError("sharp_bicubic needs amount >= 0 and sigma > 0")

    def upscale(lr: Images, scale: int) -> Images:
        image = imresize_scale(lr, scale, "cubic", border="symmetric")
        return image + amount * (image - _gaussian_blur(image, sigma))

    return upscale
