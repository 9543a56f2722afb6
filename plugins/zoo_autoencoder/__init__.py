"""Built-in encoders and decoders: the DLI pair, a residual pair and the classic SR networks."""

from __future__ import annotations

from zoo.plugin import Register, hookimpl

# Each hook imports its factories (and so flax and JAX) when it is called, not when zoo loads
# the plugin: `zoo --help` calls no hook but register_commands.


@hookimpl
def register_encoders(register: Register) -> None:
    from zoo_autoencoder.dli import dli_encoder
    from zoo_autoencoder.edsr import edsr_encoder
    from zoo_autoencoder.espcn import espcn_encoder
    from zoo_autoencoder.fsrcnn import fsrcnn_encoder
    from zoo_autoencoder.resnet import resnet_encoder
    from zoo_autoencoder.srcnn import srcnn_encoder
    from zoo_autoencoder.vdsr import vdsr_encoder

    register("dli", dli_encoder)
    register("edsr", edsr_encoder)
    register("espcn", espcn_encoder)
    register("fsrcnn", fsrcnn_encoder)
    register("resnet", resnet_encoder)
    register("srcnn", srcnn_encoder)
    register("vdsr", vdsr_encoder)


@hookimpl
def register_decoders(register: Register) -> None:
    from zoo_autoencoder.dli import dli_decoder
    from zoo_autoencoder.edsr import edsr_decoder
    from zoo_autoencoder.espcn import espcn_decoder
    from zoo_autoencoder.fsrcnn import fsrcnn_decoder
    from zoo_autoencoder.pixelshuffle import pixelshuffle_decoder
    from zoo_autoencoder.srcnn import srcnn_decoder
    from zoo_autoencoder.vdsr import vdsr_decoder

    register("dli", dli_decoder)
    register("edsr", edsr_decoder)
    register("espcn", espcn_decoder)
    register("fsrcnn", fsrcnn_decoder)
    register("pixelshuffle", pixelshuffle_decoder)
    register("srcnn", srcnn_decoder)
    register("vdsr", vdsr_decoder)
