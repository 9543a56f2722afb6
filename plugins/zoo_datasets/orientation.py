"""EXIF orientation: the flip/rotation that shows pixels the way the camera meant them."""

from __future__ import annotations

import numpy as np

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
