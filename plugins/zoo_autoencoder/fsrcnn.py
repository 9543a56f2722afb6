"""FSRCNN (Dong, Loy and Tang, ECCV 2016), FSRCNN(56, 12, 4): an hourglass on the small image.

The encoder is feature extraction (5x5, d filters), shrinking (1x1 to s), m mapping layers (3x3,
s) and expanding (1x1 back to d), each followed by a channel-wise PReLU, all at the low
resolution. The decoder is the 9x9 deconvolution (transposed convolution) with stride ``scale``
that makes the high-resolution image. The paper counts 12,464 weights for one channel (biases
and PReLU slopes left out), the same for every scale: only the deconvolution's stride changes.
Built for ``model.input: lr``.

Deviations from the paper: RGB in and out unless the data is one channel; 'SAME' padding for
every layer, so the output is exactly ``scale`` times the input (the paper crops the deconvolved
image's border); Adam rather than SGD with a 10x smaller rate on the deconvolution.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from zoo_autoencoder.layers import (
    ACTIVATIONS,
    HE_KERNEL_INIT,
    Output,
    check_nhwc,
    check_upscale,
    conv,
)


class PReLU(nnx.Module):
    """max(x, 0) + a * min(x, 0) with one slope per channel, starting at 0.25 (He et al. 2015)."""

    def __init__(self, channels: int) -> None:
        self.slope = nnx.Param(jnp.full((channels,), 0.25, jnp.float32))

    def __call__(self, x: jax.Array) -> jax.Array:
        return jnp.where(x >= 0, x, self.slope[...] * x)


class FSRCNNEncoder(nnx.Module):
    """Feature extraction, shrinking, mapping, expanding: x -> (d features at x's size, ())."""

    def __init__(self, in_channels: int, *, d: int, s: int, m: int, rngs: nnx.Rngs) -> None:
        def layer(i: int, o: int, size: int) -> nnx.Conv:
            return conv(i, o, size, rngs=rngs, kernel_init=HE_KERNEL_INIT)

        widths = [(in_channels, d, 5), (d, s, 1), *[(s, s, 3)] * m, (s, d, 1)]
        self.convs = nnx.List([layer(i, o, size) for i, o, size in widths])
        self.activations = nnx.List([PReLU(o) for _, o, _ in widths])

    def __call__(
        self, x: jax.Array, *, key: jax.Array | None = None
    ) -> tuple[jax.Array, tuple[jax.Array, ...]]:
        for convolution, activation in zip(self.convs, self.activations, strict=True):
            x = activation(convolution(x))
        return x, ()


class FSRCNNDecoder(nnx.Module):
    """The deconvolution: (features, skips) -> image ``upscale`` times the features' size."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        upscale: int,
        size: int,
        output: Output,
        rngs: nnx.Rngs,
    ) -> None:
        # The paper draws the deconvolution's kernel from N(0, 0.001): a small start that keeps
        # the first steps from overshooting, where He-normal would be far too large for 9x9.
        self.deconv = nnx.ConvTranspose(
            in_channels,
            out_channels,
            (size, size),
            strides=(upscale, upscale),
            padding="SAME",
            kernel_init=nnx.initializers.normal(1e-3),
            rngs=rngs,
        )
        self.output = output

    def __call__(
        self, code: jax.Array, skips: tuple[jax.Array, ...], *, key: jax.Array | None = None
    ) -> jax.Array:
        return ACTIVATIONS[self.output](self.deconv(code))


def fsrcnn_encoder(
    *, in_channels: int, rngs: nnx.Rngs, d: int = 56, s: int = 12, m: int = 4
) -> FSRCNNEncoder:
    """FSRCNN(d, s, m) up to the deconvolution: 5x5 d, 1x1 s, m x 3x3 s, 1x1 d, PReLU each."""
    if min(d, s) < 1 or m < 0:
        raise ValueError(f"d and s must be >= 1 and m >= 0; got d={d}, s={s}, m={m}.")
    return FSRCNNEncoder(in_channels, d=d, s=s, m=m, rngs=rngs)


def fsrcnn_decoder(
    *,
    code: jax.ShapeDtypeStruct,
    skips: tuple[jax.ShapeDtypeStruct, ...],
    out_channels: int,
    upscale: int,
    rngs: nnx.Rngs,
    size: int = 9,
    output: Output = "none",
) -> FSRCNNDecoder:
    """FSRCNN's 9x9 deconvolution with stride upscale, linear output."""
    check_upscale(upscale)
    check_nhwc("fsrcnn", code)
    if size < 1:
        raise ValueError(f"size must be a positive int; got {size}.")
    return FSRCNNDecoder(
        code.shape[-1], out_channels, upscale=upscale, size=size, output=output, rngs=rngs
    )
