"""Images of any size through a fixed network: pooling-aligned padding and seamless tiles.

Large images go through in tiles. Each tile is cut from the low-resolution image with a margin
on every side that covers the network's receptive field, and tile corners sit on a grid aligned
with the network's pooling, so the stitched result equals the untiled one (no seams) while memory
stays bounded by the tile size. Sizes the network cannot take (the DLI net pools twice) are
edge-padded up to the grid and the padding is cropped off the result.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

# Tile origins and padded sizes are multiples of this (in low-resolution pixels) so that every
# tile sees the same pooling grid as the whole image: covers pooling by up to 4 at scales 1-4.
ALIGN = 4
# Margin in LR pixels each tile borrows from its neighbours: the largest receptive field among
# the built-in designs is the DLI net on the LR image, 19 pixels each side.
DEFAULT_OVERLAP = 24

Predict = Callable[[np.ndarray], np.ndarray]  # float HWC LR -> float HWC HR


def upscale_array(
    predict: Predict, lr: np.ndarray, scale: int, *, tile: int | None, overlap: int
) -> np.ndarray:
    """Upscale float HWC ``lr`` with ``predict`` (HWC -> HWC), whole or in aligned tiles."""
    height, width = lr.shape[:2]
    padded = pad_to_multiple(lr, ALIGN)
    if tile is None or tile >= max(padded.shape[:2]):
        return predict(padded)[: height * scale, : width * scale]
    tile = round_up(max(tile, ALIGN), ALIGN)
    margin = round_up(max(overlap, 0), ALIGN)
    out = np.empty((padded.shape[0] * scale, padded.shape[1] * scale, lr.shape[2]), np.float32)
    for top in range(0, padded.shape[0], tile):
        for left in range(0, padded.shape[1], tile):
            y0, x0 = max(0, top - margin), max(0, left - margin)
            y1 = min(padded.shape[0], top + tile + margin)
            x1 = min(padded.shape[1], left + tile + margin)
            high = predict(padded[y0:y1, x0:x1])
            bottom, right = min(top + tile, padded.shape[0]), min(left + tile, padded.shape[1])
            out[top * scale : bottom * scale, left * scale : right * scale] = high[
                (top - y0) * scale : (bottom - y0) * scale,
                (left - x0) * scale : (right - x0) * scale,
            ]
    return out[: height * scale, : width * scale]


def round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple


def pad_to_multiple(image: np.ndarray, multiple: int) -> np.ndarray:
    """Edge-pad H and W up to a multiple; the caller crops the padding off the result."""
    height, width = image.shape[:2]
    extra_h, extra_w = round_up(height, multiple) - height, round_up(width, multiple) - width
    if not extra_h and not extra_w:
        return image
    return np.pad(image, ((0, extra_h), (0, extra_w), (0, 0)), mode="edge")
