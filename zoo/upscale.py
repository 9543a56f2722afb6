"""Inference: restore a trained model from its run directory and upscale images of any size."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from zoo import assemble, checkpoint, evaluate
from zoo import recipe as recipe_lib
from zoo.pixels import float_to_uint8
from zoo.registry import Registry, get_registry
from zoo.state import State, all_finite, initial_state, merge, predict
from zoo.tiling import ALIGN, DEFAULT_OVERLAP, round_up, upscale_array


@dataclass
class TrainedModel:
    """A model restored from a run directory: ``zoo.load(run_dir).upscale(image)``."""

    recipe: recipe_lib.Recipe
    step: int
    state: State
    graphdef: Any
    registry: Registry

    def __repr__(self) -> str:
        return f"<TrainedModel {self.recipe.name} x{self.scale}, step {self.step}>"

    @functools.cached_property
    def predict(self) -> Any:
        """The jitted prediction step: (state, NHWC LR batch) -> clipped HR batch."""
        return jax.jit(partial(predict, graphdef=self.graphdef))

    @property
    def system(self) -> evaluate.System:
        """The model as an evaluation system, exactly as `zoo run` scores it."""
        return assemble.model_system(self.lr_predict, self.scale)

    def degradation(self) -> assemble.Degradation:
        """The degradation this model was trained on, with its options."""
        return assemble.build_degradation(self.registry, self.recipe.degradation, self.recipe.scale)

    @functools.cached_property
    def receptive_radius(self) -> int:
        """How far, in LR pixels, one output pixel looks into the input; measured once by
        differentiating a centre output pixel with respect to a random input."""
        size = 96
        probe = jax.random.uniform(jax.random.key(0), (1, size, size, 3), minval=0.2, maxval=0.8)
        centre = (size // 2) * self.scale + self.scale // 2

        def pixel(x: jax.Array) -> jax.Array:
            return merge(self.graphdef, self.state)(x, clip=False)[0, centre, centre].sum()

        reach = np.abs(np.asarray(jax.grad(pixel)(probe)[0])).sum(axis=-1)
        rows, cols = np.nonzero(reach)
        return int(max(np.abs(rows - size // 2).max(), np.abs(cols - size // 2).max()))

    def default_overlap(self) -> int:
        """Enough margin for seamless tiles: the receptive radius, and never under 24."""
        return max(DEFAULT_OVERLAP, round_up(self.receptive_radius + 1, ALIGN))

    @property
    def scale(self) -> int:
        return self.recipe.scale

    def upscale(
        self, image: np.ndarray, *, tile: int | None = None, overlap: int | None = None
    ) -> np.ndarray:
        """Upscale one HWC image (uint8, or float in [0, 1]); returns the same dtype.

        ``tile`` (low-resolution pixels) bounds memory; ``overlap`` is the margin each tile
        borrows from its neighbours and must cover the receptive field for seamless output
        (default: measured from the model, see ``default_overlap``).
        """
        array = np.asarray(image)
        if array.ndim == 2:
            array = np.repeat(array[:, :, None], 3, axis=2)
        if array.ndim != 3 or array.shape[2] != 3:
            raise ValueError(f"expected an (H, W, 3) image, got shape {array.shape}")
        as_uint8 = array.dtype == np.uint8
        low = array.astype(np.float32) / 255.0 if as_uint8 else array.astype(np.float32)
        if tile is not None and overlap is None:
            overlap = self.default_overlap()
        high = upscale_array(self.lr_predict, low, self.scale, tile=tile, overlap=overlap or 0)
        return float_to_uint8(high) if as_uint8 else high

    def lr_predict(self, lr: np.ndarray) -> np.ndarray:
        return np.asarray(self.predict(self.state, jnp.asarray(lr)[None])[0])


def load(
    run_dir: str | Path, step: int | None = None, *, registry: Registry | None = None
) -> TrainedModel:
    """Restore the best checkpoint (by the recipe's checkpoint.best) or the given step."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise checkpoint.CheckpointError(f"{run_dir}: no such run directory.")
    registry = registry or get_registry()
    source = f"{run_dir}/checkpoints (recipe)"
    prefer = None
    if step is None:
        newest = checkpoint.read_recipe(run_dir)
        policy = checkpoint.policy_for(
            recipe_lib.from_dict(newest["recipe"], source=source), registry
        )
        prefer = checkpoint.best_step(run_dir, policy.best_metric, policy.higher_is_better)
    built: dict[str, Any] = {}

    def target_for(payload: dict[str, Any]) -> State:
        recipe = recipe_lib.from_dict(payload["recipe"], source=source)
        model = assemble.build_model(recipe, registry)
        graphdef, target = initial_state(model, assemble.build_optimizer(recipe), recipe.train.seed)
        built.update(recipe=recipe, graphdef=graphdef)
        return target

    loaded = checkpoint.load(run_dir, target_for, step, prefer=prefer)
    if not bool(all_finite(loaded.state["params"])):
        raise checkpoint.CheckpointError(
            f"{run_dir}: the parameters saved at step {loaded.step} are not all finite (the run "
            "diverged before zoo stopped such runs); retrain it, with a lower learning rate."
        )
    return TrainedModel(built["recipe"], loaded.step, loaded.state, built["graphdef"], registry)
