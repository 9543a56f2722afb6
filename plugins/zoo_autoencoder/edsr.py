"""EDSR-baseline (Lim et al., CVPRW 2017): 16 residual blocks of 64 channels, sub-pixel output.

The encoder subtracts the training set's mean colour (DIV2K's, as the paper's code does), then
runs the head convolution, 16 residual blocks (conv, ReLU, conv; no batch normalisation; residual
scaling 1 in the baseline) and a body convolution with a skip over the body, all at the low
resolution (the ``resnet`` encoder's module). The decoder is the upsampler, one conv to 4x the
channels and a pixel shuffle per factor 2 (or one conv to 9x for x3), then the tail convolution
to the image's channels, and the mean added back. RGB: 1,369,859 parameters at x2, 1,554,499 at x3
and 1,517,571 at x4, the paper's "1.5M". Built for ``model.input: lr``.

Every convolution starts from PyTorch's default initialisation, as the paper's code does (biases
at zero rather than PyTorch's small uniform ones). Deviations from the paper: Adam with the zoo's
schedule, the recipe's loss (the paper's L1 is ``loss: {mae: 1.0}``), and whatever data the recipe
names instead of DIV2K.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import nnx

from zoo_autoencoder.layers import (
    TORCH_KERNEL_INIT,
    check_nhwc,
    check_upscale,
    conv3x3,
    depth_to_space,
)
from zoo_autoencoder.resnet import ResNetEncoder

# DIV2K's mean colour in [0, 1] (the paper's code: 0.4488, 0.4371, 0.4040 of 255).
DIV2K_RGB_MEAN = (0.4488, 0.4371, 0.4040)


def _mean(channels: int, mean: tuple[float, ...] | None) -> tuple[float, ...]:
    """The colour subtracted before the network and added after it (a constant, not learnt)."""
    if mean is None:
        mean = DIV2K_RGB_MEAN if channels == 3 else (0.5,) * channels
    if len(mean) != channels:
        raise ValueError(f"mean needs one value per channel ({channels}); got {tuple(mean)}.")
    return tuple(float(m) for m in mean)


class EDSREncoder(nnx.Module):
    """Mean shift, head, residual blocks, body conv, skip: x -> (features at x's size, ())."""

    def __init__(
        self,
        in_channels: int,
        *,
        width: int,
        blocks: int,
        res_scale: float,
        mean: tuple[float, ...] | None,
        rngs: nnx.Rngs,
    ) -> None:
        self.mean = _mean(in_channels, mean)
        self.body = ResNetEncoder(
            in_channels,
            width=width,
            blocks=blocks,
            res_scale=res_scale,
            rngs=rngs,
            kernel_init=TORCH_KERNEL_INIT,
        )

    def __call__(
        self, x: jax.Array, *, key: jax.Array | None = None
    ) -> tuple[jax.Array, tuple[jax.Array, ...]]:
        return self.body(x - jnp.asarray(self.mean, x.dtype))


def upsampling_factors(upscale: int) -> list[int]:
    """EDSR's upsampler: a x2 stage per factor 2 of a power of two, one x3 stage for 3."""
    if upscale == 3:
        return [3]
    if upscale >= 1 and upscale & (upscale - 1) == 0:
        return [2] * (upscale.bit_length() - 1)
    raise ValueError(f"the edsr upsampler makes x1, x2, x3, x4, x8 ...; got x{upscale}.")


class EDSRDecoder(nnx.Module):
    """Upsampler stages, tail conv, mean added back: (features, skips) -> image."""

    def __init__(
        self,
        width: int,
        out_channels: int,
        *,
        upscale: int,
        mean: tuple[float, ...] | None,
        rngs: nnx.Rngs,
    ) -> None:
        self.factors = upsampling_factors(upscale)
        self.stages = nnx.List(
            [
                conv3x3(width, width * f * f, rngs=rngs, kernel_init=TORCH_KERNEL_INIT)
                for f in self.factors
            ]
        )
        self.tail = conv3x3(width, out_channels, rngs=rngs, kernel_init=TORCH_KERNEL_INIT)
        self.mean = _mean(out_channels, mean)

    def __call__(
        self, code: jax.Array, skips: tuple[jax.Array, ...], *, key: jax.Array | None = None
    ) -> jax.Array:
        x = code
        for factor, stage in zip(self.factors, self.stages, strict=True):
            x = depth_to_space(stage(x), factor)
        return self.tail(x) + jnp.asarray(self.mean, x.dtype)


def edsr_encoder(
    *,
    in_channels: int,
    rngs: nnx.Rngs,
    width: int = 64,
    blocks: int = 16,
    res_scale: float = 1.0,
    mean: tuple[float, ...] | None = None,
) -> EDSREncoder:
    """EDSR-baseline's body: mean shift, head, 16 residual blocks of 64, body conv, skip."""
    return EDSREncoder(
        in_channels, width=width, blocks=blocks, res_scale=res_scale, mean=mean, rngs=rngs
    )


def edsr_decoder(
    *,
    code: jax.ShapeDtypeStruct,
    skips: tuple[jax.ShapeDtypeStruct, ...],
    out_channels: int,
    upscale: int,
    rngs: nnx.Rngs,
    mean: tuple[float, ...] | None = None,
) -> EDSRDecoder:
    """EDSR's upsampler (conv + pixel shuffle per factor) and tail conv, mean added back."""
    check_upscale(upscale)
    check_nhwc("edsr", code)
    return EDSRDecoder(code.shape[-1], out_channels, upscale=upscale, mean=mean, rngs=rngs)
