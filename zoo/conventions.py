"""Evaluation conventions: how prediction and target are prepared before any metric sees them.

``rgb`` is the DLI course's: floats clipped to [0, 1], all three channels, no border crop.

``y`` is the published SR protocol (../shared/data/README.md): both images clipped to [0, 1] and
rounded to 8 bits (half away from zero, like MATLAB's uint8), converted to the BT.601 luma of
MATLAB ``rgb2ycbcr``, Y = 16 + 65.481 R + 128.553 G + 24.966 B with R, G, B in [0, 1], kept as
float (not rounded), then ``scale`` pixels shaved from every border. An image whose source file
had a single channel (Set14's bridge) is scored on its grey level itself, as the benchmark
scripts do for single-channel files, not on 16 + 219 * grey. Y is divided by 255 so
metrics stay in [0, 1] units: PSNR with R = 1 on Y/255 equals PSNR with R = 255 on Y (the MSE
scales by 255^2, exactly as R^2), and SSIM with L = 1 on Y/255 equals SSIM with L = 255 on Y
(SSIM is invariant when data and L scale together). So the default metric options reproduce the
published numbers.
"""

from __future__ import annotations

import numbers

import jax
import jax.numpy as jnp

CONVENTIONS = ("rgb", "y")

DESCRIPTIONS = {
    "rgb": "RGB in [0, 1], all channels, no border crop (DLI course)",
    "y": "8-bit rounded, BT.601 luma (MATLAB rgb2ycbcr; grey images: grey level) / 255, "
    "`scale` pixels shaved (published SR protocol)",
}

# MATLAB rgb2ycbcr's luma row for RGB in [0, 1]; the offset is 16 on the 0..255 scale.
LUMA_WEIGHTS = (65.481, 128.553, 24.966)
LUMA_OFFSET = 16.0


def check(convention: str) -> str:
    """The convention name itself, or ``ValueError`` listing the valid ones."""
    if convention not in CONVENTIONS:
        raise ValueError(
            f"unknown evaluation convention {convention!r}; valid: {', '.join(CONVENTIONS)}"
        )
    return convention


def describe(convention: str) -> str:
    """One line for reports saying what the convention does."""
    return DESCRIPTIONS[check(convention)]


def quantize_8bit(images: jax.Array) -> jax.Array:
    """Clip to [0, 1] and round to the nearest of 256 levels, halves upwards as MATLAB does."""
    return jnp.floor(jnp.clip(images, 0.0, 1.0) * 255.0 + 0.5) / 255.0


def luma(images: jax.Array) -> jax.Array:
    """BT.601 Y of NHWC RGB in [0, 1], as NHW1 in [16/255, 235/255]."""
    # Multiply-adds, not a dot: accelerators may run float32 dots at reduced precision (TF32),
    # which would move Y by more than the protocol's hundredth of a dB.
    red, green, blue = images[..., 0], images[..., 1], images[..., 2]
    weight_r, weight_g, weight_b = LUMA_WEIGHTS
    y = LUMA_OFFSET + weight_r * red + weight_g * green + weight_b * blue
    return (y / 255.0)[..., None]


def grey_level(images: jax.Array) -> jax.Array:
    """The grey level of NHWC RGB in [0, 1] as NHW1: the luma weights normalised to sum to 1."""
    red, green, blue = images[..., 0], images[..., 1], images[..., 2]
    weight_r, weight_g, weight_b = (weight / sum(LUMA_WEIGHTS) for weight in LUMA_WEIGHTS)
    return (weight_r * red + weight_g * green + weight_b * blue)[..., None]


def shave(images: jax.Array, border: int) -> jax.Array:
    """Drop ``border`` pixels from each side of height and width."""
    height, width = images.shape[1:3]
    if min(height, width) <= 2 * border:
        raise ValueError(f"cannot shave {border} pixels from each side of {height}x{width} images")
    return images[:, border : height - border, border : width - border, :]


def apply(
    convention: str,
    pred: jax.Array,
    target: jax.Array,
    scale: int,
    single_channel: jax.Array | None = None,
) -> tuple[jax.Array, jax.Array]:
    """Prepare NHWC RGB ``pred`` and ``target`` for scoring under ``convention``.

    Jittable with ``convention`` and ``scale`` static. ``rgb`` clips to [0, 1] and returns RGB;
    ``y`` returns NHW1 luma / 255 shaved by ``scale``; ``single_channel`` (bool [N]) marks images
    whose source was grey, scored on their grey level instead of their luma.
    """
    check(convention)
    if not isinstance(scale, numbers.Integral) or scale < 1:
        raise ValueError(f"scale must be a positive int, got {scale!r}")
    pred = jnp.asarray(pred, jnp.float32)
    target = jnp.asarray(target, jnp.float32)
    if pred.ndim != 4 or pred.shape != target.shape:
        raise ValueError(
            f"convention {convention!r} needs NHWC pred and target of the same shape, got "
            f"{pred.shape} and {target.shape}"
        )
    if convention == "rgb":
        return jnp.clip(pred, 0.0, 1.0), jnp.clip(target, 0.0, 1.0)
    if pred.shape[-1] != 3:
        raise ValueError(f"convention 'y' needs RGB images (3 channels), got {pred.shape[-1]}")
    border = int(scale)
    pred, target = quantize_8bit(pred), quantize_8bit(target)
    # A single-channel image has no chroma to separate: the published numbers score its grey
    # level directly (on 0..255), which reads 20 log10(255/219) = 1.32 dB lower than its luma.
    if single_channel is None:
        return shave(luma(pred), border), shave(luma(target), border)
    grey = jnp.asarray(single_channel, bool).reshape(-1, 1, 1, 1)
    pred_y = jnp.where(grey, grey_level(pred), luma(pred))
    target_y = jnp.where(grey, grey_level(target), luma(target))
    return shave(pred_y, border), shave(target_y, border)
