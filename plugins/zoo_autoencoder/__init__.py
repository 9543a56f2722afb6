"""Built-in encoders and decoders: the DLI course's pair and a low-resolution residual pair."""

from __future__ import annotations

from zoo.plugin import Register, hookimpl
from zoo_autoencoder.dli import dli_decoder, dli_encoder
from zoo_autoencoder.pixelshuffle import pixelshuffle_decoder
from zoo_autoencoder.resnet import resnet_encoder


@hookimpl
def register_encoders(register: Register) -> None:
    register("dli", dli_encoder)
    register("resnet", resnet_encoder)


@hookimpl
def register_decoders(register: Register) -> None:
    register("dli", dli_decoder)
    register("pixelshuffle", pixelshuffle_decoder)
