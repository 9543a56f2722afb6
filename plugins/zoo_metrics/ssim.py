"""SSIM (Wang et al. 2004): 11x11 Gaussian window, sigma 1.5, valid filtering, per channel."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from zoo.plugin import Metric
from zoo_metrics.batching import checked, per_plane, require_size
from zoo_metrics.filtering import separable
from zoo_metrics.gaussian import gaussian_taps, radius

K1, K2 = 0.01, 0.03
SIGMA = 1.5
# scikit-image's truncate for gaussian_weights=True: radius 5, the 11 taps of Wang et al.
TRUNCATE = 3.5
WINDOW = 2 * radius(SIGMA, TRUNCATE) + 1


def moment_planes(
    x: jax.Array, y: jax.Array, offset_x: jax.Array, offset_y: jax.Array
) -> jax.Array:
    """The four planes SSIM blurs, [4, ...]: x', y', x'^2 + y'^2 and x'y' with x' = x - offset_x.

    Variances are shift-invariant, so data centred on the image mean loses less to float32
    cancellation in E[x^2] - E[x]^2. Only the sum of the two variances enters SSIM.
    """
    xc, yc = x - offset_x, y - offset_y
    return jnp.stack([xc, yc, xc * xc + yc * yc, xc * yc])


def ssim_map(
    blurred: jax.Array, offset_x: jax.Array, offset_y: jax.Array, data_range: float
) -> jax.Array:
    """SSIM at each pixel from blurred ``moment_planes`` and the offsets they were centred by."""
    mean_xc, mean_yc, squares, cross = blurred
    mean_x, mean_y = mean_xc + offset_x, mean_yc + offset_y
    variances = squares - mean_xc * mean_xc - mean_yc * mean_yc
    covariance = cross - mean_xc * mean_yc
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    numerator = (2.0 * mean_x * mean_y + c1) * (2.0 * covariance + c2)
    denominator = (mean_x * mean_x + mean_y * mean_y + c1) * (variances + c2)
    return numerator / denominator


def ssim_plane(x: jax.Array, y: jax.Array, data_range: float) -> jax.Array:
    """Mean SSIM of one pair of HxW planes over the valid region."""
    offset_x, offset_y = jnp.mean(x), jnp.mean(y)
    taps = gaussian_taps(SIGMA, radius(SIGMA, TRUNCATE))
    blurred = separable(moment_planes(x, y, offset_x, offset_y), ((taps, taps),))
    return jnp.mean(ssim_map(blurred, offset_x, offset_y, data_range))


def ssim(data_range: float = 1.0) -> Metric:
    """Mean SSIM per image, equal to skimage structural_similarity(gaussian_weights=True,
    sigma=1.5, use_sample_covariance=False, channel_axis=-1) with the same ``data_range``."""
    if data_range <= 0:
        raise ValueError(f"ssim: data_range must be positive, got {data_range}")

    def metric(pred: jax.Array, target: jax.Array) -> jax.Array:
        pred, target = checked("ssim", pred, target)
        require_size("ssim", pred, WINDOW)
        per_channel = per_plane(lambda x, y: ssim_plane(x, y, data_range), pred, target)
        return jnp.mean(per_channel, axis=1)

    return jax.jit(metric)
