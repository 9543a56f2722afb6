"""Images of any size through a fixed network: pooling-aligned padding and seamless tiles.

Large images go through in tiles (DEFAULT_TILE unless told otherwise). Each tile is cut from the
low-resolution image with a margin on every side that covers the network's receptive field, and
tile corners sit on a grid aligned with the network's pooling, so the stitched result equals the
untiled one (no seams) while memory stays bounded by the tile size. Sizes the network cannot take
(the DLI net pools twice) are edge-padded up to the grid and the padding is cropped off the
result.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from zoo.pixels import float_to_uint8, uint8_to_float

# Tile origins and padded sizes are multiples of this (in low-resolution pixels) so that every
# tile sees the same pooling grid as the whole image: covers pooling by up to 4 at scales 1-4.
ALIGN = 4
# Margin in LR pixels each tile borrows from its neighbours: the largest receptive field among
# the built-in designs is the DLI net on the LR image, 19 pixels each side.
DEFAULT_OVERLAP = 24

# Default tile side in LR pixels: memory is bounded by this, not by the image (a 6000x4000
# photograph at x2 goes through in 96 windows of one shape, so the network compiles once).
DEFAULT_TILE = 512

Predict = Callable[[np.ndarray], np.ndarray]  # float HWC LR -> float HWC HR


def upscale_array(
    predict: Predict,
    lr: np.ndarray,
    scale: int,
    *,
    tile: int | None,
    overlap: int,
    out_dtype: type = np.float32,
) -> np.ndarray:
    """Upscale HWC ``lr`` (float in [0, 1], or uint8) with ``predict`` (float HWC -> HWC),
    whole or in aligned tiles, into an ``out_dtype`` image (uint8: rounded tile by tile).

    Each tile's output goes into the result as it finishes; neither the input nor the output
    exists as a whole float image when tiling a uint8 image. Every window has one shape (edge
    windows are shifted inwards rather than cut short) so the network compiles once."""
    height, width, channels = lr.shape
    padded_h, padded_w = round_up(height, ALIGN), round_up(width, ALIGN)
    if tile is None or not tiles_needed(lr, tile):
        return finish(predict(window(lr, 0, padded_h, 0, padded_w)), out_dtype)[
            : height * scale, : width * scale
        ]
    tile = round_up(max(tile, ALIGN), ALIGN)
    margin = round_up(max(overlap, 0), ALIGN)
    side_h, side_w = min(padded_h, tile + 2 * margin), min(padded_w, tile + 2 * margin)
    out = np.empty((height * scale, width * scale, channels), out_dtype)
    for top in range(0, height, tile):
        y0 = window_start(top, margin, side_h, padded_h)
        bottom = min(top + tile, height)
        for left in range(0, width, tile):
            x0 = window_start(left, margin, side_w, padded_w)
            right = min(left + tile, width)
            high = predict(window(lr, y0, y0 + side_h, x0, x0 + side_w))
            out[top * scale : bottom * scale, left * scale : right * scale] = finish(
                high[
                    (top - y0) * scale : (bottom - y0) * scale,
                    (left - x0) * scale : (right - x0) * scale,
                ],
                out_dtype,
            )
    return out


def tiles_needed(lr: np.ndarray, tile: int | None) -> bool:
    """Whether ``upscale_array`` would cut ``lr`` into tiles (else it runs it whole)."""
    padded = max(round_up(lr.shape[0], ALIGN), round_up(lr.shape[1], ALIGN))
    return tile is not None and tile < padded


def window_start(start: int, margin: int, side: int, padded: int) -> int:
    """Where the window of a tile starting at ``start`` begins: ``margin`` before it, moved
    inwards at the edges so that it keeps its full ``side`` (a multiple of ALIGN from an
    aligned origin, so every window sees the whole image's pooling grid)."""
    return min(max(0, start - margin), padded - side)


def window(lr: np.ndarray, y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
    """``lr[y0:y1, x0:x1]`` as float32 in [0, 1], edge-padded where it runs past the image
    (as if the whole image had been edge-padded to the alignment grid)."""
    height, width = lr.shape[:2]
    piece = lr[y0 : min(y1, height), x0 : min(x1, width)]
    extra_h, extra_w = y1 - y0 - piece.shape[0], x1 - x0 - piece.shape[1]
    if extra_h or extra_w:
        piece = np.pad(piece, ((0, extra_h), (0, extra_w), (0, 0)), mode="edge")
    if piece.dtype == np.uint8:
        return uint8_to_float(piece)
    return np.asarray(piece, np.float32)


def finish(high: np.ndarray, out_dtype: type) -> np.ndarray:
    return float_to_uint8(high) if out_dtype == np.uint8 else np.asarray(high, np.float32)


def round_up(value: int, multiple: int) -> int:
    return -(-value // multiple) * multiple
