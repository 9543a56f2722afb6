"""A run's data side: the input pipeline of training batches, global batches, data.val's images."""

from __future__ import annotations

from typing import Any

import jax
import numpy as np
from jax.sharding import NamedSharding

from zoo import data, evaluate, pipeline
from zoo.assemble import Parts, eval_set
from zoo.recipe import HeldOut


def validation_set(parts: Parts) -> evaluate.EvalSet | None:
    """data.val's images, made as the evaluation images are (None without data.val)."""
    recipe = parts.recipe
    if parts.val_dataset is None:
        return None
    val = recipe.data.val
    what = f"the last {val.images} images of data.train" if isinstance(val, HeldOut) else val
    return eval_set(
        parts.val_dataset,
        parts.degradation,
        recipe.scale,
        limit=recipe.data.eval_images,
        crop=recipe.data.eval_crop,
        source=f"data.val ({what})",
    )


def input_pipeline(
    parts: Parts, sharding: NamedSharding, step: int, saved: dict[str, Any] | None
) -> pipeline.Batches:
    """This process's rows of every batch from ``step`` on (or from a saved position)."""
    recipe = parts.recipe
    degradation = parts.degradation
    host = None
    if not degradation.jittable:
        host = pipeline.HostDegradation(degradation.ref, recipe.scale, recipe.train.seed)
    rows = pipeline.process_rows(sharding, (recipe.data.batch,))
    batch_at = pipeline.BatchAt(patch_sampler(parts), rows, host)
    options = pipeline.Options(recipe.train.steps, recipe.data.workers, recipe.data.prefetch)
    return pipeline.Batches(batch_at, options, step, saved)


def global_batch(sharding: NamedSharding, rows: np.ndarray, batch: int) -> jax.Array:
    """One array over every process's devices from this process's rows of it."""
    return jax.make_array_from_process_local_data(sharding, rows, (batch, *rows.shape[1:]))


def patch_sampler(parts: Parts) -> data.PatchSampler:
    recipe = parts.recipe
    images = data.load_images(
        parts.train_dataset,
        minimum=recipe.data.patch,
        resize_to=recipe.data.resize,
        source=f"data.train ({recipe.data.train})",
    )
    return data.PatchSampler(
        images, recipe.data.patch, recipe.data.batch, recipe.train.seed, recipe.data.augment
    )
