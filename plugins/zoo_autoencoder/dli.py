"""The NVIDIA DLI course autoencoder, layer for layer: a U-Net-like encoder and decoder.

The course's Keras network (REFERENCE.md) with ``width=64``: 555,328 encoder parameters and
1,110,403 in all for RGB. Convolutions start from Keras' Glorot-uniform kernels and zero biases.

The L1 activity regulariser (1e-9 on every convolution's output) is kept, as ``activity_l1``: it
looks negligible but is not. At the course's 256x256 inputs the summed |activations| of one image
are ~7e5 at initialisation, so the term adds ~7e-4 to a loss whose MSE converges near 1e-3, and
its gradient is of the same order as the MSE's once the error is small. The modules sow it as a
``zoo.plugin.Penalty`` during training calls (a key is given); ``SuperResolver.forward`` returns
the sum for the loss to add. Per image, averaged over the batch, as tf.keras does.

The decoder serves ``upscale > 1`` (the model fed the low-resolution image) with a pixel-shuffle
output: the last convolution makes ``out_channels * upscale**2`` channels, rearranged to
``upscale`` times the size. At ``upscale == 1`` that is exactly the course's output layer.
"""

from __future__ import annotations

import jax
from flax import nnx

from zoo.plugin import Penalty
from zoo_autoencoder.layers import (
    ACTIVATIONS,
    KERAS_KERNEL_INIT,
    Output,
    check_upscale,
    conv3x3,
    depth_to_space,
    l1_per_image,
    max_pool2,
    upsample_nearest,
)

# Two 2x2 poolings: the input's height and width must be multiples of this.
DOWNSAMPLING = 4


def _conv(in_channels: int, out_channels: int, rngs: nnx.Rngs) -> nnx.Conv:
    return conv3x3(in_channels, out_channels, rngs=rngs, kernel_init=KERAS_KERNEL_INIT)


class DLIEncoder(nnx.Module):
    """The DLI encoder: x -> (code = l7, skips = (l2, l5))."""

    def __init__(
        self,
        in_channels: int,
        *,
        width: int,
        dropout: float,
        activity_l1: float,
        rngs: nnx.Rngs,
    ) -> None:
        if width < 1:
            raise ValueError(f"width must be at least 1, got {width}.")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout is a rate in [0, 1), got {dropout}.")
        self.l1 = _conv(in_channels, width, rngs)
        self.l2 = _conv(width, width, rngs)
        # No rngs here: the mask key comes from the call, so the module holds no RNG state.
        self.dropout = nnx.Dropout(dropout)
        self.l4 = _conv(width, 2 * width, rngs)
        self.l5 = _conv(2 * width, 2 * width, rngs)
        self.l7 = _conv(2 * width, 4 * width, rngs)
        self.activity_l1 = activity_l1

    def __call__(
        self, x: jax.Array, *, key: jax.Array | None = None
    ) -> tuple[jax.Array, tuple[jax.Array, ...]]:
        height, width = x.shape[1:3]
        if height % DOWNSAMPLING or width % DOWNSAMPLING:
            raise ValueError(
                f"the DLI encoder pools twice, so its input's height and width must be multiples "
                f"of {DOWNSAMPLING}; got {height}x{width}."
            )
        relu = jax.nn.relu
        l1 = relu(self.l1(x))
        l2 = relu(self.l2(l1))
        l3 = self.dropout(max_pool2(l2), deterministic=key is None, rngs=key)
        l4 = relu(self.l4(l3))
        l5 = relu(self.l5(l4))
        l7 = relu(self.l7(max_pool2(l5)))
        if key is not None and self.activity_l1 > 0:
            self.sow(Penalty, "activity_l1", self.activity_l1 * l1_per_image([l1, l2, l4, l5, l7]))
        return l7, (l2, l5)


def _spatial(shape: tuple[int, ...]) -> tuple[int, int]:
    return shape[1], shape[2]


def _check_skips(code: jax.ShapeDtypeStruct, skips: tuple[jax.ShapeDtypeStruct, ...]) -> None:
    """The decoder mirrors the DLI encoder: two skips at 4x and 2x the code's size."""
    if len(skips) != 2 or len(code.shape) != 4 or any(len(s.shape) != 4 for s in skips):
        raise ValueError(
            "the DLI decoder needs an NHWC code and two NHWC skips (full and half resolution), "
            f"as the dli encoder gives; got code {tuple(code.shape)} and skips "
            f"{tuple(tuple(s.shape) for s in skips)}."
        )
    full, half = (_spatial(s.shape) for s in skips)
    code_hw = _spatial(code.shape)
    if half != (2 * code_hw[0], 2 * code_hw[1]) or full != (2 * half[0], 2 * half[1]):
        raise ValueError(
            f"the DLI decoder upsamples the code twice by 2 and adds the skips on the way, so the "
            f"skips must be 4x and 2x the code's size; got code {code_hw} and skips "
            f"{full}, {half}."
        )


def _check_width(width: int | None, skips: tuple[jax.ShapeDtypeStruct, ...]) -> None:
    """A decoder width, if given, must be the encoder's: the skip additions need equal channels."""
    if width is None or len(skips) != 2:
        return
    channels = (skips[0].shape[-1], skips[1].shape[-1])
    if channels != (width, 2 * width):
        raise ValueError(
            f"decoder width {width} needs skips of {width} and {2 * width} channels, but the "
            f"encoder's have {channels[0]} and {channels[1]}; give both the same width, or leave "
            "the decoder's unset to follow the encoder."
        )


class DLIDecoder(nnx.Module):
    """The DLI decoder: (l7, (l2, l5)) -> image, ReLU output; pixel-shuffle when upscale > 1."""

    def __init__(
        self,
        *,
        code: jax.ShapeDtypeStruct,
        skips: tuple[jax.ShapeDtypeStruct, ...],
        out_channels: int,
        upscale: int,
        output: Output,
        activity_l1: float,
        rngs: nnx.Rngs,
    ) -> None:
        check_upscale(upscale)
        _check_skips(code, skips)
        # Widths follow the skips, so the additions l11 and l15 line up for any encoder width.
        full, half = skips[0].shape[-1], skips[1].shape[-1]
        self.l9 = _conv(code.shape[-1], half, rngs)
        self.l10 = _conv(half, half, rngs)
        self.l13 = _conv(half, full, rngs)
        self.l14 = _conv(full, full, rngs)
        self.out = _conv(full, out_channels * upscale * upscale, rngs)
        self.upscale = upscale
        self.output = output
        self.activity_l1 = activity_l1

    def __call__(
        self, code: jax.Array, skips: tuple[jax.Array, ...], *, key: jax.Array | None = None
    ) -> jax.Array:
        l2, l5 = skips
        relu = jax.nn.relu
        l9 = relu(self.l9(upsample_nearest(code, 2)))
        l10 = relu(self.l10(l9))
        l11 = l5 + l10
        l13 = relu(self.l13(upsample_nearest(l11, 2)))
        l14 = relu(self.l14(l13))
        l15 = l14 + l2
        y = self.out(l15)
        if self.upscale > 1:
            y = depth_to_space(y, self.upscale)
        y = ACTIVATIONS[self.output](y)
        if key is not None and self.activity_l1 > 0:
            self.sow(
                Penalty, "activity_l1", self.activity_l1 * l1_per_image([l9, l10, l13, l14, y])
            )
        return y


# Factories, not the classes, are registered: nnx.Module's metaclass hides __init__'s signature,
# and the registry reads a factory's options from its signature.


def dli_encoder(
    *,
    in_channels: int,
    rngs: nnx.Rngs,
    width: int = 64,
    dropout: float = 0.3,
    activity_l1: float = 1e-9,
) -> DLIEncoder:
    """NVIDIA DLI course encoder: conv 64x2, pool, dropout, conv 128x2, pool, conv 256."""
    return DLIEncoder(in_channels, width=width, dropout=dropout, activity_l1=activity_l1, rngs=rngs)


def dli_decoder(
    *,
    code: jax.ShapeDtypeStruct,
    skips: tuple[jax.ShapeDtypeStruct, ...],
    out_channels: int,
    upscale: int,
    rngs: nnx.Rngs,
    width: int | None = None,
    output: Output = "relu",
    activity_l1: float = 1e-9,
) -> DLIDecoder:
    """NVIDIA DLI course decoder: upsample, conv, skip-add twice, conv + ReLU."""
    _check_width(width, skips)
    return DLIDecoder(
        code=code,
        skips=skips,
        out_channels=out_channels,
        upscale=upscale,
        output=output,
        activity_l1=activity_l1,
        rngs=rngs,
    )
