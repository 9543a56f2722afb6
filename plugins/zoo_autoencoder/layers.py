"""Building blocks shared by the autoencoder designs: convolutions, resampling, activations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import jax
import jax.numpy as jnp
from flax import nnx

from zoo_autoencoder import cpu_conv

Output = Literal["relu", "sigmoid", "none"]

DEFAULT_KERNEL_INIT = nnx.initializers.lecun_normal()
# Keras' Conv2D default, so the DLI network starts from the same distribution as the course.
KERAS_KERNEL_INIT = nnx.initializers.glorot_uniform()
# He et al.'s initialisation, the one VDSR and FSRCNN train their ReLU / PReLU stacks from.
HE_KERNEL_INIT = nnx.initializers.he_normal()
# PyTorch's Conv2d default (kaiming_uniform with a=sqrt(5): variance 1/(3 fan_in)), the start of
# EDSR's reference code; lecun_normal's 1/fan_in compounds over 16 un-normalised residual blocks
# into an output whose spread is 4.5x the image's, which a few hundred steps never undo.
TORCH_KERNEL_INIT = nnx.initializers.variance_scaling(1 / 3, "fan_in", "uniform")

ACTIVATIONS: dict[str, Callable[[jax.Array], jax.Array]] = {
    "relu": jax.nn.relu,
    "sigmoid": jax.nn.sigmoid,
    "none": lambda x: x,
}


def conv(
    in_channels: int,
    out_channels: int,
    size: int,
    *,
    rngs: nnx.Rngs,
    kernel_init: nnx.Initializer = DEFAULT_KERNEL_INIT,
) -> nnx.Conv:
    """A size x size 'SAME' convolution with bias."""
    return nnx.Conv(
        in_channels,
        out_channels,
        (size, size),
        padding="SAME",
        kernel_init=kernel_init,
        conv_general_dilated=cpu_conv.conv_general_dilated,
        rngs=rngs,
    )


def conv3x3(
    in_channels: int,
    out_channels: int,
    *,
    rngs: nnx.Rngs,
    kernel_init: nnx.Initializer = DEFAULT_KERNEL_INIT,
) -> nnx.Conv:
    """A 3x3 'SAME' convolution with bias."""
    return conv(in_channels, out_channels, 3, rngs=rngs, kernel_init=kernel_init)


def max_pool2(x: jax.Array) -> jax.Array:
    """2x2 max pooling with stride 2 (Keras MaxPooling2D defaults)."""
    return nnx.max_pool(x, window_shape=(2, 2), strides=(2, 2), padding="VALID")


def upsample_nearest(x: jax.Array, factor: int) -> jax.Array:
    """Nearest-neighbour upsampling of an NHWC array (Keras UpSampling2D)."""
    return jnp.repeat(jnp.repeat(x, factor, axis=1), factor, axis=2)


def depth_to_space(x: jax.Array, factor: int) -> jax.Array:
    """Pixel shuffle: [N, H, W, r*r*C] -> [N, rH, rW, C], channel order as tf.nn.depth_to_space."""
    n, h, w, c = x.shape
    out = c // (factor * factor)
    x = x.reshape(n, h, w, factor, factor, out)
    return x.transpose(0, 1, 3, 2, 4, 5).reshape(n, h * factor, w * factor, out)


def check_upscale(upscale: int) -> None:
    """Decoders accept any positive integer upscale; anything else is a caller's mistake."""
    if not isinstance(upscale, int) or upscale < 1:
        raise ValueError(f"upscale must be a positive int, got {upscale!r}.")


def check_full_size(design: str, upscale: int) -> None:
    """Designs that refine an upsampled image (SRCNN, VDSR) never enlarge it themselves."""
    if upscale != 1:
        raise ValueError(
            f"the {design} decoder works on the upsampled image and cannot enlarge x{upscale}; "
            "set model.input: upsampled (with model.upsample: bicubic) in the recipe."
        )


def check_two_sizes(filters: tuple[int, ...], sizes: tuple[int, ...]) -> None:
    """The two hidden layers of SRCNN and ESPCN: a filter count and a kernel size each."""
    if len(filters) != 2 or len(sizes) != 2 or min(*filters, *sizes) < 1:
        raise ValueError(f"filters and sizes are two positive ints each; got {filters}, {sizes}.")


def check_nhwc(design: str, code: jax.ShapeDtypeStruct) -> None:
    """A decoder that convolves its code needs an NHWC array from the encoder."""
    if len(code.shape) != 4:
        raise ValueError(f"the {design} decoder needs an NHWC code; got shape {code.shape}.")


def l1_per_image(activations: list[jax.Array]) -> jax.Array:
    """Sum of |a| over each image's activations, averaged over the batch (tf.keras' convention)."""
    return sum(
        (jnp.abs(a).reshape(a.shape[0], -1).sum(axis=1).mean() for a in activations),
        start=jnp.zeros((), jnp.float32),
    )
