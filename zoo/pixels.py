"""Pixel arrays to uint8 RGB: bit depth, channel layout (alpha dropped) and EXIF orientation."""

from __future__ import annotations

from typing import Any

import numpy as np

# Channel count -> layout; the alpha channel, where there is one, is always dropped.
LAYOUTS = {1: "grey", 2: "grey+alpha", 3: "RGB", 4: "RGBA"}


def to_rgb8(pixels: np.ndarray) -> np.ndarray:
    """``(H, W)`` or ``(H, W, C)`` uint8/uint16 pixels as uint8 RGB ``(H, W, 3)``, alpha dropped.

    Grey is replicated into the three channels. Raises ``ValueError`` for any other shape or dtype.
    """
    if pixels.ndim == 2:
        pixels = pixels[..., np.newaxis]
    if pixels.ndim != 3 or pixels.shape[-1] not in LAYOUTS:
        raise ValueError(f"expected (H, W) or (H, W, 1-4) pixels, got shape {pixels.shape}")
    colour = pixels[..., :1] if pixels.shape[-1] <= 2 else pixels[..., :3]
    rgb = np.broadcast_to(colour, (*colour.shape[:2], 3))
    return np.ascontiguousarray(to_8bit(rgb))


def to_8bit(pixels: np.ndarray) -> np.ndarray:
    """8-bit pixels unchanged; 16-bit ones scaled by 255/65535 and rounded to nearest."""
    if pixels.dtype == np.uint8:
        return pixels
    if pixels.dtype == np.uint16:
        # Integer arithmetic: round(v * 255 / 65535) exactly, with no float rounding surprises.
        return ((pixels.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
    raise ValueError(f"expected 8- or 16-bit unsigned pixels, got {pixels.dtype}")


def float_to_uint8(image: Any) -> np.ndarray:
    """Float pixels in [0, 1] (numpy or jax, any shape) as uint8: clipped, rounded to nearest."""
    return np.round(np.clip(np.asarray(image, np.float32), 0.0, 1.0) * 255.0).astype(np.uint8)


def uint8_to_float(pixels: np.ndarray) -> np.ndarray:
    """uint8 pixels as float32 in [0, 1]."""
    return np.asarray(pixels).astype(np.float32) / np.float32(255.0)


ORIENTATION_TAG = 0x0112


def apply_orientation(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """``pixels`` (H, W, ...) turned upright for an EXIF orientation value (1-8).

    The same transforms as ``PIL.ImageOps.exif_transpose``, applied to arrays so 16-bit images
    decoded outside Pillow get them too. Unknown values leave the pixels as they are.
    """
    upright = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: a.swapaxes(0, 1),
        6: lambda a: np.rot90(a, k=-1),
        7: lambda a: np.rot90(a, k=2).swapaxes(0, 1),
        8: lambda a: np.rot90(a, k=1),
    }.get(orientation)
    return pixels if upright is None else np.ascontiguousarray(upright(pixels))
