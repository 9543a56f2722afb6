"""The run directory: what may start or resume in it, and the results written there at the end.

A run directory holds ``recipe.json`` (the resolved recipe with versions), ``checkpoints/``,
``metrics.json`` and ``report.html``. A fresh run never mixes with an old one: it needs an empty
place, or ``force``, which moves the old run aside rather than deleting it.
"""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from zoo import atomic, checkpoint
from zoo.errors import RecipeError, ZooError
from zoo.evaluate import EvalSet, Evaluation
from zoo.provenance import recipe_payload
from zoo.recipe import Recipe

# Fields a resumed run may change: they say how far and how often, not what is trained.
RESUMABLE_CHANGES = ("train.steps", "train.eval_every", "train.checkpoint_every", "train.log_every")


def prepare(workdir: Path, recipe: Recipe, *, resume: bool, force: bool) -> None:
    """Refuse to mix runs: resuming needs a compatible checkpoint; a fresh run an empty place."""
    latest = checkpoint.latest_step(workdir)
    if resume:
        check_resumable(workdir, recipe, latest)
    elif latest is not None:
        if not force:
            raise ZooError(
                f"{workdir} already holds a run (checkpoint at step {latest}). Continue it with "
                "--resume, start afresh with --force (the old run is kept beside it), or choose "
                "another --workdir."
            )
        backup = workdir.with_name(f"{workdir.name}.{time.strftime('%Y%m%d-%H%M%S')}")
        shutil.move(workdir, backup)
        print(f"Moved the previous run to {backup}.", file=sys.stderr)
    workdir.mkdir(parents=True, exist_ok=True)
    atomic.write_json(workdir / "recipe.json", recipe_payload(recipe))


def check_resumable(workdir: Path, recipe: Recipe, latest: int | None) -> None:
    if latest is None:
        raise ZooError(f"{workdir}: nothing to resume (no checkpoints); drop --resume.")
    saved = checkpoint.read_recipe(workdir, latest)["recipe"]
    differences = recipe_differences(saved, recipe.model_dump(mode="json"))
    if differences:
        raise RecipeError(
            f"{workdir}: the recipe differs from the one this run was started with "
            f"({'; '.join(differences[:3])}). Resume with the same recipe (train.steps may "
            "grow), or start a new run with another --workdir."
        )
    if latest >= recipe.train.steps:
        raise ZooError(
            f"{workdir}: the run already reached step {latest}; raise "
            f"train.steps above {latest} to train further."
        )


def recipe_differences(
    saved: Mapping[str, Any], current: Mapping[str, Any], prefix: str = ""
) -> list[str]:
    """``path: old -> new`` for every field that differs, but those a resume may change."""
    differences = []
    for key in sorted(set(saved) | set(current)):
        path = f"{prefix}{key}"
        if path in RESUMABLE_CHANGES:
            continue
        old, new = saved.get(key), current.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            differences += recipe_differences(old, new, f"{path}.")
        elif old != new:
            differences.append(f"{path}: {old!r} -> {new!r}")
    return differences


def read_history(workdir: Path, step: int) -> list[dict[str, float]]:
    """The logged losses and evaluations up to ``step``, as saved with that checkpoint."""
    saved = checkpoint.read_recipe(workdir, step).get("history", [])
    return [entry for entry in saved if entry["step"] <= step]


def write_results(
    workdir: Path,
    recipe: Recipe,
    evaluation: Evaluation,
    history: Sequence[Mapping[str, float]],
    eval_set: EvalSet,
) -> None:
    """``metrics.json`` and ``report.html``, each written atomically."""
    from zoo import report

    payload = evaluation.to_json()
    payload["history"] = list(history)
    payload["steps"] = recipe.train.steps
    atomic.write_json(workdir / "metrics.json", payload)
    report.write_report(workdir, recipe, evaluation, history, eval_set.lr, eval_set.hr)
