"""3x3 'SAME' convolutions whose kernel gradient is nine matrix products on the CPU.

XLA:CPU computes a convolution's kernel gradient as one more convolution whose window is the
whole image, and that runs at 10-20 GFLOP/s on this project's CPU for the full-resolution layers
of the DLI network, where a matrix product runs at 60-130: it is most of a train step
(docs/benchmarks.md, `benchmarks/conv_layers.py`). Here the forward pass and the input gradient
stay ``lax.conv_general_dilated`` (the input gradient is the forward convolution of the output
gradient with the flipped kernel, which XLA does well), and on the CPU the kernel gradient is,
for each of the nine kernel taps, the product of the shifted input with the output gradient,
with the pixels as the contracted dimension. On every other platform the backward pass is XLA's
own (cuDNN on a GPU): ``lax.platform_dependent`` chooses when the program is lowered.

Anything else a caller asks of ``conv_general_dilated`` (strides, dilation, groups, explicit
padding, other kernel sizes and layouts) goes to ``lax.conv_general_dilated`` unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
from jax import lax

NHWC = ("NHWC", "HWIO", "NHWC")
MIN_OUTPUT_CHANNELS = 8
_NHWC_NUMBERS = lax.conv_dimension_numbers((1, 1, 1, 1), (1, 1, 1, 1), NHWC)


def conv_general_dilated(
    lhs: jax.Array,
    rhs: jax.Array,
    window_strides: Sequence[int],
    padding: Any,
    lhs_dilation: Sequence[int] | None = None,
    rhs_dilation: Sequence[int] | None = None,
    dimension_numbers: Any = None,
    feature_group_count: int = 1,
    precision: Any = None,
    **options: Any,
) -> jax.Array:
    """``lax.conv_general_dilated``'s signature (what ``nnx.Conv`` calls) and results."""
    plain = feature_group_count == 1 and precision is None
    plain = plain and _undilated(lhs_dilation, rhs_dilation)
    plain = plain and all(value is None for value in options.values())
    if plain and _same_nhwc(lhs, rhs, window_strides, padding, dimension_numbers):
        return same_conv(lhs, rhs)
    return lax.conv_general_dilated(
        lhs,
        rhs,
        window_strides,
        padding,
        lhs_dilation=lhs_dilation,
        rhs_dilation=rhs_dilation,
        dimension_numbers=dimension_numbers,
        feature_group_count=feature_group_count,
        precision=precision,
        **options,
    )


def _undilated(*dilations: Sequence[int] | None) -> bool:
    return all(dilation is None or tuple(dilation) == (1, 1) for dilation in dilations)


def _same_nhwc(
    lhs: jax.Array, rhs: jax.Array, strides: Sequence[int], padding: Any, dimension_numbers: Any
) -> bool:
    """Whether the call is a stride-1, 3x3, 'SAME' NHWC / HWIO convolution."""
    if lhs.ndim != 4 or rhs.ndim != 4 or tuple(strides) != (1, 1):
        return False
    if lax.conv_dimension_numbers(lhs.shape, rhs.shape, dimension_numbers) != _NHWC_NUMBERS:
        return False
    # Measured faster for 3x3 kernels only (benchmarks/conv_layers.py): a 9x9 one would be 81
    # products of a few channels each, which XLA's own gradient may well beat.
    # A product with a few output channels (an RGB output layer) is slower than XLA's gradient.
    if tuple(rhs.shape[:2]) != (3, 3) or rhs.shape[3] < MIN_OUTPUT_CHANNELS:
        return False
    if isinstance(padding, str):
        return padding == "SAME"
    return [tuple(pair) for pair in padding] == [(1, 1), (1, 1)]


def _forward_conv(x: jax.Array, kernel: jax.Array) -> jax.Array:
    return lax.conv_general_dilated(x, kernel, (1, 1), "SAME", dimension_numbers=NHWC)


@jax.custom_vjp
def same_conv(x: jax.Array, kernel: jax.Array) -> jax.Array:
    """A stride-1 'SAME' convolution of NHWC ``x`` with an odd-sized HWIO ``kernel``."""
    return _forward_conv(x, kernel)


def _same_conv_forward(x: jax.Array, kernel: jax.Array) -> tuple[jax.Array, tuple]:
    return _forward_conv(x, kernel), (x, kernel)


def _same_conv_backward(residuals: tuple, cotangent: jax.Array) -> tuple[jax.Array, jax.Array]:
    x, kernel = residuals
    return lax.platform_dependent(x, kernel, cotangent, cpu=_tap_product_grads, default=_xla_grads)


same_conv.defvjp(_same_conv_forward, _same_conv_backward)


def _xla_grads(
    x: jax.Array, kernel: jax.Array, cotangent: jax.Array
) -> tuple[jax.Array, jax.Array]:
    _, pullback = jax.vjp(_forward_conv, x, kernel)
    return pullback(cotangent)


def _tap_product_grads(
    x: jax.Array, kernel: jax.Array, cotangent: jax.Array
) -> tuple[jax.Array, jax.Array]:
    kh, kw, cin, cout = kernel.shape
    flipped = jnp.flip(kernel, (0, 1)).transpose(0, 1, 3, 2)
    x_grad = _forward_conv(cotangent, flipped.astype(cotangent.dtype)).astype(x.dtype)
    batch, height, width = x.shape[:3]
    pixels = batch * height * width
    padded = jnp.pad(x, ((0, 0), (kh // 2, kh // 2), (kw // 2, kw // 2), (0, 0)))
    flat_cotangent = cotangent.reshape(pixels, cout).astype(x.dtype)
    taps = [
        lax.dot_general(
            padded[:, i : i + height, j : j + width, :].reshape(pixels, cin),
            flat_cotangent,
            (((0,), (0,)), ((), ())),
            preferred_element_type=jnp.float32,
        )
        for i in range(kh)
        for j in range(kw)
    ]
    kernel_grad = jnp.stack(taps).reshape(kh, kw, cin, cout).astype(kernel.dtype)
    return x_grad, kernel_grad
