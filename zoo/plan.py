"""The plan `zoo run --dry-run` prints: every built part of a recipe, in words."""

from __future__ import annotations

from pathlib import Path

import jax

from zoo.assemble import Parts
from zoo.model import count_parameters


def describe_plan(parts: Parts, workdir: Path) -> str:
    recipe = parts.recipe
    resize = f"resized to {recipe.data.resize}x{recipe.data.resize}, " if recipe.data.resize else ""
    upsampled = (
        f" (upsampled by {recipe.model.upsample})" if recipe.model.input == "upsampled" else ""
    )
    lines = [
        f"recipe {recipe.name}: x{recipe.scale} super-resolution, run directory {workdir}",
        f"  train data   {recipe.data.train} ({len(parts.train_dataset)} images), "
        f"{resize}patch {recipe.data.patch}, batch {recipe.data.batch}",
        f"  eval data    {recipe.data.eval} ({len(parts.eval_dataset)} images)",
        f"  degradation  {parts.degradation}"
        f"{'' if parts.degradation.jittable else ' (runs on the host)'}",
        f"  model        encoder {recipe.model.encoder}, decoder {recipe.model.decoder}, "
        f"input {recipe.model.input}{upsampled}"
        + (", global residual" if recipe.model.residual else "")
        + f"; {count_parameters(parts.model):,} parameters",
        f"  loss         minimise {parts.loss}",
        f"  optimizer    {recipe.optimizer.name}, learning rate {recipe.optimizer.learning_rate:g}"
        f" ({recipe.optimizer.schedule.name} schedule)",
        f"  training     {recipe.train.steps} steps on {parts.mesh.size} device(s) "
        f"({jax.devices()[0].platform}), eval every {recipe.train.eval_every or 'end only'}, "
        f"checkpoint every {recipe.train.checkpoint_every or 'end only'}",
        f"  evaluation   {', '.join(recipe.eval.metrics)} under the {recipe.eval.convention} "
        f"convention, against {', '.join(recipe.eval.upscalers) or 'no upscalers'}",
    ]
    return "\n".join(lines)
