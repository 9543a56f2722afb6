"""Lanczos3 upscaling (sinc windowed by sinc over three lobes), MATLAB or PIL borders."""

from __future__ import annotations

import functools
from typing import Literal

import jax

from zoo.plugin import Images, Upscaler, check_scale, imresize_scale

Border = Literal["symmetric", "renormalize"]


@functools.partial(jax.jit, static_argnums=(1, 2))
def _upscale(lr: Images, scale: int, border: Border) -> Images:
    return imresize_scale(lr, scale, "lanczos3", border=border)


def factory(border: Border = "symmetric") -> Upscaler:
    """Lanczos3; border="symmetric" is MATLAB 'lanczos3', "renormalize" is PIL's LANCZOS."""
    if border not in ("symmetric", "renormalize"):
        raise ValueError(f"lanczos border must be 'symmetric' or 'renormalize', got {border!r}.")

    def upscale(lr: Images, scale: int) -> Images:
        return _upscale(lr, check_scale(scale), border)

    return upscale
