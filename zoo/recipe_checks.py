"""Recipe checks against the registry, before any compute: plugin names and options, the split
each dataset has, the best-checkpoint rule, and the optimizer's arguments."""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from typing import Any

from zoo.errors import PluginError, RecipeError, did_you_mean
from zoo.recipe import Optimizer, PluginRef, Recipe


def check_names(recipe: Recipe, source: str) -> None:
    """Check every plugin name and option in the recipe against the registry, before compute."""
    from zoo.registry import get_registry

    registry = get_registry()  # a broken plugin: its own error, naming it and the way around

    def check(kind: str, field: str, reference: PluginRef, **extra: Any) -> None:
        options = reference.options
        if kind == "datasets":
            options.pop("split", None)  # an engine argument, checked against meta splits below
        try:
            entry = registry.get(kind, reference.name)
            entry.validate_options(options)
        except (PluginError, ValueError) as exc:
            raise RecipeError(f"{source}: {field}: {exc}") from None
        splits = entry.meta.get("splits")
        split = reference.options.get("split", extra.get("split"))
        if splits and split is not None and split not in splits:
            raise RecipeError(
                f"{source}: {field}.split: dataset {reference.name!r} has no split "
                f"{split!r}. Valid: {', '.join(splits)}."
            )

    def check_list(kind: str, field: str, names: Iterable[str]) -> None:
        for index, name in enumerate(names):
            try:
                registry.get(kind, name)
            except PluginError as exc:
                raise RecipeError(f"{source}: {field}[{index}]: {exc}") from None

    check("datasets", "data.train", recipe.data.train)
    check("datasets", "data.eval", recipe.data.eval)
    if isinstance(recipe.data.val, PluginRef):
        check("datasets", "data.val", recipe.data.val)
    check("degradations", "degradation", recipe.degradation)
    check("encoders", "model.encoder", recipe.model.encoder)
    check("decoders", "model.decoder", recipe.model.decoder)
    check("upscalers", "model.upsample", recipe.model.upsample)
    check_list("metrics", "eval.metrics", recipe.eval.metrics)
    check_list("upscalers", "eval.upscalers", recipe.eval.upscalers)
    for index, logger in enumerate(recipe.log):
        check("loggers", f"log[{index}]", logger)
    for name, term in recipe.loss.items():
        try:
            entry = registry.get("metrics", name)
            entry.validate_options(term.options)
        except (PluginError, ValueError) as exc:
            raise RecipeError(f"{source}: loss.{name}: {exc}") from None
    if recipe.checkpoint.best is not None and recipe.checkpoint.best not in recipe.eval.metrics:
        raise RecipeError(
            f"{source}: checkpoint.best: {recipe.checkpoint.best!r} is not among eval.metrics "
            f"({', '.join(recipe.eval.metrics)}); add it there or set checkpoint.best: null."
        )
    check_optimizer(recipe.optimizer, source)


def check_selection(recipe: Recipe, source: str) -> None:
    """A run that chooses its checkpoint by a metric needs a validation set: chosen on
    data.eval, the numbers reported on data.eval would be inflated.

    A rule for starting a run (``assemble`` applies it, so `zoo run`, `zoo recipes validate`
    and `--dry-run` do), not for reading a saved run's recipe back: runs saved before data.val
    existed recorded ``checkpoint.best: psnr``, the default then, and still load."""
    best = recipe.checkpoint.best
    if best is not None and recipe.data.val is None:
        raise RecipeError(
            f"{source}: checkpoint.best: choosing the checkpoint by {best} on data.eval would "
            f"inflate the {best} then reported on data.eval as unseen; add a validation set "
            "(data.val: {images: N} holds out the last N images of data.train, or data.val: "
            "{name: folder, path: DIR}) or set checkpoint.best: null."
        )


def check_optimizer(optimizer: Optimizer, source: str) -> None:
    import optax

    factory = getattr(optax, optimizer.name)
    parameters = inspect.signature(factory).parameters
    accepted = [name for name in parameters if name != "learning_rate"]
    for key, value in optimizer.options.items():
        if key not in parameters:
            raise RecipeError(
                f"{source}: optimizer.{key}: optax.{optimizer.name} has no argument {key!r}."
                f"{did_you_mean(key, accepted)} Arguments: {', '.join(accepted)}."
            )
        if not isinstance(value, int | float | bool | None):
            raise RecipeError(f"{source}: optimizer.{key}: expected a number, got {value!r}.")
