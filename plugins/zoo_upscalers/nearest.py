"""Nearest-neighbour upscaling: every LR pixel becomes a ``scale x scale`` block."""

from __future__ import annotations

import functools

import jax

from zoo.plugin import Images, Upscaler, check_scale, imresize_scale


@functools.partial(jax.jit, static_argnums=1)
def _upscale(lr: Images, scale: int) -> Images:
    return imresize_scale(lr, scale, "nearest")


def factory() -> Upscaler:
    """Nearest neighbour (pixel replication, MATLAB 'nearest', Keras UpSampling2D)."""

    def upscale(lr: Images, scale: int) -> Images:
        return _upscale(lr, check_scale(scale))

    return upscale
