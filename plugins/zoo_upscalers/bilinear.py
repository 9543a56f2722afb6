"""Bilinear upscaling with half-pixel centres; the border is replicated or zero.

``border="edge"`` equals MATLAB's ``imresize(..., 'bilinear')``, PIL and OpenCV for integer
upscaling: the triangle kernel reaches at most one pixel beyond the image, where symmetric and
replicated padding coincide. ``border="zero"`` reproduces scikit-image ``rescale(...,
order=1, mode="constant")``, the DLI course's upsampling, whose outermost output pixels fade
towards zero. scikit-image then clips to the input's value range by default; ``clip_to_input``
does the same, so that the course's pipeline is reproduced exactly.
"""

from __future__ import annotations

import functools
from typing import Literal

import jax
import jax.numpy as jnp

from zoo.plugin import Images, Upscaler, check_scale, imresize_scale

Border = Literal["edge", "zero"]


def clip_to_input_range(image: Images, source: Images) -> Images:
    """Clip each image to the [min, max] of its source over pixels and channels (scikit-image)."""
    axes = tuple(range(source.ndim - 3, source.ndim))
    low = jnp.min(source, axis=axes, keepdims=True)
    high = jnp.max(source, axis=axes, keepdims=True)
    return jnp.clip(image, low, high)


@functools.partial(jax.jit, static_argnums=(1, 2, 3))
def _upscale(lr: Images, scale: int, border: Border, clip_to_input: bool) -> Images:
    image = imresize_scale(lr, scale, "linear", border=border)
    return clip_to_input_range(image, lr) if clip_to_input else image


def factory(border: Border = "edge", clip_to_input: bool = False) -> Upscaler:
    """Bilinear; border="zero" with clip_to_input=True is the DLI course's scikit-image call."""
    if border not in ("edge", "zero"):
        raise ValueError(f"bilinear border must be 'edge' or 'zero', got {border!r}.")

    def upscale(lr: Images, scale: int) -> Images:
        return _upscale(lr, check_scale(scale), border, bool(clip_to_input))

    return upscale
