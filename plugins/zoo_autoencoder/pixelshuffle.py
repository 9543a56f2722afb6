"""A sub-pixel (pixel-shuffle) decoder: one convolution at the code's size, then depth-to-space.

ESPCN's output stage (Shi et al. 2016): a 3x3 convolution makes ``out_channels * upscale**2``
channels, which are rearranged into an image ``upscale`` times the code's height and width, so
no convolution runs at the high resolution. Any integer upscale works (1 gives a plain conv).
It expects a code at the encoder input's resolution (as ``resnet`` gives) and ignores skips.

The output convolution starts at zero (``zero_init``): with ``model.residual: true`` the untrained
model is then exactly the classic upscaler it refines, and every sub-pixel starts alike, which is
what ICNR initialisation achieves against checkerboard artefacts. The default output is linear
("none"), since a residual over the upsampled image must be able to go negative.
"""

from __future__ import annotations

import jax
from flax import nnx

from zoo_autoencoder.layers import (
    ACTIVATIONS,
    DEFAULT_KERNEL_INIT,
    Output,
    check_upscale,
    conv3x3,
    depth_to_space,
)


class PixelShuffleDecoder(nnx.Module):
    """(code, skips) -> depth_to_space(conv(code)): upscale x the code's size, skips unused."""

    def __init__(
        self,
        *,
        code: jax.ShapeDtypeStruct,
        skips: tuple[jax.ShapeDtypeStruct, ...],
        out_channels: int,
        upscale: int,
        output: Output,
        zero_init: bool,
        rngs: nnx.Rngs,
    ) -> None:
        check_upscale(upscale)
        if len(code.shape) != 4:
            raise ValueError(f"the pixelshuffle decoder needs an NHWC code; got {code.shape}.")
        kernel_init = nnx.initializers.zeros_init() if zero_init else DEFAULT_KERNEL_INIT
        self.out = conv3x3(
            code.shape[-1], out_channels * upscale * upscale, rngs=rngs, kernel_init=kernel_init
        )
        self.upscale = upscale
        self.output = output

    def __call__(
        self, code: jax.Array, skips: tuple[jax.Array, ...], *, key: jax.Array | None = None
    ) -> jax.Array:
        return ACTIVATIONS[self.output](depth_to_space(self.out(code), self.upscale))


def pixelshuffle_decoder(
    *,
    code: jax.ShapeDtypeStruct,
    skips: tuple[jax.ShapeDtypeStruct, ...],
    out_channels: int,
    upscale: int,
    rngs: nnx.Rngs,
    output: Output = "none",
    zero_init: bool = True,
) -> PixelShuffleDecoder:
    """One conv at the code's size, then depth-to-space by upscale (ESPCN's output stage)."""
    return PixelShuffleDecoder(
        code=code,
        skips=skips,
        out_channels=out_channels,
        upscale=upscale,
        output=output,
        zero_init=zero_init,
        rngs=rngs,
    )
