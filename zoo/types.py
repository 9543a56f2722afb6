"""Array conventions and the Protocols every plugin kind implements.

Images are NHWC float32 arrays in [0, 1], RGB (C = 3), unless a plugin declares otherwise.
``scale`` is a positive int. Metrics return one value per image (shape ``[N]``); reduction to a
single number happens in one place (zoo.evaluate). Everything that runs per step is a pure function
of its inputs and, where it is random, an explicit PRNG key, so it can be jitted and vmapped.
Datasets hand out HR images as uint8 HWC numpy arrays; degradation happens on the fly.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from typing import Protocol, runtime_checkable

import jax
import numpy as np

Array = jax.Array
Images = jax.Array  # NHWC float32 in [0, 1]
PerImage = jax.Array  # shape [N]


def check_scale(scale: int) -> int:
    """``scale`` as a positive Python int (static under jit), or a ValueError naming the value."""
    try:
        value = operator.index(scale)
    except TypeError:
        raise ValueError(f"scale must be a positive integer, got {scale!r}.") from None
    if isinstance(scale, bool) or value < 1:
        raise ValueError(f"scale must be a positive integer, got {scale!r}.")
    return value


@runtime_checkable
class Encoder(Protocol):
    """``x -> (code, skips)``; dropout and other randomness only when ``key`` is given."""

    def __call__(
        self, x: Images, *, key: Array | None = None
    ) -> tuple[Array, tuple[Array, ...]]: ...


@runtime_checkable
class Decoder(Protocol):
    """``(code, skips) -> y``; y is NHWC with the decoder's output channels."""

    def __call__(
        self, code: Array, skips: tuple[Array, ...], *, key: Array | None = None
    ) -> Images: ...


class Degradation(Protocol):
    """``(hr, key) -> lr``: hr [N, H, W, C] -> lr [N, H/scale, W/scale, C], same key same result."""

    def __call__(self, hr: Images, key: Array) -> Images: ...


class Upscaler(Protocol):
    """``(lr, scale) -> image`` of exactly ``scale`` times the height and width of ``lr``."""

    def __call__(self, lr: Images, scale: int) -> Images: ...


class Metric(Protocol):
    """``(pred, target) -> [N]``, both NHWC in [0, 1]."""

    def __call__(self, pred: Images, target: Images) -> PerImage: ...


class Dataset(Protocol):
    """Random-access HR images: ``len(ds)`` and ``ds[i]`` -> uint8 HWC RGB numpy array."""

    def __len__(self) -> int: ...

    def __getitem__(self, index: int) -> np.ndarray: ...


class Logger(Protocol):
    """Training logs: scalars and images by step, written under the run's ``logs`` folder."""

    def scalars(self, step: int, values: Mapping[str, float]) -> None: ...

    def images(self, step: int, images: Mapping[str, np.ndarray]) -> None: ...

    def close(self) -> None: ...
