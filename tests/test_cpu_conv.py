"""zoo_autoencoder.cpu_conv: lax's results and gradients, the tap products on the CPU only."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx
from jax import lax

from zoo_autoencoder import cpu_conv, layers

NHWC = ("NHWC", "HWIO", "NHWC")


def lax_conv(x, kernel, padding="SAME"):
    return lax.conv_general_dilated(x, kernel, (1, 1), padding, dimension_numbers=NHWC)


def zoo_conv(x, kernel, padding="SAME"):
    return cpu_conv.conv_general_dilated(x, kernel, (1, 1), padding, dimension_numbers=NHWC)


def arrays(size: int, cin: int, cout: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = jnp.asarray(rng.standard_normal((2, 12, 10, cin)), jnp.float32)
    kernel = jnp.asarray(rng.standard_normal((size, size, cin, cout)) * 0.2, jnp.float32)
    return x, kernel


def gradients(conv, x, kernel):
    def loss(x, kernel):
        return jnp.sum(jnp.sin(conv(x, kernel)))  # a cotangent that differs pixel by pixel

    return jax.jit(jax.grad(loss, argnums=(0, 1)))(x, kernel)


# 3x3 with 8 outputs takes the tap products; the others go to lax and must match all the same.
SHAPES = [(3, 5, 8), (3, 8, 3), (1, 4, 8), (5, 3, 8), (9, 2, 8)]


@pytest.mark.parametrize(("size", "cin", "cout"), SHAPES)
def test_the_values_and_gradients_are_lax_conv_general_dilated(size, cin, cout):
    x, kernel = arrays(size, cin, cout)
    np.testing.assert_allclose(zoo_conv(x, kernel), lax_conv(x, kernel), rtol=1e-6, atol=1e-6)
    for ours, theirs in zip(
        gradients(zoo_conv, x, kernel), gradients(lax_conv, x, kernel), strict=True
    ):
        scale = float(jnp.max(jnp.abs(theirs)))
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=2e-5 * scale)


def test_explicit_same_padding_takes_the_same_path():
    x, kernel = arrays(3, 4, 4)
    explicit = gradients(lambda x, k: zoo_conv(x, k, [(1, 1), (1, 1)]), x, kernel)
    named = gradients(zoo_conv, x, kernel)
    for a, b in zip(explicit, named, strict=True):
        np.testing.assert_array_equal(a, b)


def test_anything_else_is_handed_to_lax_unchanged():
    x, kernel = arrays(3, 4, 4)
    strided = cpu_conv.conv_general_dilated(x, kernel, (2, 2), "SAME", dimension_numbers=NHWC)
    expected = lax.conv_general_dilated(x, kernel, (2, 2), "SAME", dimension_numbers=NHWC)
    np.testing.assert_array_equal(strided, expected)
    valid = zoo_conv(x, kernel, "VALID")
    np.testing.assert_array_equal(valid, lax_conv(x, kernel, "VALID"))
    even = jnp.ones((2, 2, 4, 4), jnp.float32)
    np.testing.assert_array_equal(zoo_conv(x, even), lax_conv(x, even))


def test_the_layer_the_designs_build_uses_it():
    model = layers.conv3x3(4, 6, rngs=nnx.Rngs(0))
    assert model.conv_general_dilated is cpu_conv.conv_general_dilated
    x = arrays(3, 4, 6)[0]

    def loss(model):
        return jnp.mean(model(x) ** 2)

    ours = nnx.grad(loss)(model)
    model.conv_general_dilated = lax.conv_general_dilated
    theirs = nnx.grad(loss)(model)
    np.testing.assert_allclose(ours["kernel"][...], theirs["kernel"][...], rtol=1e-5, atol=1e-7)


def lowered(platform: str) -> str:
    x = jax.ShapeDtypeStruct((2, 16, 16, 3), jnp.float32)
    kernel = jax.ShapeDtypeStruct((3, 3, 3, 8), jnp.float32)

    def loss(x, kernel):
        return jnp.mean(jax.nn.relu(zoo_conv(x, kernel)) ** 2)

    grad = jax.jit(jax.grad(loss, argnums=(0, 1)))
    return grad.trace(x, kernel).lower(lowering_platforms=(platform,)).as_text()


def test_a_gpu_keeps_xlas_convolutions_and_the_cpu_gets_tap_products():
    cuda, cpu = lowered("cuda"), lowered("cpu")
    # forward, input gradient, kernel gradient: three convolutions for cuDNN
    assert cuda.count("stablehlo.convolution") == 3 and "dot_general" not in cuda
    # forward and input gradient; the kernel gradient is one product per tap of the 3x3 kernel
    assert cpu.count("stablehlo.convolution") == 2 and cpu.count("stablehlo.dot_general") == 9
