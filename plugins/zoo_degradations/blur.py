"""Gaussian blur kernels, isotropic and anisotropic, drawn at random and applied per image."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from zoo.plugin import Array, Images


def gaussian_kernel(size: int, sigma_x: Array, sigma_y: Array, angle: Array) -> Array:
    """A ``[size, size]`` Gaussian summing to one, ``sigma_x`` along ``angle``, ``sigma_y`` across.

    ``angle`` is in radians, measured from the image's horizontal axis; ``size`` is odd so the
    kernel is centred on a pixel.
    """
    half = size // 2
    grid = jnp.arange(-half, half + 1, dtype=jnp.float32)
    rows, cols = jnp.meshgrid(grid, grid, indexing="ij")
    cos, sin = jnp.cos(angle), jnp.sin(angle)
    along = cos * cols + sin * rows
    across = -sin * cols + cos * rows
    weights = jnp.exp(-0.5 * ((along / sigma_x) ** 2 + (across / sigma_y) ** 2))
    return weights / weights.sum()


def random_kernel(
    key: Array, size: int, sigma: tuple[float, float], anisotropic_prob: float
) -> Array:
    """One random Gaussian kernel: isotropic, or with probability ``anisotropic_prob`` anisotropic.

    Each standard deviation is uniform in ``sigma`` (pixels); an anisotropic kernel also gets a
    uniform orientation in [0, pi).
    """
    kind_key, x_key, y_key, angle_key = jax.random.split(key, 4)
    low, high = sigma
    sigma_x = jax.random.uniform(x_key, minval=low, maxval=high)
    anisotropic = jax.random.bernoulli(kind_key, anisotropic_prob)
    sigma_y = jnp.where(anisotropic, jax.random.uniform(y_key, minval=low, maxval=high), sigma_x)
    angle = jnp.where(anisotropic, jax.random.uniform(angle_key, maxval=jnp.pi), 0.0)
    return gaussian_kernel(size, sigma_x, sigma_y, angle)


def random_kernels(
    key: Array, count: int, size: int, sigma: tuple[float, float], anisotropic_prob: float
) -> Array:
    """``[count, size, size]`` independent kernels from :func:`random_kernel`."""
    keys = jax.random.split(key, count)
    return jax.vmap(lambda k: random_kernel(k, size, sigma, anisotropic_prob))(keys)


def _blur_one(image: Array, kernel: Array) -> Array:
    half = kernel.shape[0] // 2
    channels = image.shape[-1]
    # Reflecting (not zero) padding keeps the borders from darkening, as Real-ESRGAN's filter2D.
    padded = jnp.pad(image, ((half, half), (half, half), (0, 0)), mode="reflect")
    weights = jnp.broadcast_to(kernel[:, :, None, None], (*kernel.shape, 1, channels))
    out = jax.lax.conv_general_dilated(
        padded[None],
        weights.astype(image.dtype),
        window_strides=(1, 1),
        padding="VALID",
        dimension_numbers=("NHWC", "HWIO", "NHWC"),
        feature_group_count=channels,
        precision=jax.lax.Precision.HIGHEST,
    )
    return out[0]


def blur(images: Images, kernels: Array) -> Images:
    """Filter each NHWC image with its own ``[k, k]`` kernel (``kernels`` is ``[N, k, k]``)."""
    return jax.vmap(_blur_one)(images, kernels)
