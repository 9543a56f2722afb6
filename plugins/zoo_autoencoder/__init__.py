"""Built-in encoders and decoders: the DLI course's pair and a low-resolution residual pair."""

from __future__ import annotations

from zoo import hookimpl
from zoo.hookspecs import Register
from zoo_autoencoder.dli import DLIDecoder, DLIEncoder
from zoo_autoencoder.pixelshuffle import PixelShuffleDecoder
from zoo_autoencoder.resnet import ResNetEncoder


@hookimpl
def register_encoders(register: Register) -> None:
    register(
        "dli",
        DLIEncoder,
        description="NVIDIA DLI course encoder: conv 64x2, pool, dropout, conv 128x2, pool, conv 256",
    )
    register(
        "resnet",
        ResNetEncoder,
        description="EDSR-style residual blocks at the input's size (for model.input: lr)",
    )


@hookimpl
def register_decoders(register: Register) -> None:
    register(
        "dli",
        DLIDecoder,
        description="NVIDIA DLI course decoder: upsample, conv, skip-add twice, conv 3 + ReLU",
    )
    register(
        "pixelshuffle",
        PixelShuffleDecoder,
        description="one conv at the code's size, then depth-to-space by upscale (ESPCN output)",
    )
