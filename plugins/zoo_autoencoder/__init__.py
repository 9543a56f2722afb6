"""Built-in encoders and decoders: the DLI course's pair and a low-resolution residual pair."""

from __future__ import annotations

from zoo.plugin import Register, hookimpl

# Each hook imports its factories (and so flax and JAX) when it is called, not when zoo loads
# the plugin: `zoo --help` calls no hook but register_commands.


@hookimpl
def register_encoders(register: Register) -> None:
    from zoo_autoencoder.dli import dli_encoder
    from zoo_autoencoder.resnet import resnet_encoder

    register("dli", dli_encoder)
    register("resnet", resnet_encoder)


@hookimpl
def register_decoders(register: Register) -> None:
    from zoo_autoencoder.dli import dli_decoder
    from zoo_autoencoder.pixelshuffle import pixelshuffle_decoder

    register("dli", dli_decoder)
    register("pixelshuffle", pixelshuffle_decoder)
