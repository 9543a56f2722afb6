"""MATLAB-compatible separable image resampling (``imresize``) as cached weight matrices in JAX.

For each axis a dense ``[out, in]`` weight matrix is built once in numpy (float64) exactly the
way MATLAB's ``imresize`` builds its contributions: half-pixel centres, the kernel widened by
``1/scale`` when downscaling with antialiasing, each row normalised over all its taps, and taps
that fall outside the image folded back into it by the border rule. The matrices depend only on
static sizes, so :func:`resize` is jittable and applies them as two float32 matmuls at the highest
precision. Images are ``[..., H, W, C]`` (NHWC batches or single HWC images).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np

KernelName = Literal["cubic", "linear", "nearest", "lanczos3"]
BorderName = Literal["symmetric", "edge", "zero", "renormalize"]

# A sampled size more than this below an integer still rounds up to it: 255 * (1/3) must give 85.
_SIZE_TOLERANCE = 1e-9


def cubic(x: np.ndarray) -> np.ndarray:
    """Keys' cubic convolution kernel with a = -0.5 (MATLAB ``bicubic``, PIL ``BICUBIC``)."""
    ax = np.abs(x)
    near = (1.5 * ax**3 - 2.5 * ax**2 + 1.0) * (ax <= 1)
    far = (-0.5 * ax**3 + 2.5 * ax**2 - 4.0 * ax + 2.0) * ((ax > 1) & (ax <= 2))
    return near + far


def linear(x: np.ndarray) -> np.ndarray:
    """The triangle kernel (bilinear interpolation)."""
    return np.maximum(0.0, 1.0 - np.abs(x))


def nearest(x: np.ndarray) -> np.ndarray:
    """The box kernel on [-0.5, 0.5), half-open as in MATLAB so ties pick exactly one pixel."""
    return ((x >= -0.5) & (x < 0.5)).astype(np.float64)


def lanczos3(x: np.ndarray) -> np.ndarray:
    """The Lanczos kernel with three lobes: sinc(x) sinc(x / 3) on |x| < 3."""
    return np.sinc(x) * np.sinc(x / 3.0) * (np.abs(x) < 3)


# name -> (kernel, support width in input pixels at scale 1)
KERNELS: dict[str, tuple[Callable[[np.ndarray], np.ndarray], float]] = {
    "cubic": (cubic, 4.0),
    "linear": (linear, 2.0),
    "nearest": (nearest, 1.0),
    "lanczos3": (lanczos3, 6.0),
}


def _fold_symmetric(index: np.ndarray, weights: np.ndarray, size: int):
    # MATLAB's padding: the image mirrored with its edge pixels repeated (np.pad "symmetric").
    period = np.concatenate([np.arange(size), np.arange(size)[::-1]])
    return period[np.mod(index, 2 * size)], weights


def _fold_edge(index: np.ndarray, weights: np.ndarray, size: int):
    return np.clip(index, 0, size - 1), weights


def _fold_zero(index: np.ndarray, weights: np.ndarray, size: int):
    # Outside pixels are zero (scikit-image / scipy "grid-constant"): their weight is dropped.
    inside = (index >= 0) & (index < size)
    return np.clip(index, 0, size - 1), np.where(inside, weights, 0.0)


def _fold_renormalize(index: np.ndarray, weights: np.ndarray, size: int):
    # PIL's rule: drop the outside taps and rescale the rest to sum to one.
    index, weights = _fold_zero(index, weights, size)
    return index, weights / weights.sum(axis=1, keepdims=True)


BORDERS: dict[str, Callable[..., tuple[np.ndarray, np.ndarray]]] = {
    "symmetric": _fold_symmetric,
    "edge": _fold_edge,
    "zero": _fold_zero,
    "renormalize": _fold_renormalize,
}


def _check_choice(what: str, value: str, valid: Sequence[str]) -> None:
    if value not in valid:
        raise ValueError(f"unknown {what} {value!r}; valid: {', '.join(valid)}.")


def default_antialias(kernel: str) -> bool:
    """MATLAB's default: antialias every kernel except nearest, which keeps picking pixels."""
    return kernel != "nearest"


@functools.lru_cache(maxsize=512)
def weight_matrix(
    in_size: int,
    out_size: int,
    kernel: KernelName = "cubic",
    antialias: bool = True,
    border: BorderName = "symmetric",
    scale: float | None = None,
) -> np.ndarray:
    """The ``[out_size, in_size]`` float64 matrix that resamples one axis (read-only, cached).

    ``scale`` is the sampling ratio (output pixels per input pixel); it defaults to
    ``out_size / in_size`` and differs from it only when MATLAB is given a scale factor whose
    product with the size is not an integer.
    """
    _check_choice("kernel", kernel, list(KERNELS))
    _check_choice("border", border, list(BORDERS))
    if in_size < 1 or out_size < 1:
        raise ValueError(f"sizes must be positive, got {in_size} -> {out_size}.")
    scale = out_size / in_size if scale is None else float(scale)
    function, width = KERNELS[kernel]
    if scale < 1 and antialias:
        # Stretching the kernel by 1/scale makes it a low-pass filter at the output's Nyquist rate.
        kernel_at = lambda x: scale * function(scale * x)
        width = width / scale
    else:
        kernel_at = function
    centres = (np.arange(out_size) + 0.5) / scale - 0.5
    first = np.floor(centres - width / 2).astype(np.int64)
    index = first[:, None] + np.arange(math.ceil(width) + 2)
    weights = kernel_at(centres[:, None] - index)
    weights = weights / weights.sum(axis=1, keepdims=True)
    index, weights = BORDERS[border](index, weights, in_size)
    matrix = np.zeros((out_size, in_size))
    np.add.at(matrix, (np.arange(out_size)[:, None], index), weights)
    matrix.setflags(write=False)
    return matrix


def scaled_size(in_size: int, scale: float) -> int:
    """MATLAB's output length for a scale factor: ``ceil(in_size * scale)``."""
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}.")
    return max(1, math.ceil(in_size * scale - _SIZE_TOLERANCE))


def _resample_axis(images: jax.Array, matrix: np.ndarray, axis: int) -> jax.Array:
    weights = jnp.asarray(matrix, dtype=images.dtype)
    spec = "oh,...hwc->...owc" if axis == -3 else "ow,...hwc->...hoc"
    return jnp.einsum(spec, weights, images, precision=jax.lax.Precision.HIGHEST)


def _as_float(images: jax.Array) -> jax.Array:
    images = jnp.asarray(images)
    if images.ndim < 3:
        raise ValueError(f"images must be [..., H, W, C], got shape {images.shape}.")
    return images.astype(jnp.result_type(images.dtype, jnp.float32))


def _to_uint8_levels(images: jax.Array) -> jax.Array:
    # MATLAB's uint8 cast: saturate, then round half away from zero (not numpy's half to even).
    return jnp.floor(jnp.clip(images, 0.0, 255.0) + 0.5)


def _resample(
    images: jax.Array,
    size: tuple[int, int],
    scales: tuple[float, float],
    kernel: KernelName,
    antialias: bool | None,
    border: BorderName,
    uint8: bool,
) -> jax.Array:
    images = _as_float(images)
    antialias = default_antialias(kernel) if antialias is None else bool(antialias)
    if uint8:
        images = _to_uint8_levels(images * 255.0)
    axes = ((-3, 0), (-2, 1))
    # MATLAB resizes the most strongly shrunk axis first (rows on a tie); matching its order
    # matters when each pass is rounded, and it keeps the intermediate small.
    for axis, i in sorted(axes, key=lambda item: scales[item[1]]):
        in_size = images.shape[axis]
        if in_size == size[i] and scales[i] == 1.0:
            continue
        matrix = weight_matrix(in_size, size[i], kernel, antialias, border, scales[i])
        images = _resample_axis(images, matrix, axis)
        if uint8:
            images = _to_uint8_levels(images)
    return images / 255.0 if uint8 else images


def resize(
    images: jax.Array,
    size: tuple[int, int],
    kernel: KernelName = "cubic",
    *,
    antialias: bool | None = None,
    border: BorderName = "symmetric",
    uint8: bool = False,
) -> jax.Array:
    """Resample ``[..., H, W, C]`` images to ``size = (out_h, out_w)``, like MATLAB ``imresize``.

    ``antialias=None`` follows MATLAB: on for every kernel but ``nearest``. ``border`` says what
    lies outside the image: ``symmetric`` (MATLAB), ``edge`` (replicated, OpenCV), ``zero``
    (scikit-image ``mode="constant"``) or ``renormalize`` (outside taps dropped and the rest
    rescaled, PIL). The result is float32 (float64 for float64 input), not clipped. Jittable.

    ``uint8=True`` reproduces MATLAB on a uint8 image bit for bit: the [0, 1] input is taken to
    8 bits and every pass is rounded and saturated to 8 bits, as MATLAB's ``imresize`` does for
    uint8 data; the result is then ``k / 255`` for integers ``k`` in [0, 255].
    """
    out_h, out_w = (int(n) for n in size)
    in_h, in_w = jnp.shape(images)[-3:-1]
    return _resample(
        images, (out_h, out_w), (out_h / in_h, out_w / in_w), kernel, antialias, border, uint8
    )


def imresize_scale(
    images: jax.Array,
    scale: float | tuple[float, float],
    kernel: KernelName = "cubic",
    *,
    antialias: bool | None = None,
    border: BorderName = "symmetric",
    uint8: bool = False,
) -> jax.Array:
    """MATLAB ``imresize(A, scale)``: output ``ceil(scale * size)``, weights built from ``scale``.

    ``scale`` is one factor or ``(scale_h, scale_w)``; ``1/4`` downscales by four, ``3`` upscales
    by three. Other arguments as in :func:`resize`.
    """
    if isinstance(scale, tuple | list):
        scale_h, scale_w = (float(s) for s in scale)
    else:
        scale_h = scale_w = float(scale)
    in_h, in_w = jnp.shape(images)[-3:-1]
    size = (scaled_size(in_h, scale_h), scaled_size(in_w, scale_w))
    return _resample(images, size, (scale_h, scale_w), kernel, antialias, border, uint8)
