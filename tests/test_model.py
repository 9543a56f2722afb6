"""SuperResolver assembly: both input modes, the residual, clipping, shape checks and jit."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from zoo import hookimpl
from zoo.errors import PluginError
from zoo.model import build_super_resolver, count_parameters
from zoo.registry import get_registry
from zoo_autoencoder.layers import conv3x3

RGB = 3


def nearest(x: jax.Array, scale: int) -> jax.Array:
    return jnp.repeat(jnp.repeat(x, scale, axis=1), scale, axis=2)


def image(shape: tuple[int, ...], seed: int = 0) -> jax.Array:
    return jax.random.uniform(jax.random.key(seed), shape)


def small_dli(**kwargs):
    return build_super_resolver(
        get_registry(),
        encoder=("dli", {"width": 8}),
        decoder=("dli", {}),
        input="upsampled",
        upsample=nearest,
        scale=2,
        **kwargs,
    )


def small_resnet(scale: int, **decoder_options):
    return build_super_resolver(
        get_registry(),
        encoder=("resnet", {"width": 8, "blocks": 1}),
        decoder=("pixelshuffle", decoder_options),
        input="lr",
        upsample=nearest,
        residual=True,
        scale=scale,
    )


def test_full_dli_model_has_the_course_parameter_count():
    model = build_super_resolver(
        get_registry(),
        encoder=("dli", {}),
        decoder=("dli", {}),
        input="upsampled",
        upsample=nearest,
        scale=2,
    )
    assert count_parameters(model) == 1_110_403
    assert count_parameters(model.encoder) == 555_328


def test_upsampled_mode_feeds_the_classic_image_to_the_encoder():
    model = small_dli()
    lr = image((2, 8, 8, RGB))
    prediction = model(lr)
    assert prediction.shape == (2, 16, 16, RGB)
    code, skips = model.encoder(nearest(lr, 2))
    np.testing.assert_allclose(
        prediction, jnp.clip(model.decoder(code, skips), 0.0, 1.0), atol=1e-6
    )


@pytest.mark.parametrize("scale", [2, 3])
def test_lr_mode_enlarges_in_the_decoder(scale):
    model = small_resnet(scale, zero_init=False)
    assert model(image((1, 8, 8, RGB))).shape == (1, 8 * scale, 8 * scale, RGB)


def test_lr_mode_with_the_dli_pair_and_pixel_shuffle():
    model = build_super_resolver(
        get_registry(), encoder=("dli", {"width": 8}), decoder=("dli", {}), input="lr", scale=2
    )
    assert model(image((1, 8, 8, RGB))).shape == (1, 16, 16, RGB)


def test_residual_adds_the_classic_upscale():
    model = small_resnet(2)  # the zero-initialised output makes the network's part 0
    lr = image((1, 8, 8, RGB))
    np.testing.assert_allclose(model(lr), nearest(lr, 2), atol=1e-6)


def test_clipping_at_inference_only_unless_asked():
    model = small_resnet(2, zero_init=False)
    lr = image((2, 8, 8, RGB))
    training = model(lr, key=jax.random.key(0))
    assert float(training.min()) < 0.0 or float(training.max()) > 1.0
    inference = model(lr)
    assert float(inference.min()) >= 0.0 and float(inference.max()) <= 1.0
    np.testing.assert_allclose(model(lr, clip=False), training, atol=1e-6)  # no dropout here
    np.testing.assert_allclose(model(lr, key=jax.random.key(0), clip=True), inference, atol=1e-6)


def test_dropout_follows_the_key():
    model = small_dli()
    lr = image((1, 8, 8, RGB))
    np.testing.assert_array_equal(model(lr), model(lr))
    a = model(lr, key=jax.random.key(1), clip=False)
    np.testing.assert_array_equal(a, model(lr, key=jax.random.key(1), clip=False))
    assert not np.allclose(a, model(lr, key=jax.random.key(2), clip=False))


def test_forward_returns_the_activity_penalty_in_training_only():
    lr = image((2, 8, 8, RGB))
    _, penalty = small_dli().forward(lr, key=jax.random.key(0))
    assert 0.0 < float(penalty) < 1e-3
    assert float(small_dli().forward(lr)[1]) == 0.0
    quiet = build_super_resolver(
        get_registry(),
        encoder=("dli", {"width": 8, "activity_l1": 0.0}),
        decoder=("dli", {"activity_l1": 0.0}),
        input="upsampled",
        upsample=nearest,
        scale=2,
    )
    assert float(quiet.forward(lr, key=jax.random.key(0))[1]) == 0.0


def test_split_merge_jit_with_and_without_key_and_grad():
    model = small_dli()
    graphdef, params = nnx.split(model)
    lr = image((2, 8, 8, RGB))
    hr = image((2, 16, 16, RGB), seed=1)

    @jax.jit
    def predict(params, lr, key):
        return nnx.merge(graphdef, params)(lr, key=key)

    np.testing.assert_allclose(predict(params, lr, None), model(lr), atol=1e-5)
    key = jax.random.key(3)
    np.testing.assert_allclose(predict(params, lr, key), model(lr, key=key), atol=1e-5)

    def loss(params, key):
        prediction, penalty = nnx.merge(graphdef, params).forward(lr, key=key)
        return jnp.mean((prediction - hr) ** 2) + penalty

    grads = jax.jit(jax.grad(loss))(params, key)
    assert all(bool(jnp.isfinite(g).all()) for g in jax.tree.leaves(grads))
    assert any(float(jnp.abs(g).max()) > 0 for g in jax.tree.leaves(grads))


def test_nnx_jit_forward():
    model = small_resnet(2, zero_init=False)
    lr = image((1, 8, 8, RGB))
    forward = nnx.jit(lambda model, lr, key: model.forward(lr, key=key))
    prediction, penalty = forward(model, lr, jax.random.key(0))
    np.testing.assert_allclose(prediction, model(lr, key=jax.random.key(0)), atol=1e-5)
    assert float(penalty) == 0.0
    np.testing.assert_allclose(forward(model, lr, None)[0], model(lr), atol=1e-5)


class Halver(nnx.Module):
    """A decoder that returns half the size it should: for the mismatch check."""

    def __init__(self, channels: int, out_channels: int, rngs: nnx.Rngs) -> None:
        self.conv = conv3x3(channels, out_channels, rngs=rngs)

    def __call__(self, code, skips, *, key=None):
        return self.conv(code)[:, ::2, ::2]


def halver(*, code, skips, out_channels: int, upscale: int, rngs: nnx.Rngs) -> Halver:
    """Half-size output."""
    return Halver(code.shape[-1], out_channels, rngs)


def refuser(*, code, skips, out_channels: int, upscale: int, rngs: nnx.Rngs) -> Halver:
    """Refuses every shape."""
    raise ValueError("this decoder wants a code with 7 channels")


class BrokenDecoders:
    @hookimpl
    def register_decoders(self, register):
        register("halver", halver)
        register("refuser", refuser)


def test_mismatch_names_both_plugins_and_the_shapes(register_plugin):
    register_plugin(BrokenDecoders(), name="broken")
    with pytest.raises(PluginError) as caught:
        build_super_resolver(
            get_registry(),
            encoder=("resnet", {"width": 4, "blocks": 0}),
            decoder=("halver", {}),
            input="upsampled",
            upsample=nearest,
            scale=2,
            probe_size=8,
        )
    assert str(caught.value) == (
        "encoder 'resnet' (plugin autoencoder) gives code (1, 16, 16, 4) and skips (); "
        "decoder 'halver' (plugin broken) produced (1, 8, 8, 3) but (1, 16, 16, 3) was expected."
    )


def test_decoder_value_error_is_wrapped_naming_both(register_plugin):
    register_plugin(BrokenDecoders(), name="broken")
    with pytest.raises(
        PluginError,
        match=r"encoder 'dli' \(plugin autoencoder\).*"
        r"decoder 'refuser' \(plugin broken\) cannot be built: .*7 channels",
    ):
        build_super_resolver(
            get_registry(),
            encoder=("dli", {"width": 4}),
            decoder=("refuser", {}),
            input="lr",
            scale=2,
        )


def test_builtin_pairs_that_do_not_fit_are_refused():
    with pytest.raises(PluginError, match=r"decoder 'pixelshuffle'.*was expected"):
        build_super_resolver(
            get_registry(),
            encoder=("dli", {"width": 4}),
            decoder=("pixelshuffle", {}),
            input="lr",
            scale=2,
        )
    with pytest.raises(PluginError, match=r"decoder 'dli'.*two NHWC skips"):
        build_super_resolver(
            get_registry(), encoder=("resnet", {}), decoder=("dli", {}), input="lr", scale=2
        )


def test_encoder_failing_on_the_probe_is_named():
    with pytest.raises(PluginError, match=r"encoder 'dli'.*multiples of 4.*probe_size"):
        build_super_resolver(
            get_registry(),
            encoder=("dli", {"width": 4}),
            decoder=("dli", {}),
            input="lr",
            scale=2,
            probe_size=10,
        )


def test_bad_names_options_and_arguments():
    with pytest.raises(PluginError, match="Valid: dli, edsr, espcn, fsrcnn, resnet, srcnn, vdsr"):
        build_super_resolver(
            get_registry(), encoder=("dlii", {}), decoder=("dli", {}), input="lr", scale=2
        )
    with pytest.raises(PluginError, match="has no option 'widht'"):
        build_super_resolver(
            get_registry(), encoder=("dli", {"widht": 8}), decoder=("dli", {}), input="lr", scale=2
        )
    with pytest.raises(ValueError, match="need an upsample function"):
        build_super_resolver(
            get_registry(), encoder=("dli", {}), decoder=("dli", {}), input="upsampled", scale=2
        )
    with pytest.raises(ValueError, match="input must be one of"):
        build_super_resolver(
            get_registry(), encoder=("dli", {}), decoder=("dli", {}), input="hr", scale=2
        )
