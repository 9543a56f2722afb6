"""ESPCN (Shi et al., CVPR 2016): two tanh convolutions on the small image, then sub-pixel output.

The paper's network with l = 3: (f1, n1) = (5, 64), (f2, n2) = (3, 32), f3 = 3. The encoder is
the first two layers (tanh each, at the low resolution); the decoder is the efficient sub-pixel
convolution layer, a 3x3 convolution to ``channels * scale**2`` feature maps rearranged by the
periodic shuffle into the image (the ``pixelshuffle`` decoder's module, not zero-initialised, since
ESPCN predicts the image itself rather than a residual). For one channel at x3 that is 22,624
weights and 105 biases; the paper gives the layer sizes, not a total. Built for ``model.input:
lr``.

Deviations from the paper: RGB in and out unless the data is one channel; 'SAME' padding, so the
output is exactly ``scale`` times the input (the paper trains on valid convolutions); Adam with
the zoo's schedule rather than the paper's learning rate of 0.01 falling to 0.0001.
"""

from __future__ import annotations

import jax
from flax import nnx

from zoo_autoencoder.layers import Output, check_two_sizes, conv
from zoo_autoencoder.pixelshuffle import PixelShuffleDecoder, pixelshuffle_decoder


class ESPCNEncoder(nnx.Module):
    """Two tanh convolutions at the input's size: x -> (features, ())."""

    def __init__(
        self, in_channels: int, *, filters: tuple[int, int], sizes: tuple[int, int], rngs: nnx.Rngs
    ) -> None:
        self.first = conv(in_channels, filters[0], sizes[0], rngs=rngs)
        self.second = conv(filters[0], filters[1], sizes[1], rngs=rngs)

    def __call__(
        self, x: jax.Array, *, key: jax.Array | None = None
    ) -> tuple[jax.Array, tuple[jax.Array, ...]]:
        return jax.nn.tanh(self.second(jax.nn.tanh(self.first(x)))), ()


def espcn_encoder(
    *,
    in_channels: int,
    rngs: nnx.Rngs,
    filters: tuple[int, int] = (64, 32),
    sizes: tuple[int, int] = (5, 3),
) -> ESPCNEncoder:
    """ESPCN's hidden layers: 5x5 64 tanh, 3x3 32 tanh, at the low resolution."""
    check_two_sizes(filters, sizes)
    return ESPCNEncoder(
        in_channels, filters=(filters[0], filters[1]), sizes=(sizes[0], sizes[1]), rngs=rngs
    )


def espcn_decoder(
    *,
    code: jax.ShapeDtypeStruct,
    skips: tuple[jax.ShapeDtypeStruct, ...],
    out_channels: int,
    upscale: int,
    rngs: nnx.Rngs,
    output: Output = "none",
) -> PixelShuffleDecoder:
    """ESPCN's sub-pixel convolution layer: 3x3 to channels * upscale**2, periodic shuffle."""
    return pixelshuffle_decoder(
        code=code,
        skips=skips,
        out_channels=out_channels,
        upscale=upscale,
        rngs=rngs,
        output=output,
        zero_init=False,
    )
