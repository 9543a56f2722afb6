"""The DLI course's SSIM: scikit-image 0.14's Gaussian SSIM run on an RGB image as a 3-D volume.

The notebook called scikit-image 0.14 ``compare_ssim`` on HxWx3 arrays with ``win_size=1,
multichannel=False``. That version then treats the colour axis as a third spatial axis. The
Gaussian window (``gaussian_weights=True, sigma=1.5``) is what blurs across colours, and
``win_size=1`` only runs with ``use_sample_covariance=False`` (the sample correction would be
1 / (1 - 1)). So every local mean and (co)variance is a 3-D Gaussian blur: sigma 1.5 on height,
width *and* colour, truncate 4.0 (13 taps), scipy 'reflect' borders. ``win_size=1`` also makes
the border crop zero, so the mean runs over every pixel and channel. Mixing the R, G and B
statistics reads higher than per-channel SSIM. This is a named variant that reproduces the
course's numbers. It is not Wang et al.'s SSIM.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from zoo.plugin import Metric
from zoo_metrics.batching import checked, per_image, require_size
from zoo_metrics.filtering import pad_symmetric, separable
from zoo_metrics.gaussian import gaussian_taps, radius
from zoo_metrics.ssim import SIGMA, moment_planes, ssim_map

# scipy.ndimage.gaussian_filter's default truncate, which scikit-image 0.14 kept: 13 taps.
TRUNCATE = 4.0


def reflect_index(index: int, size: int) -> int:
    """scipy 'reflect' (edge repeated) extension of an index, however far outside [0, size)."""
    index %= 2 * size
    return index if index < size else 2 * size - 1 - index


def colour_blur(channels: int) -> np.ndarray:
    """The Gaussian blur along the colour axis as a [channels, channels] matrix.

    With 3 channels and a radius of 6, most taps fall outside the axis and fold back onto it.
    """
    taps = gaussian_taps(SIGMA, radius(SIGMA, TRUNCATE))
    half = len(taps) // 2
    matrix = np.zeros((channels, channels))
    for out in range(channels):
        for offset, weight in enumerate(taps):
            matrix[out, reflect_index(out + offset - half, channels)] += weight
    return matrix


def mix_channels(matrix: np.ndarray, planes: jax.Array) -> jax.Array:
    """``matrix`` [C, C] applied to axis 1 of planes [K, C, H, W].

    Multiply-adds rather than an einsum: a 3-long contraction is slow as a CPU dot, and
    accelerators may run float32 dots at reduced precision (TF32).
    """
    mixed = [sum(float(weight) * planes[:, c] for c, weight in enumerate(row)) for row in matrix]
    return jnp.stack(mixed, axis=1)


def ssim_dli_image(x: jax.Array, y: jax.Array, data_range: float) -> jax.Array:
    """Mean of the 3-D Gaussian SSIM map of one CHW image pair over all pixels and channels."""
    offset_x, offset_y = jnp.mean(x), jnp.mean(y)
    planes = moment_planes(x, y, offset_x, offset_y)
    mixed = jnp.moveaxis(mix_channels(colour_blur(x.shape[0]), planes), 1, 0)
    taps = gaussian_taps(SIGMA, radius(SIGMA, TRUNCATE))

    def channel_mean(moments: jax.Array) -> jax.Array:
        padded = pad_symmetric(moments, len(taps) // 2)
        blurred = separable(padded, ((taps, taps),))
        return jnp.mean(ssim_map(blurred, offset_x, offset_y, data_range))

    # One channel at a time, for the cache-sized steps explained in zoo_metrics.batching.
    return jnp.mean(lax.map(channel_mean, mixed))


def ssim_dli(data_range: float = 1.0) -> Metric:
    """The DLI notebook's SSIM variant (3-D blur across colours, no border crop); see the module.

    ``data_range`` 1.0 is for [0, 1] images; scikit-image 0.14 assumed 2.0 for float input when
    the caller passed none.
    """
    if data_range <= 0:
        raise ValueError(f"ssim_dli: data_range must be positive, got {data_range}")

    def metric(pred: jax.Array, target: jax.Array) -> jax.Array:
        pred, target = checked("ssim_dli", pred, target)
        require_size("ssim_dli", pred, radius(SIGMA, TRUNCATE) + 1)
        return per_image(lambda x, y: ssim_dli_image(x, y, data_range), pred, target)

    return jax.jit(metric)
