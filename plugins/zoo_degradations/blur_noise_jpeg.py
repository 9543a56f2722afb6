"""A Real-ESRGAN-style first-order degradation: random blur, bicubic downscale, noise, JPEG."""

from __future__ import annotations

import functools

import jax

from zoo.plugin import Array, Degradation, Images, check_scale
from zoo_degradations import bicubic
from zoo_degradations.blur import blur, random_kernels
from zoo_degradations.checks import check_hr, check_probability, check_range
from zoo_degradations.jpeg import compress, random_qualities
from zoo_degradations.noise import add_gaussian_noise


def analog(
    hr: Images,
    key: Array,
    *,
    scale: int,
    kernel_size: int,
    blur_sigma: tuple[float, float],
    anisotropic_prob: float,
    noise_sigma: tuple[float, float],
    gray_noise_prob: float,
) -> Images:
    """The jittable part: blur each image, downscale it (MATLAB bicubic), add noise."""
    blur_key, noise_key = jax.random.split(key)
    kernels = random_kernels(blur_key, hr.shape[0], kernel_size, blur_sigma, anisotropic_prob)
    lr = bicubic.downscale(blur(hr, kernels), scale)
    return add_gaussian_noise(lr, noise_key, noise_sigma, gray_noise_prob)


def _check_kernel_size(size: int) -> int:
    if size < 3 or size % 2 == 0:
        raise ValueError(f"blur_kernel_size must be an odd integer >= 3, got {size}.")
    return size


def factory(
    *,
    scale: int,
    blur_sigma: tuple[float, float] = (0.2, 3.0),
    blur_kernel_size: int = 21,
    anisotropic_prob: float = 0.5,
    noise_sigma: tuple[float, float] = (1.0, 30.0),
    gray_noise_prob: float = 0.4,
    jpeg_quality: tuple[int, int] = (30, 95),
) -> Degradation:
    """Random Gaussian blur, bicubic downscale, Gaussian noise, JPEG (Real-ESRGAN first order).

    ``blur_sigma`` is in HR pixels; ``noise_sigma`` is on the 0-255 scale; ``jpeg_quality`` is
    Pillow's 1-100 quality. Each is a ``(low, high)`` range drawn uniformly per image; the JPEG
    step runs on the host, so the degradation is not jittable as a whole.
    """
    scale = check_scale(scale)
    shrink_and_spoil = jax.jit(
        functools.partial(
            analog,
            scale=scale,
            kernel_size=_check_kernel_size(blur_kernel_size),
            blur_sigma=check_range("blur_sigma", blur_sigma, 1e-3, 100.0),
            anisotropic_prob=check_probability("anisotropic_prob", anisotropic_prob),
            noise_sigma=check_range("noise_sigma", noise_sigma, 0.0, 255.0),
            gray_noise_prob=check_probability("gray_noise_prob", gray_noise_prob),
        )
    )
    quality = check_range("jpeg_quality", jpeg_quality, 1, 100)

    def degrade(hr: Images, key: Array) -> Images:
        check_hr(hr, scale)
        analog_key, jpeg_key = jax.random.split(key)
        lr = shrink_and_spoil(hr, analog_key)
        return compress(lr, random_qualities(jpeg_key, hr.shape[0], quality))

    return degrade
