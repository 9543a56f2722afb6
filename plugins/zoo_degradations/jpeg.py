"""JPEG compression artefacts: encode and decode on the host with Pillow at a random quality."""

from __future__ import annotations

import io

import jax
import jax.numpy as jnp
import numpy as np
from PIL import Image

from zoo.plugin import Array, Images

_MODES = {1: "L", 3: "RGB"}


def random_qualities(key: Array, count: int, quality: tuple[int, int]) -> np.ndarray:
    """``count`` integer JPEG qualities, uniform in ``quality`` inclusive, as host numbers."""
    low, high = quality
    return np.asarray(jax.random.randint(key, (count,), low, high + 1))


def round_trip(image: np.ndarray, quality: int) -> np.ndarray:
    """One uint8 HWC image (1 or 3 channels) through a Pillow JPEG encode and decode."""
    channels = image.shape[-1]
    if channels not in _MODES:
        raise ValueError(f"JPEG needs 1 or 3 channels, got an image of shape {image.shape}.")
    mode = _MODES[channels]
    buffer = io.BytesIO()
    Image.fromarray(image[..., 0] if channels == 1 else image, mode).save(
        buffer, format="JPEG", quality=int(quality)
    )
    buffer.seek(0)
    decoded = np.asarray(Image.open(buffer).convert(mode))
    return decoded.reshape(image.shape)


def compress(images: Images, qualities: np.ndarray) -> Images:
    """JPEG each NHWC image at its own quality; the result is float32 ``k / 255`` in [0, 1]."""
    pixels = np.asarray(images, dtype=np.float32)
    # JPEG stores 8-bit samples; rounding here is the quantisation any saved image would get.
    codes = np.round(np.clip(pixels, 0.0, 1.0) * 255.0).astype(np.uint8)
    decoded = np.stack([round_trip(image, q) for image, q in zip(codes, qualities, strict=True)])
    return jnp.asarray(decoded.astype(np.float32) / 255.0)
