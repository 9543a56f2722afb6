"""The classic SR networks as plugins: their papers' parameter counts, input modes and shapes."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from flax import nnx

from zoo.errors import PluginError
from zoo.model import build_super_resolver, count_parameters
from zoo.registry import get_registry

Y, RGB = 1, 3


def nearest(x: jax.Array, scale: int) -> jax.Array:
    return jnp.repeat(jnp.repeat(x, scale, axis=1), scale, axis=2)


def model(design: str, scale: int, *, channels: int = RGB, input: str = "lr", **options):
    return build_super_resolver(
        get_registry(),
        encoder=(design, options.pop("encoder", {})),
        decoder=(design, options.pop("decoder", {})),
        input=input,
        upsample=nearest,
        residual=options.pop("residual", False),
        scale=scale,
        channels=channels,
        probe_size=12,
    )


def weights(module: nnx.Module) -> int:
    """Kernel scalars only: the papers count weights and leave biases and PReLU slopes out."""
    leaves = jax.tree_util.tree_leaves_with_path(nnx.state(module, nnx.Param))
    return sum(int(leaf.size) for path, leaf in leaves if "kernel" in jax.tree_util.keystr(path))


# (design, scale, input, Y-channel weights as the paper counts them, Y-channel parameters in all)
PAPER_COUNTS = [
    ("srcnn", 2, "upsampled", 57_184, 57_281),  # SRCNN TPAMI 2016, the 9-5-5 network
    ("fsrcnn", 2, "lr", 12_464, 12_809),  # FSRCNN(56, 12, 4), Table 1; the same at every scale
    ("fsrcnn", 4, "lr", 12_464, 12_809),
    ("espcn", 3, "lr", 22_624, 22_729),  # ESPCN l=3, (5,64), (3,32), 3: from the layer sizes
    ("vdsr", 3, "upsampled", 664_704, 665_921),  # VDSR: 20 layers of 64, the "665K"
]


@pytest.mark.parametrize(("design", "scale", "input", "paper", "total"), PAPER_COUNTS)
def test_the_paper_networks_have_the_papers_parameter_counts(design, scale, input, paper, total):
    network = model(design, scale, channels=Y, input=input)
    assert weights(network) == paper
    assert count_parameters(network) == total


@pytest.mark.parametrize(("scale", "total"), [(2, 1_369_859), (3, 1_554_499), (4, 1_517_571)])
def test_edsr_baseline_has_the_reference_code_parameter_counts(scale, total):
    network = model("edsr", scale)
    assert count_parameters(network) == total
    assert round(count_parameters(network) / 1e6, 1) in (1.4, 1.5, 1.6)  # the paper's "1.5M"
    assert len(network.encoder.body.blocks) == 16
    assert network.encoder.body.head.kernel.shape == (3, 3, RGB, 64)


def test_vdsr_has_twenty_convolutions_and_srcnn_three():
    def convolutions(network):
        return sum(isinstance(node, nnx.Conv) for _, node in nnx.iter_graph(network))

    assert convolutions(model("vdsr", 2, input="upsampled")) == 20
    assert convolutions(model("srcnn", 2, input="upsampled")) == 3
    srcnn = model("srcnn", 2, input="upsampled").encoder
    sizes = [c.kernel.shape[:2] for c in (srcnn.extract, srcnn.map)]
    assert sizes == [(9, 9), (5, 5)]


@pytest.mark.parametrize(
    ("design", "input"),
    [
        ("srcnn", "upsampled"),
        ("fsrcnn", "lr"),
        ("espcn", "lr"),
        ("vdsr", "upsampled"),
        ("edsr", "lr"),
    ],
)
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_every_design_makes_scale_times_the_image(design, input, scale):
    network = model(design, scale, input=input, residual=design == "vdsr")
    lr = jax.random.uniform(jax.random.key(0), (2, 8, 8, RGB))
    out = network(lr)
    assert out.shape == (2, 8 * scale, 8 * scale, RGB)
    assert bool(jnp.isfinite(out).all())


@pytest.mark.parametrize("design", ["srcnn", "vdsr"])
def test_full_size_designs_refuse_to_enlarge_and_say_how_to_feed_them(design):
    with pytest.raises(PluginError, match=f"decoder '{design}'.*model.input: upsampled"):
        model(design, 2, input="lr")


def test_edsr_refuses_a_scale_its_upsampler_cannot_make():
    with pytest.raises(PluginError, match="x5"):
        model("edsr", 5)


def test_an_untrained_vdsr_with_the_residual_is_the_upsampled_image():
    network = model("vdsr", 2, input="upsampled", residual=True)
    lr = jax.random.uniform(jax.random.key(1), (1, 6, 6, RGB))
    np.testing.assert_array_equal(network(lr), nearest(lr, 2))


def test_fsrcnn_uses_a_channel_wise_prelu_and_a_strided_deconvolution():
    network = model("fsrcnn", 3)
    slopes = [a.slope.shape for a in network.encoder.activations]
    assert slopes == [(56,), (12,), (12,), (12,), (12,), (12,), (56,)]
    assert isinstance(network.decoder.deconv, nnx.ConvTranspose)
    assert network.decoder.deconv.kernel.shape == (9, 9, 56, RGB)
    assert network.decoder.deconv.strides == (3, 3)


def test_edsr_mean_shift_is_a_constant_with_one_value_per_channel():
    network = model("edsr", 2, encoder={"width": 8, "blocks": 1}, decoder={})
    assert network.encoder.mean == pytest.approx((0.4488, 0.4371, 0.4040))
    with pytest.raises(PluginError, match="one value per channel"):
        model("edsr", 2, encoder={"mean": [0.5, 0.5]})


def test_untrained_edsr_baseline_outputs_on_the_images_scale():
    # 16 un-normalised residual blocks amplify whatever spread the initialiser gives each
    # convolution; from lecun_normal the output's spread was 4.5 on [0, 1] images, which a short
    # run never undid (Set5 x2 16.8 dB after 200 steps). PyTorch's default, the paper's code's,
    # keeps it well under the image's own.
    network = model("edsr", 2)
    image = jax.random.uniform(jax.random.key(0), (2, 16, 16, RGB))
    output = network(image, clip=False)
    assert float(jnp.std(output)) < 0.25
    assert float(jnp.max(jnp.abs(output - 0.44))) < 1.0


@pytest.mark.parametrize("design", ["srcnn", "fsrcnn", "espcn", "vdsr", "edsr"])
def test_options_are_validated_and_listed(design):
    with pytest.raises(PluginError, match="Its options"):
        model(
            design,
            2,
            input="upsampled" if design in ("srcnn", "vdsr") else "lr",
            encoder={"depth": 3},
        )
