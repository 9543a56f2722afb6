"""VDSR (Kim, Lee and Lee, CVPR 2016): 20 3x3 convolutions of 64 filters and a global residual.

The encoder is the first 19 layers (ReLU each) on the bicubic-upsampled image; the decoder is the
20th, a linear 3x3 convolution to the image's channels, whose output is the residual that
``model.residual: true`` adds to the upsampled image, as the paper does. For one channel that is
664,704 weights and 1,217 biases (665,921 in all, the "665K" the later papers tabulate). Built for
``model.input: upsampled`` with ``upsample: bicubic`` and ``residual: true``.

Deviations from the paper: RGB in and out unless the data is one channel; the last layer starts at
zero (``zero_init``), so the untrained model is exactly the bicubic image; Adam rather than SGD
at 0.1 with adjustable gradient clipping (a recipe clips by global norm with
``optimizer.clip_norm``); trained on one scale at a time, not on x2, x3 and x4 together.
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
    conv3x3,
)


class VDSREncoder(nnx.Module):
    """The first ``layers - 1`` convolutions, ReLU each: x -> (features at x's size, ())."""

    def __init__(self, in_channels: int, *, layers: int, width: int, rngs: nnx.Rngs) -> None:
        inputs = [in_channels] + [width] * (layers - 2)
        self.convs = nnx.List(
            [conv3x3(i, width, rngs=rngs, kernel_init=HE_KERNEL_INIT) for i in inputs]
        )

    def __call__(
        self, x: jax.Array, *, key: jax.Array | None = None
    ) -> tuple[jax.Array, tuple[jax.Array, ...]]:
        for convolution in self.convs:
            x = jax.nn.relu(convolution(x))
        return x, ()


class VDSRDecoder(nnx.Module):
    """The last convolution: (features, skips) -> the residual image, linear."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        *,
        zero_init: bool,
        output: Output,
        rngs: nnx.Rngs,
    ) -> None:
        init = nnx.initializers.zeros_init() if zero_init else HE_KERNEL_INIT
        self.out = conv3x3(in_channels, out_channels, rngs=rngs, kernel_init=init)
        self.output = output

    def __call__(
        self, code: jax.Array, skips: tuple[jax.Array, ...], *, key: jax.Array | None = None
    ) -> jax.Array:
        return ACTIVATIONS[self.output](self.out(code))


def vdsr_encoder(
    *, in_channels: int, rngs: nnx.Rngs, layers: int = 20, width: int = 64
) -> VDSREncoder:
    """VDSR's first layers - 1 convolutions (3x3, width filters, ReLU) on the upsampled image."""
    if layers < 2 or width < 1:
        raise ValueError(f"layers must be >= 2 and width >= 1; got {layers} and {width}.")
    return VDSREncoder(in_channels, layers=layers, width=width, rngs=rngs)


def vdsr_decoder(
    *,
    code: jax.ShapeDtypeStruct,
    skips: tuple[jax.ShapeDtypeStruct, ...],
    out_channels: int,
    upscale: int,
    rngs: nnx.Rngs,
    zero_init: bool = True,
    output: Output = "none",
) -> VDSRDecoder:
    """VDSR's last layer: 3x3 to the image's channels, the residual over the upsampled image."""
    check_full_size("vdsr", upscale)
    check_nhwc("vdsr", code)
    return VDSRDecoder(code.shape[-1], out_channels, zero_init=zero_init, output=output, rngs=rngs)
