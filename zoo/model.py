"""The autoencoder as one nnx.Module: a registered encoder and decoder, checked to fit together.

``SuperResolver`` always takes the low-resolution image and returns the high-resolution
prediction. With ``input="upsampled"`` (the DLI course) it first upsamples with a classic
upscaler and the network restores detail at full size (decoder ``upscale=1``); with
``input="lr"`` the encoder sees the small image and the decoder enlarges by ``scale``.
``residual=True`` adds the classic upsampled image to the decoder's output, so the network learns
only the missing detail.

Clipping to [0, 1] happens at inference (no key) and not in training: a clip has zero gradient
outside the range, so an out-of-range pixel would never be pulled back; the course too trained
on the raw ReLU output and clipped its predictions. ``clip=`` overrides either way.

Randomness: ``model(lr, key=k)`` is a training call (dropout on, penalties sown); the key is split
between encoder and decoder. ``key=None`` is deterministic. A module may add a loss term by
sowing a scalar ``Penalty`` during a training call; ``forward`` returns their sum.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

import jax
import jax.numpy as jnp
from flax import nnx

from zoo.errors import PluginError
from zoo.registry import Entry, Registry

InputMode = Literal["lr", "upsampled"]
Upsample = Callable[[jax.Array, int], jax.Array]
PartSpec = tuple[str, Mapping[str, Any]]

INPUT_MODES: tuple[str, ...] = ("lr", "upsampled")


class Penalty(nnx.Intermediate):
    """A scalar loss term sown by a module in a training call: ``self.sow(Penalty, name, v)``."""


class SuperResolver(nnx.Module):
    """Low-resolution NHWC image -> high-resolution prediction, ``scale`` times the size."""

    def __init__(
        self,
        encoder: nnx.Module,
        decoder: nnx.Module,
        *,
        upsample: Upsample | None,
        input_mode: InputMode,
        residual: bool,
        scale: int,
    ) -> None:
        self.encoder = encoder
        self.decoder = decoder
        self.upsample = upsample
        self.input_mode = input_mode
        self.residual = residual
        self.scale = scale

    def __call__(
        self, lr: jax.Array, *, key: jax.Array | None = None, clip: bool | None = None
    ) -> jax.Array:
        """The prediction; clipped to [0, 1] when ``key`` is None unless ``clip`` says otherwise."""
        return self.forward(lr, key=key, clip=clip)[0]

    def forward(
        self, lr: jax.Array, *, key: jax.Array | None = None, clip: bool | None = None
    ) -> tuple[jax.Array, jax.Array]:
        """(prediction, penalty): the sum of the ``Penalty`` terms sown during the call, or 0."""
        # Capturing here keeps sown values out of the module's state, so a call stays pure.
        prediction, sown = nnx.capture(SuperResolver._predict, Penalty)(
            self, lr, key=key, clip=clip
        )
        return prediction, _total(sown)

    def classic(self, lr: jax.Array) -> jax.Array:
        """The classic upscaler's image, clipped as every consumer of an upscaler does."""
        if self.upsample is None:
            raise ValueError("this model was built without an upsample function.")
        return jnp.clip(self.upsample(lr, self.scale), 0.0, 1.0)

    def _predict(self, lr: jax.Array, *, key: jax.Array | None, clip: bool | None) -> jax.Array:
        encoder_key, decoder_key = (None, None) if key is None else jax.random.split(key)
        needs_classic = self.input_mode == "upsampled" or self.residual
        base = self.classic(lr) if needs_classic else None
        code, skips = self.encoder(base if self.input_mode == "upsampled" else lr, key=encoder_key)
        y = self.decoder(code, tuple(skips), key=decoder_key)
        if self.residual:
            y = y + base
        should_clip = key is None if clip is None else clip
        if should_clip:
            y = jnp.clip(y, 0.0, 1.0)
        return y


def _total(sown: nnx.State) -> jax.Array:
    return sum((jnp.sum(v) for v in jax.tree.leaves(sown)), start=jnp.zeros((), jnp.float32))


def count_parameters(module: nnx.Module) -> int:
    """The number of trainable scalars (``nnx.Param``) in ``module``."""
    return sum(int(leaf.size) for leaf in jax.tree.leaves(nnx.state(module, nnx.Param)))


def build_super_resolver(
    registry: Registry,
    *,
    encoder: PartSpec,
    decoder: PartSpec,
    input: InputMode,
    upsample: Upsample | None = None,
    residual: bool = False,
    scale: int,
    channels: int = 3,
    seed: int = 0,
    probe_size: int = 48,
) -> SuperResolver:
    """Build encoder and decoder from ``registry`` and check their shapes with a probe image.

    ``encoder`` and ``decoder`` are ``(name, options)``. ``upsample(lr, scale)`` is the classic
    upscaler, needed for ``input="upsampled"`` or ``residual=True``. The probe is a
    ``probe_size`` square low-resolution image traced with ``jax.eval_shape`` (no compute); pick a
    size the encoder's downsampling divides. Raises ``PluginError`` naming both plugins when the
    pair does not fit, and ``ValueError`` for inconsistent arguments.
    """
    _check_arguments(input, upsample, residual, scale, channels, probe_size)
    encoder_entry = registry.get("encoders", encoder[0])
    decoder_entry = registry.get("decoders", decoder[0])
    rngs = nnx.Rngs(seed)

    built_encoder = _construct(
        encoder_entry, encoder[1], encoder_entry.describe(), in_channels=channels, rngs=rngs
    )
    encoder_size = probe_size * scale if input == "upsampled" else probe_size
    probe = jax.ShapeDtypeStruct((1, encoder_size, encoder_size, channels), jnp.float32)
    code, skips = _probe_encoder(encoder_entry, built_encoder, probe)
    pair = _describe_pair(encoder_entry, decoder_entry, code, skips)

    built_decoder = _construct(
        decoder_entry,
        decoder[1],
        pair,
        code=code,
        skips=skips,
        out_channels=channels,
        upscale=1 if input == "upsampled" else scale,
        rngs=rngs,
    )
    model = SuperResolver(
        built_encoder,
        built_decoder,
        upsample=upsample,
        input_mode=input,
        residual=residual,
        scale=scale,
    )
    _check_output(model, pair, probe_size, scale, channels)
    return model


def _check_arguments(
    input: str,
    upsample: Upsample | None,
    residual: bool,
    scale: int,
    channels: int,
    probe_size: int,
) -> None:
    if input not in INPUT_MODES:
        raise ValueError(f"input must be one of {', '.join(INPUT_MODES)}; got {input!r}.")
    if not isinstance(scale, int) or scale < 1:
        raise ValueError(f"scale must be a positive int; got {scale!r}.")
    if channels < 1 or probe_size < 1:
        raise ValueError(f"channels and probe_size must be positive; got {channels}, {probe_size}.")
    if upsample is None and (input == "upsampled" or residual):
        raise ValueError(
            "input='upsampled' and residual=True need an upsample function (a classic upscaler)."
        )


def _shape(struct: Any) -> tuple[int, ...]:
    return tuple(int(d) for d in struct.shape)


def _describe_pair(
    encoder: Entry,
    decoder: Entry,
    code: jax.ShapeDtypeStruct,
    skips: tuple[jax.ShapeDtypeStruct, ...],
) -> str:
    skip_shapes = ", ".join(str(_shape(s)) for s in skips)
    return (
        f"{encoder.describe()} gives code {_shape(code)} and skips ({skip_shapes}); "
        f"{decoder.describe()}"
    )


def _construct(entry: Entry, options: Mapping[str, Any], who: str, **engine: Any) -> Any:
    """Validate options, call the factory; its ValueError becomes a PluginError naming ``who``."""
    try:
        validated = entry.validate_options(options or {})
    except ValueError as exc:
        raise PluginError(str(exc)) from None
    try:
        return entry.factory(**engine, **validated)
    except ValueError as exc:
        raise PluginError(f"{who} cannot be built: {exc}") from exc


def _probe_encoder(
    entry: Entry, encoder: nnx.Module, probe: jax.ShapeDtypeStruct
) -> tuple[jax.ShapeDtypeStruct, tuple[jax.ShapeDtypeStruct, ...]]:
    try:
        out = nnx.eval_shape(lambda module, x: module(x), encoder, probe)
    except (TypeError, ValueError) as exc:
        raise PluginError(
            f"{entry.describe()} fails on a probe input of shape {_shape(probe)}: {exc} "
            "(a different probe_size may suit its downsampling)."
        ) from exc
    if not (isinstance(out, tuple) and len(out) == 2 and isinstance(out[1], tuple | list)):
        raise PluginError(
            f"{entry.describe()} must return (code, skips); got {type(out).__name__}."
        )
    code, skips = out
    return code, tuple(skips)


def _check_output(
    model: SuperResolver, pair: str, probe_size: int, scale: int, channels: int
) -> None:
    lr = jax.ShapeDtypeStruct((1, probe_size, probe_size, channels), jnp.float32)
    expected = (1, probe_size * scale, probe_size * scale, channels)
    try:
        out = nnx.eval_shape(lambda module, x: module(x), model, lr)
    except (TypeError, ValueError) as exc:
        raise PluginError(f"{pair} fails on them: {exc}") from exc
    if _shape(out) != expected:
        raise PluginError(f"{pair} produced {_shape(out)} but {expected} was expected.")
