"""zoo: a plugin-based JAX model zoo for image super-resolution with autoencoders.

For notebooks: ``zoo.run("ae_x2", train__steps=200)`` trains a recipe (``__`` stands for the dot
of a command-line override) and ``zoo.load("runs/ae_x2").upscale(image)`` uses the result;
``zoo.load("ae_x2")`` is the shipped model of that recipe.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from zoo.recipe import Recipe
    from zoo.train import RunResult
    from zoo.upscale import TrainedModel

try:
    __version__ = version("zoo-sr")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0.0.0+unknown"

hookimpl = pluggy.HookimplMarker("zoo")


def load(source: str | Path, step: str | int | None = None) -> TrainedModel:
    """A trained model from a run directory, a weights file (`zoo export`) or a registered
    model's name (`zoo models`). ``step`` (run directories): ``"best"``, ``"last"`` or a step
    number; by default the run's own rule (best on data.val when it sets checkpoint.best, else
    the last step), the step its report scored."""
    from zoo.upscale import load as load_model

    return load_model(source, step)  # type: ignore[arg-type]


def run(
    recipe: str | Path | dict[str, Any] | Recipe,
    *,
    workdir: str | Path | None = None,
    resume: bool = False,
    force: bool = False,
    progress: bool = True,
    **overrides: Any,
) -> RunResult:
    """Train and evaluate a recipe (file, shipped name, dict or Recipe); returns the result.

    Keyword overrides use ``__`` for dots: ``zoo.run("ae_x2", train__steps=200)``.
    """
    import json

    from zoo import recipe as recipe_lib
    from zoo.train import train_and_evaluate

    texts = [f"{key.replace('__', '.')}={json.dumps(value)}" for key, value in overrides.items()]
    if isinstance(recipe, recipe_lib.Recipe):
        resolved = recipe_lib.from_dict(recipe.model_dump(mode="json"), texts)
    elif isinstance(recipe, dict):
        resolved = recipe_lib.from_dict(recipe, texts)
    else:
        resolved = recipe_lib.load(recipe, texts)
    target = Path(workdir) if workdir is not None else Path("runs") / resolved.name
    return train_and_evaluate(resolved, target, resume=resume, force=force, progress=progress)


__all__ = ["__version__", "hookimpl", "load", "run"]
