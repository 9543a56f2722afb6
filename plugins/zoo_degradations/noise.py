"""Additive Gaussian noise with a random strength per image, in colour or grey."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from zoo.plugin import Array, Images


def add_gaussian_noise(
    images: Images, key: Array, sigma: tuple[float, float], gray_prob: float
) -> Images:
    """Add zero-mean Gaussian noise and clip to [0, 1].

    Each image's standard deviation is uniform in ``sigma``, given on the 0-255 scale (as
    Real-ESRGAN's ``noise_range``) and divided by 255 here. With probability ``gray_prob`` an
    image gets the same noise in every channel (luminance noise) instead of independent noise.
    """
    count = images.shape[0]
    sigma_key, gray_key, colour_key, grey_key = jax.random.split(key, 4)
    low, high = sigma
    strength = jax.random.uniform(sigma_key, (count,), minval=low, maxval=high) / 255.0
    grey = jax.random.bernoulli(gray_key, gray_prob, (count,))
    colour_noise = jax.random.normal(colour_key, images.shape, images.dtype)
    grey_noise = jax.random.normal(grey_key, (*images.shape[:-1], 1), images.dtype)
    noise = jnp.where(grey[:, None, None, None], grey_noise, colour_noise)
    return jnp.clip(images + noise * strength[:, None, None, None], 0.0, 1.0)
