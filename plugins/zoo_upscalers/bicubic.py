"""MATLAB ``imresize(LR, scale, 'bicubic')``: the bicubic baseline of the SR benchmarks."""

from __future__ import annotations

import functools

import jax

from zoo.plugin import Images, Upscaler, check_scale, imresize_scale


@functools.partial(jax.jit, static_argnums=1)
def _upscale(lr: Images, scale: int) -> Images:
    return imresize_scale(lr, scale, "cubic", border="symmetric")


def factory() -> Upscaler:
    """Bicubic, MATLAB-compatible (a = -0.5, symmetric borders); the published baseline."""

    def upscale(lr: Images, scale: int) -> Images:
        return _upscale(lr, check_scale(scale))

    return upscale
