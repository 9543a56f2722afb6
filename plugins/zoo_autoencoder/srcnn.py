"""SRCNN (Dong et al., TPAMI 2016), the 9-5-5 network: three convolutions on the upsampled image.

Patch extraction (9x9, 64 filters, ReLU) and non-linear mapping (5x5, 32, ReLU) are the encoder;
reconstruction (5x5 to the image's channels, linear) is the decoder. The paper's 9-5-5 network on
the Y channel has 57,184 weights (57,281 with biases); on RGB it has 69,152 + 99 biases. Built for
``model.input: upsampled`` with ``upsample: bicubic``, as the paper feeds it.

Deviations from the paper: 'SAME' zero padding, so the output keeps the input's size (the paper
trains on valid convolutions and crops the target); RGB in and out unless the data is one channel;
He-normal kernels and Adam, not Gaussian (std 0.001) kernels and SGD with a 10x smaller rate on
the last layer.
"""

from __future__ import annotations

import jax
from flax import nnx

from zoo_autoencoder.layers import (
    ACTIVATIONS,
    HE_KERNEL_INIT,
    Output,
    check_full_size,
    check_nhwc,
    check_two_sizes,
    conv,
)


class SRCNNEncoder(nnx.Module):
    """Patch extraction and non-linear mapping: x -> (features, ())."""

    def __init__(
        self, in_channels: int, *, filters: tuple[int, int], sizes: tuple[int, int], rngs: nnx.Rngs
    ) -> None:
        self.extract = conv(
            in_channels, filters[0], sizes[0], rngs=rngs, kernel_init=HE_KERNEL_INIT
        )
        self.map = conv(filters[0], filters[1], sizes[1], rngs=rngs, kernel_init=HE_KERNEL_INIT)

    def __call__(
        self, x: jax.Array, *, key: jax.Array | None = None
    ) -> tuple[jax.Array, tuple[jax.Array, ...]]:
        return jax.nn.relu(self.map(jax.nn.relu(self.extract(x)))), ()


class SRCNNDecoder(nnx.Module):
    """Reconstruction: (features, skips) -> image at the features' size."""

    def __init__(
        self, in_channels: int, out_channels: int, *, size: int, output: Output, rngs: nnx.Rngs
    ) -> None:
        self.reconstruct = conv(in_channels, out_channels, size, rngs=rngs)
        self.output = output

    def __call__(
        self, code: jax.Array, skips: tuple[jax.Array, ...], *, key: jax.Array | None = None
    ) -> jax.Array:
        return ACTIVATIONS[self.output](self.reconstruct(code))


def srcnn_encoder(
    *,
    in_channels: int,
    rngs: nnx.Rngs,
    filters: tuple[int, int] = (64, 32),
    sizes: tuple[int, int] = (9, 5),
) -> SRCNNEncoder:
    """SRCNN 9-5-5's first two layers: 9x9 64 ReLU, 5x5 32 ReLU (on the upsampled image)."""
    check_two_sizes(filters, sizes)
    return SRCNNEncoder(
        in_channels, filters=(filters[0], filters[1]), sizes=(sizes[0], sizes[1]), rngs=rngs
    )


def srcnn_decoder(
    *,
    code: jax.ShapeDtypeStruct,
    skips: tuple[jax.ShapeDtypeStruct, ...],
    out_channels: int,
    upscale: int,
    rngs: nnx.Rngs,
    size: int = 5,
    output: Output = "none",
) -> SRCNNDecoder:
    """SRCNN 9-5-5's reconstruction layer: 5x5 to the image's channels, linear."""
    check_full_size("srcnn", upscale)
    check_nhwc("srcnn", code)
    return SRCNNDecoder(code.shape[-1], out_channels, size=size, output=output, rngs=rngs)
