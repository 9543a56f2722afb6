"""Inference: restore a trained model from its run directory and upscale images of any size.

Large images go through in tiles. Each tile is cut from the low-resolution image with a margin
on every side that covers the network's receptive field, and tile corners sit on a grid aligned
with the network's pooling, so the stitched result equals the untiled one (no seams) while memory
stays bounded by the tile size.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from zoo import checkpoint, train
from zoo import recipe as recipe_lib
from zoo.registry import get_registry

# Tile origins and padded sizes are multiples of this (in low-resolution pixels) so that every
# tile sees the same pooling grid as the whole image: covers pooling by up to 4 at scales 1-4.
ALIGN = 4
# Margin in LR pixels each tile borrows from its neighbours: the largest receptive field among
# the built-in designs is the DLI net on the LR image, 19 pixels each side.
DEFAULT_OVERLAP = 24


@dataclass
class TrainedModel:
    """A model restored from a run directory: ``zoo.load(run_dir).upscale(image)``."""

    recipe: recipe_lib.Recipe
    step: int
    state: dict[str, Any]
    predict: Any

    @property
    def scale(self) -> int:
        return self.recipe.scale

    def upscale(
        self, image: np.ndarray, *, tile: int | None = None, overlap: int = DEFAULT_OVERLAP
    ) -> np.ndarray:
        """Upscale one HWC image (uint8, or float in [0, 1]); returns the same dtype.

        ``tile`` (low-resolution pixels) bounds memory; ``overlap`` is the margin each tile
        borrows from its neighbours and must cover the receptive field for seamless output.
        """
        array = np.asarray(image)
        if array.ndim == 2:
            array = np.repeat(array[:, :, None], 3, axis=2)
        if array.ndim != 3 or array.shape[2] != 3:
            raise ValueError(f"expected an (H, W, 3) image, got shape {array.shape}")
        as_uint8 = array.dtype == np.uint8
        low = array.astype(np.float32) / 255.0 if as_uint8 else array.astype(np.float32)
        high = upscale_array(self.lr_predict, low, self.scale, tile=tile, overlap=overlap)
        if as_uint8:
            return np.round(np.clip(high, 0.0, 1.0) * 255.0).astype(np.uint8)
        return high

    def lr_predict(self, lr: np.ndarray) -> np.ndarray:
        return np.asarray(self.predict(self.state, jnp.asarray(lr)[None])[0])


def load(run_dir: str | Path, step: int | None = None) -> TrainedModel:
    """Restore the best checkpoint (by the recipe's checkpoint.best) or the given step."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise checkpoint.CheckpointError(f"{run_dir}: no such run directory.")
    payload = checkpoint.read_recipe(run_dir, step)
    recipe = recipe_lib.from_dict(payload["recipe"], source=f"{run_dir}/checkpoints (recipe)")
    if step is None:
        best = recipe.checkpoint.best
        higher = True
        if best is not None:
            higher = bool(get_registry().get("metrics", best).meta["higher_is_better"])
        step = checkpoint.best_step(run_dir, f"eval_{best}" if best else None, higher)
    model, _ = train.build_model(recipe, get_registry())
    optimizer = train.make_optimizer(recipe.optimizer, recipe.train.steps)
    graphdef, target = train.initial_state(model, optimizer, recipe.train.seed)
    step, state = checkpoint.restore(run_dir, target, step)
    predict = jax.jit(partial(train.eval_step, graphdef=graphdef))
    return TrainedModel(recipe, step, state, predict)


def upscale_array(
    predict: Any, lr: np.ndarray, scale: int, *, tile: int | None, overlap: int
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
