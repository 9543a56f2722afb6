"""Built-in encoders and decoders: the DLI network layer by layer, the resnet/pixelshuffle pair."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from zoo.errors import PluginError
from zoo.model import Penalty, count_parameters
from zoo.registry import get_registry
from zoo_autoencoder.layers import depth_to_space, max_pool2, upsample_nearest

RGB = 3


def image(shape: tuple[int, ...], seed: int = 0) -> jax.Array:
    return jax.random.uniform(jax.random.key(seed), shape)


def build_encoder(name: str, seed: int = 0, **options):
    return get_registry().build("encoders", name, options, in_channels=RGB, rngs=nnx.Rngs(seed))


def build_decoder(name: str, encoder, size: int, upscale: int = 1, **options):
    probe = jax.ShapeDtypeStruct((1, size, size, RGB), jnp.float32)
    code, skips = nnx.eval_shape(lambda module, x: module(x), encoder, probe)
    return get_registry().build(
        "decoders",
        name,
        options,
        code=code,
        skips=tuple(skips),
        out_channels=RGB,
        upscale=upscale,
        rngs=nnx.Rngs(1),
    )


def course_network(encoder, decoder, x: jax.Array) -> jax.Array:
    """REFERENCE.md's table written out with the modules' layers, dropout off."""
    relu = jax.nn.relu
    l1 = relu(encoder.l1(x))
    l2 = relu(encoder.l2(l1))
    l3 = max_pool2(l2)
    l5 = relu(encoder.l5(relu(encoder.l4(l3))))
    l7 = relu(encoder.l7(max_pool2(l5)))
    l10 = relu(decoder.l10(relu(decoder.l9(upsample_nearest(l7, 2)))))
    l11 = l5 + l10
    l14 = relu(decoder.l14(relu(decoder.l13(upsample_nearest(l11, 2)))))
    l15 = l14 + l2
    return relu(decoder.out(l15))


def count_modules(module: nnx.Module, kind: type) -> int:
    return sum(isinstance(node, kind) for _, node in nnx.iter_graph(module))


def test_dli_parameter_counts_match_the_course():
    encoder = build_encoder("dli")
    decoder = build_decoder("dli", encoder, 16)
    assert count_parameters(encoder) == 555_328
    assert count_parameters(encoder) + count_parameters(decoder) == 1_110_403


def test_dli_layers_and_skip_additions_follow_the_reference():
    encoder = build_encoder("dli")
    decoder = build_decoder("dli", encoder, 16)
    x = image((2, 16, 16, RGB))
    code, skips = encoder(x)
    assert code.shape == (2, 4, 4, 256)
    assert [s.shape for s in skips] == [(2, 16, 16, 64), (2, 8, 8, 128)]
    l2 = jax.nn.relu(encoder.l2(jax.nn.relu(encoder.l1(x))))
    np.testing.assert_allclose(skips[0], l2, atol=1e-6)
    np.testing.assert_allclose(decoder(code, skips), course_network(encoder, decoder, x), atol=1e-5)


def test_dli_has_one_dropout_of_0_3_after_the_first_pool():
    encoder = build_encoder("dli", activity_l1=0.0)
    decoder = build_decoder("dli", encoder, 16)
    assert count_modules(encoder, nnx.Dropout) == 1
    assert count_modules(decoder, nnx.Dropout) == 0
    assert encoder.dropout.rate == 0.3
    x = image((1, 16, 16, RGB))
    plain_code, (plain_l2, plain_l5) = encoder(x)
    again_code, _ = encoder(x)
    code, (l2, l5) = encoder(x, key=jax.random.key(1))
    same_code, _ = encoder(x, key=jax.random.key(1))
    other_code, _ = encoder(x, key=jax.random.key(2))
    np.testing.assert_array_equal(plain_code, again_code)  # no key: deterministic
    np.testing.assert_array_equal(code, same_code)  # a key fixes the mask
    assert not np.allclose(code, other_code)
    # Before the pool nothing is dropped; from l4 on the mask shows.
    np.testing.assert_array_equal(l2, plain_l2)
    assert not np.allclose(l5, plain_l5)


def test_dli_dropout_rate_is_an_option():
    encoder = build_encoder("dli", dropout=0.0, activity_l1=0.0)
    x = image((1, 16, 16, RGB))
    np.testing.assert_array_equal(encoder(x)[0], encoder(x, key=jax.random.key(3))[0])
    kept = build_encoder("dli", dropout=0.5).dropout(
        jnp.ones((20_000,)), deterministic=False, rngs=jax.random.key(4)
    )
    assert float(jnp.mean(kept == 0)) == pytest.approx(0.5, abs=0.02)


def test_dli_output_is_relu_by_default_and_configurable():
    encoder = build_encoder("dli")
    x = image((2, 16, 16, RGB))
    code, skips = encoder(x)
    relu_out = build_decoder("dli", encoder, 16)(code, skips)
    assert float(relu_out.min()) == 0.0  # ReLU clamps some outputs of an untrained net to 0
    sigmoid_out = build_decoder("dli", encoder, 16, output="sigmoid")(code, skips)
    assert float(sigmoid_out.min()) > 0.0 and float(sigmoid_out.max()) < 1.0
    linear_out = build_decoder("dli", encoder, 16, output="none")(code, skips)
    assert float(linear_out.min()) < 0.0


def test_dli_width_scales_every_stage():
    encoder = build_encoder("dli", width=8)
    code, skips = encoder(image((1, 8, 8, RGB)))
    assert code.shape[-1] == 32 and [s.shape[-1] for s in skips] == [8, 16]
    assert build_decoder("dli", encoder, 8)(code, skips).shape == (1, 8, 8, RGB)


def test_dli_decoder_width_follows_the_encoder_or_must_match_it():
    encoder = build_encoder("dli", width=8)
    assert count_parameters(build_decoder("dli", encoder, 8, width=8)) == count_parameters(
        build_decoder("dli", encoder, 8)
    )
    with pytest.raises(PluginError, match="decoder width 16 needs skips of 16 and 32 channels"):
        build_decoder("dli", encoder, 8, width=16)


def test_dli_decoder_upscales_by_pixel_shuffle():
    encoder = build_encoder("dli", width=8)
    code, skips = encoder(image((1, 8, 8, RGB)))
    for upscale in (2, 3):
        assert build_decoder("dli", encoder, 8, upscale)(code, skips).shape == (
            1,
            8 * upscale,
            8 * upscale,
            RGB,
        )


def test_dli_encoder_rejects_sizes_the_pools_do_not_divide():
    with pytest.raises(ValueError, match="multiples of 4"):
        build_encoder("dli", width=4)(image((1, 10, 12, RGB)))


def test_dli_decoder_rejects_foreign_skips():
    code = jax.ShapeDtypeStruct((1, 8, 8, 32), jnp.float32)
    with pytest.raises(
        PluginError,
        match=r"decoder .dli. \(plugin autoencoder\) cannot be built.*two NHWC skips",
    ):
        get_registry().build(
            "decoders", "dli", code=code, skips=(), out_channels=3, upscale=1, rngs=nnx.Rngs(0)
        )


def test_dli_activity_penalty_is_sown_only_in_training_calls():
    encoder = build_encoder("dli", width=4)
    x = image((2, 8, 8, RGB))
    capture = nnx.capture(lambda module, x, key: module(x, key=key), Penalty)
    _, sown = capture(encoder, x, None)
    assert jax.tree.leaves(sown) == []
    _, sown = capture(encoder, x, jax.random.key(0))
    assert float(jax.tree.leaves(sown)[0]) > 0
    assert not nnx.state(encoder, Penalty)  # captured values never stay on the module


def test_unknown_option_lists_the_valid_ones():
    with pytest.raises(PluginError, match="dropout"):
        build_encoder("dli", drop=0.1)
    with pytest.raises(PluginError, match="output"):
        build_decoder("dli", build_encoder("dli", width=4), 8, output="tanh")


def test_depth_to_space_follows_tensorflow_channel_order():
    x = jnp.arange(4.0).reshape(1, 1, 1, 4)
    np.testing.assert_array_equal(depth_to_space(x, 2)[0, :, :, 0], [[0.0, 1.0], [2.0, 3.0]])


@pytest.mark.parametrize("scale", [2, 3])
def test_resnet_and_pixelshuffle_shapes(scale):
    encoder = build_encoder("resnet")
    code, skips = encoder(image((2, 12, 12, RGB)))
    assert code.shape == (2, 12, 12, 48) and skips == ()
    decoder = build_decoder("pixelshuffle", encoder, 12, scale, zero_init=False)
    assert decoder(code, skips).shape == (2, 12 * scale, 12 * scale, RGB)


def test_resnet_and_pixelshuffle_parameter_counts():
    encoder = build_encoder("resnet")
    assert count_parameters(encoder) == 188_400
    counts = {s: count_parameters(build_decoder("pixelshuffle", encoder, 8, s)) for s in (2, 3, 4)}
    assert counts == {2: 5_196, 3: 11_691, 4: 20_784}
    assert count_parameters(build_encoder("resnet", width=32, blocks=2)) == 47_136


def test_pixelshuffle_starts_at_zero_so_a_residual_model_starts_at_the_classic_image():
    encoder = build_encoder("resnet", width=8, blocks=1)
    code, skips = encoder(image((1, 8, 8, RGB)))
    np.testing.assert_array_equal(build_decoder("pixelshuffle", encoder, 8, 2)(code, skips), 0.0)
