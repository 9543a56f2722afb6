"""Inference: restore a trained model from its run directory and upscale images of any size."""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import nnx

from zoo import assemble, checkpoint, evaluate, reuse
from zoo import recipe as recipe_lib
from zoo.provenance import param_shapes, recipe_payload
from zoo.registry import Registry, get_registry
from zoo.state import State, host_all_finite, merge, predict
from zoo.tiling import ALIGN, DEFAULT_OVERLAP, DEFAULT_TILE, round_up, tiles_needed, upscale_array

# What a weights file keeps of a checkpoint's payload (not the training history).
EXPORTED_KEYS = ("recipe", "resolved", "zoo_version", "plugins", "parts", "jax_version")


@dataclass
class TrainedModel:
    """A model restored from a run directory: ``zoo.load(run_dir).upscale(image)``."""

    recipe: recipe_lib.Recipe
    step: int | None
    """The checkpoint step (None for a weights file or a registered model)."""
    state: State
    graphdef: Any
    registry: Registry
    source: str = ""
    """The run directory, weights file or model name it came from."""
    selected: str = ""
    """How the weights were chosen: ``best by val_psnr``, ``last``, ``step 120``, ..."""
    payload: dict[str, Any] = field(default_factory=dict)
    """The saved payload: resolved recipe, plugin versions, parameter shapes."""

    def __repr__(self) -> str:
        where = self.source if self.step is None else f"step {self.step} ({self.selected})"
        return f"<TrainedModel {self.recipe.name} x{self.scale}, {where}>"

    def describe(self) -> str:
        """``runs/ae_x2 step 400 (last)``, or ``model 'ae_x2'`` for weights without steps."""
        if self.selected.startswith(("weights file", "model ")):
            return f"{self.source}"
        return f"{self.source} step {self.step} ({self.selected})"

    def export(self, path: str | Path) -> str:
        """Write the weights file (parameters and the resolved recipe); returns its digest."""
        from zoo import weights

        # The options this model was rebuilt with, resolved (a payload from before resolved
        # recipes gets them now); where it was trained, and with what, as saved.
        payload = recipe_payload(self.recipe, registry=self.registry)
        payload.update({k: v for k, v in self.payload.items() if k in EXPORTED_KEYS})
        # The step and how it was chosen, not the folder: the same weights give the same file.
        payload["exported_from"] = {
            "recipe": self.recipe.name,
            "step": self.step,
            "selected": self.selected,
        }
        return weights.write(path, payload, self.state["params"])

    @functools.cached_property
    def predict(self) -> Any:
        """The jitted prediction step: (state, NHWC LR batch) -> clipped HR batch."""
        return jax.jit(partial(predict, graphdef=self.graphdef))

    @property
    def system(self) -> evaluate.System:
        """The model as an evaluation system, exactly as `zoo run` scores it."""
        return assemble.model_system(self.lr_predict, self.scale)

    def degradation(self) -> assemble.Degradation:
        """The degradation this model was trained on, built with its saved options and named as
        its recipe wrote it (so `zoo eval` describes it as the run's report does)."""
        built = assemble.build_degradation(
            self.registry, self.recipe.degradation, self.recipe.scale
        )
        written = (self.payload.get("recipe") or {}).get("degradation")
        if written is None:
            return built
        return dataclasses.replace(built, ref=recipe_lib.PluginRef.model_validate(written))

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

    def module(self) -> Any:
        """The model as an ``nnx.Module`` with these parameters."""
        return merge(self.graphdef, self.state)

    @property
    def scale(self) -> int:
        return self.recipe.scale

    def upscale(
        self, image: np.ndarray, *, tile: int | None = DEFAULT_TILE, overlap: int | None = None
    ) -> np.ndarray:
        """Upscale one HWC image (uint8, or float in [0, 1]); returns the same dtype.

        ``tile`` (low-resolution pixels; None: the whole image at once) bounds memory: a uint8
        image is converted and rounded tile by tile, so no whole float copy of it exists.
        ``overlap`` is the margin each tile borrows from its neighbours and must cover the
        receptive field for seamless output (default: measured from the model, see
        ``default_overlap``; measured only when the image is larger than one tile).
        """
        array = np.asarray(image)
        if array.ndim == 2:
            array = array[:, :, None]
        if array.ndim != 3 or array.shape[2] not in (1, 3):
            raise ValueError(f"expected an (H, W, 3) image, got shape {array.shape}")
        if array.shape[2] == 1:
            array = np.repeat(array, 3, axis=2)
        as_uint8 = array.dtype == np.uint8
        if not as_uint8:
            array = array.astype(np.float32, copy=False)
        if overlap is None:
            overlap = self.default_overlap() if tiles_needed(array, tile) else 0
        return upscale_array(
            self.lr_predict,
            array,
            self.scale,
            tile=tile,
            overlap=overlap,
            out_dtype=np.uint8 if as_uint8 else np.float32,
        )

    def lr_predict(self, lr: np.ndarray) -> np.ndarray:
        return np.asarray(self.predict(self.state, jnp.asarray(lr)[None])[0])


def load(
    source: str | Path,
    step: reuse.Step = None,
    *,
    registry: Registry | None = None,
) -> TrainedModel:
    """A trained model from a run directory, a weights file (`zoo export`) or a registered
    model's name. ``step`` (run directories): ``"best"``, ``"last"``, a step number, or None
    for the run's default (the best when its recipe sets ``checkpoint.best``, else the last).

    The model is rebuilt from the saved resolved recipe, not today's plugin defaults; a shape
    that no longer fits is an error naming the parameter and both shapes."""
    registry = registry or get_registry()
    src = reuse.open_source(source, step, registry=registry)
    built: dict[str, Any] = {}
    where = src.describe()

    def names_for(payload: dict[str, Any], saved: reuse.Shapes) -> list[str]:
        reuse.warn_changes(payload, where, registry)
        recipe = reuse.recipe_of(payload, f"{where} (recipe)")
        model = assemble.build_model(recipe, registry, abstract=True)
        graphdef, params, rest = nnx.split(model, nnx.Param, ...)  # type: ignore[misc]
        if jax.tree.leaves(rest):
            raise checkpoint.CheckpointError(
                f"{where}: the model keeps state besides its parameters (nnx variables of "
                f"{sorted({type(v).__name__ for v in jax.tree.leaves(rest)})}), which zoo's "
                "weights do not hold."
            )
        expected = param_shapes(params)
        reuse.check_fits(
            saved,
            expected,
            where,
            hint=" The plugin changed since the model was saved: install the version it was "
            "saved with (`zoo plugins` shows what is installed).",
        )
        built.update(recipe=recipe, graphdef=graphdef, params=params, rest=rest)
        return list(expected)

    read = src.read(names_for)
    state: State = {"params": reuse.fill(built["params"], read.arrays), "rest": built["rest"]}
    if not host_all_finite(state["params"]):
        raise checkpoint.CheckpointError(
            f"{where}: the parameters saved at step {read.step} are not all finite (the run "
            "diverged before zoo stopped such runs); retrain it, with a lower learning rate."
        )
    return TrainedModel(
        built["recipe"],
        read.step,
        state,
        built["graphdef"],
        registry,
        source=where,
        selected=read.selected,
        payload=read.payload,
    )
