"""The run directory: what may start or resume in it, and the results written there at the end.

A run directory holds ``recipe.json`` (the resolved recipe with versions), ``checkpoints/``,
``metrics.json`` and ``report.html``. A fresh run never mixes with an old one: it needs an empty
place, or ``force``, which moves the old run aside rather than deleting it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pydantic

from zoo import atomic, checkpoint
from zoo.errors import RecipeError, ZooError
from zoo.evaluate import EvalSet, Evaluation
from zoo.provenance import recipe_payload
from zoo.recipe import Recipe

OUTPUTS = ("metrics.json", "report.html")
# Fields a resumed run may change: they say how far and how often, not what is trained.
RESUMABLE_CHANGES = (
    "train.steps",
    "train.eval_every",
    "train.checkpoint_every",
    "train.log_every",
    "data.workers",
    "data.prefetch",
    "log",
)


class RunDirectoryBusy(ZooError):
    """Another process is running in this run directory."""


@contextlib.contextmanager
def locked(workdir: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``workdir`` for a whole run; a second run fails at once.

    The lock file sits beside the run directory (``--force`` moves the directory itself) and is
    an OS lock (flock), so a process killed with -9 releases it with its last breath.
    """
    workdir = Path(workdir)
    workdir.parent.mkdir(parents=True, exist_ok=True)
    path = workdir.parent / f".{workdir.name}.lock"
    handle = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held open for the whole run
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise RunDirectoryBusy(
                f"{workdir} is in use by {holder}; wait for that run to finish, or choose "
                "another run directory."
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} (zoo run since {time.strftime('%Y-%m-%d %H:%M:%S')})")
        handle.flush()
        yield
    finally:
        handle.close()  # closing releases the lock


def check(workdir: Path, recipe: Recipe, *, resume: bool, force: bool) -> int | None:
    """Refuse to mix runs: resuming needs a compatible checkpoint; a fresh run an empty place.

    Returns the newest saved step. Only reads, so every process of a job runs it: Orbax's
    reads are collective there."""
    latest = checkpoint.latest_step(workdir)
    if resume:
        check_resumable(workdir, recipe, latest)
    elif latest is not None and not force:
        holds = f"{workdir} already holds a run (checkpoint at step {latest})."
        raise ZooError(
            f"{holds} Continue it with resume=True, start afresh with force=True (the old "
            "run is kept beside it), or choose another workdir.",
            cli=f"{holds} Continue it with --resume, start afresh with --force (the old run "
            "is kept beside it), or choose another --workdir.",
        )
    return latest


def prepare(workdir: Path, recipe: Recipe, *, resume: bool, latest: int | None) -> None:
    """Make the checked run directory: move an earlier run aside (force) and write recipe.json."""
    if not resume and latest is not None:
        backup = workdir.with_name(f"{workdir.name}.{time.strftime('%Y%m%d-%H%M%S')}")
        shutil.move(workdir, backup)
        print(f"Moved the previous run to {backup}.", file=sys.stderr)
    workdir.mkdir(parents=True, exist_ok=True)
    payload = recipe_payload(recipe)
    earlier = workdir / "recipe.json"
    if resume and earlier.is_file():  # where its weights came from (init_from) stays on record
        with contextlib.suppress(ValueError):
            payload.update(
                {k: v for k, v in json.loads(earlier.read_text()).items() if k == "init_from"}
            )
    atomic.write_json(workdir / "recipe.json", payload)


def check_resumable(workdir: Path, recipe: Recipe, latest: int | None) -> None:
    """A resume needs a checkpoint made by the same recipe and either steps left to train or
    outputs left to write (a run stopped after its final checkpoint is completed)."""
    if latest is None:
        raise ZooError(
            f"{workdir}: nothing to resume (no checkpoints); drop resume=True.",
            cli=f"{workdir}: nothing to resume (no checkpoints); drop --resume.",
        )
    newest = checkpoint.load(workdir)
    differences = recipe_differences(
        with_defaults(newest.payload["recipe"]), recipe.model_dump(mode="json")
    )
    if differences:
        differs = (
            f"{workdir}: the recipe differs from the one this run was started with "
            f"({'; '.join(differences[:3])}). Resume with the same recipe (train.steps may "
            "grow), or start a new run in another"
        )
        raise RecipeError(f"{differs} workdir.", cli=f"{differs} --workdir.")
    if newest.step >= recipe.train.steps and outputs_complete(workdir):
        raise ZooError(
            f"{workdir}: the run already reached step {newest.step}; raise "
            f"train.steps above {newest.step} to train further."
        )


def with_defaults(saved: Mapping[str, Any]) -> Mapping[str, Any]:
    """A saved recipe with the fields added since it was written at their defaults (which
    reproduce what that run did), so a new field alone does not stop a resume."""
    try:
        return Recipe.model_validate(saved).model_dump(mode="json")
    except pydantic.ValidationError:
        return saved


def outputs_complete(workdir: Path) -> bool:
    """Whether the end-of-run outputs exist (each is written atomically, so existing is whole)."""
    return all((workdir / name).is_file() for name in OUTPUTS)


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


def history_until(payload: Mapping[str, Any], step: int) -> list[dict[str, float]]:
    """The logged losses and evaluations up to ``step`` from a checkpoint's payload."""
    return [entry for entry in payload.get("history", []) if entry["step"] <= step]


def write_results(
    workdir: Path,
    recipe: Recipe,
    evaluation: Evaluation,
    history: Sequence[Mapping[str, float]],
    eval_set: EvalSet,
    *,
    skipped: int = 0,
    step: int | None = None,
    selected: str = "last",
) -> None:
    """``metrics.json`` and ``report.html``, each written atomically. ``step`` is the step whose
    parameters ``evaluation`` scored and ``selected`` how it was chosen (``best by val_psnr``);
    ``recipe.json``'s ``init_from`` record, when there, is named in the report."""
    from zoo import report

    payload = evaluation.to_json()
    payload["history"] = list(history)
    payload["steps"] = recipe.train.steps
    payload["step"] = recipe.train.steps if step is None else step
    payload["selected"] = selected
    payload["skipped_steps"] = skipped
    atomic.write_json(workdir / "metrics.json", payload)
    report.write_report(
        workdir,
        recipe,
        evaluation,
        history,
        eval_set.lr,
        eval_set.hr,
        step=payload["step"],
        selected=selected,
        init_from=init_from_record(workdir),
    )


def init_from_record(workdir: Path) -> dict[str, Any] | None:
    """Where the run's first weights came from (``recipe.json``'s ``init_from``), if recorded."""
    try:
        record = json.loads((workdir / "recipe.json").read_text(encoding="utf-8")).get("init_from")
    except (OSError, ValueError, AttributeError):
        return None
    return record if isinstance(record, dict) else None
