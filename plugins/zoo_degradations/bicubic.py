"""MATLAB ``imresize(HR, 1/scale, 'bicubic')``: the degradation of the published SR benchmarks."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from zoo.plugin import Array, Degradation, Images, check_scale, imresize_scale
from zoo_degradations.checks import check_hr


def downscale(hr: Images, scale: int, matlab_uint8: bool = False) -> Images:
    """Antialiased cubic (a = -0.5) ``1/scale`` resampling with symmetric borders, in [0, 1]."""
    lr = imresize_scale(hr, 1 / scale, "cubic", antialias=True, uint8=matlab_uint8)
    # MATLAB saturates on the way back to uint8; the float result would overshoot [0, 1].
    return jnp.clip(lr, 0.0, 1.0)


def factory(*, scale: int, matlab_uint8: bool = False) -> Degradation:
    """MATLAB-compatible antialiased bicubic downscale (the SR benchmark protocol).

    ``matlab_uint8=True`` also reproduces MATLAB's 8-bit arithmetic (input taken to 8 bits, each
    pass rounded), which gives the benchmark LR files bit for bit; the default keeps float
    precision throughout.
    """
    scale = check_scale(scale)
    shrink = jax.jit(functools.partial(downscale, scale=scale, matlab_uint8=matlab_uint8))

    def degrade(hr: Images, key: Array) -> Images:
        del key  # deterministic: the same for every key
        check_hr(hr, scale)
        return shrink(hr)

    return degrade
