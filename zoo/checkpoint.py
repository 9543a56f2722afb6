"""Checkpoints: the only module that imports Orbax.

A checkpoint holds the full training state (model parameters, optimizer state, step, PRNG key,
data position) and, beside it, the resolved recipe with the plugin versions, so a run directory
alone is enough to resume training or rebuild the model for inference. Orbax writes each step
into a temporary directory and renames it when complete, so an interrupted save never leaves a
checkpoint that looks whole.
"""

from __future__ import annotations

import logging
import shutil
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orbax.checkpoint as ocp
from orbax.checkpoint import checkpoint_managers as policies

from zoo.errors import ZooError

if TYPE_CHECKING:
    from zoo.recipe import Recipe
    from zoo.registry import Registry

# Orbax logs every save at INFO; a progress bar is the user's view of a run.
logging.getLogger("absl").setLevel(logging.WARNING)


class _QuietReadOnly(logging.Filter):
    """Drop the warnings Orbax gives each time a read-only manager opens (zoo.load, resume)
    and each time a step between evaluations is saved without metrics."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not (
            message.startswith("Given directory is read only")
            or message.startswith("CheckpointManagerOptions.read_only=True, setting")
            # Steps saved between evaluations carry no metrics; BestN keeps them by recency.
            or message.startswith("Requested `tracked_metric`; did not provide metrics")
        )


logging.getLogger("absl").addFilter(_QuietReadOnly())


class CheckpointError(ZooError):
    """A run directory has no usable checkpoint."""


@dataclass(frozen=True)
class Policy:
    """How many to keep and which metric picks the best one."""

    keep: int = 3
    best_metric: str | None = None
    higher_is_better: bool = True
    async_save: bool = True


def policy_for(recipe: Recipe, registry: Registry) -> Policy:
    """The recipe's retention: the last ``checkpoint.keep`` steps and the best by
    ``checkpoint.best``, in that metric's own direction."""
    best = recipe.checkpoint.best
    higher = True
    if best is not None:
        higher = bool(registry.get("metrics", best).meta["higher_is_better"])
    return Policy(
        keep=recipe.checkpoint.keep,
        best_metric=f"eval_{best}" if best else None,
        higher_is_better=higher,
        async_save=recipe.checkpoint.async_save,
    )


def checkpoint_dir(run_dir: Path) -> Path:
    return Path(run_dir).absolute() / "checkpoints"


def open_manager(
    run_dir: Path, policy: Policy = Policy(), *, read_only: bool = False
) -> ocp.CheckpointManager:
    """A CheckpointManager that keeps the last ``keep`` steps and the best by ``best_metric``."""
    keep: list[Any] = [policies.LatestN(n=policy.keep)]
    best: dict[str, Any] = {}
    if policy.best_metric is not None:
        metric = policy.best_metric

        def get_metric(metrics: Any) -> float:
            return float(metrics[metric])

        keep.append(
            policies.BestN(
                get_metric_fn=get_metric,
                reverse=not policy.higher_is_better,
                n=1,
                keep_checkpoints_without_metrics=False,
            )
        )
        # Orbax writes a step's metrics to disk only when best_fn is set; without them a later
        # manager (resume, zoo.load) sees no metrics, so it cannot find or keep the best step.
        best = {"best_fn": get_metric, "best_mode": "max" if policy.higher_is_better else "min"}
    options = ocp.CheckpointManagerOptions(
        **best,
        preservation_policy=policies.AnyPreservationPolicy(keep),
        enable_async_checkpointing=policy.async_save,
        read_only=read_only,
        create=not read_only,
    )
    return ocp.CheckpointManager(
        checkpoint_dir(run_dir), options=options, item_names=("state", "recipe")
    )


def save(
    manager: ocp.CheckpointManager,
    step: int,
    state: Any,
    recipe: dict[str, Any],
    metrics: dict[str, float] | None = None,
) -> None:
    """Save ``state`` (a pytree) and the recipe JSON at ``step``; asynchronous when enabled."""
    manager.save(
        step,
        args=ocp.args.Composite(
            state=ocp.args.StandardSave(state), recipe=ocp.args.JsonSave(recipe)
        ),
        metrics=metrics,
        force=True,
    )


def latest_step(run_dir: Path) -> int | None:
    directory = checkpoint_dir(run_dir)
    if not directory.is_dir():
        return None
    with open_manager(run_dir, read_only=True) as manager:
        return manager.latest_step()


def best_step(run_dir: Path, metric: str | None, higher_is_better: bool) -> int | None:
    """The step whose saved metrics are best, or the latest step when none carry the metric."""
    with open_manager(run_dir, read_only=True) as manager:
        steps = manager.all_steps()
        if not steps:
            return None
        scored = []
        for step in steps:
            try:
                values = manager.metrics(step) or {}
            except Exception:  # a damaged step; load() names it when it is read
                continue
            if metric is not None and metric in values:
                scored.append((float(values[metric]), step))
        if not scored:
            return max(steps)
        pick = max if higher_is_better else min
        return pick(scored)[1]


@dataclass(frozen=True)
class Loaded:
    """A checkpoint read back: its step, the payload saved beside it, and the state."""

    step: int
    payload: dict[str, Any]
    state: Any
    damaged: tuple[int, ...] = ()
    """Newer steps that could not be read and were passed over."""


def load(
    run_dir: Path,
    target_for: Callable[[dict[str, Any]], Any] | None = None,
    step: int | None = None,
    *,
    prefer: int | None = None,
) -> Loaded:
    """Read the checkpoint at ``step``; by default ``prefer`` (the best step, say) or else the
    newest one, falling back to the newest intact step when those are damaged.

    ``target_for(payload)`` gives the structure to restore the state into (None: payload only).
    A damaged checkpoint (a truncated or missing file, an empty manifest) is named in one
    warning line and left where it is; a damaged ``step`` asked for by number is an error.
    """
    damaged: list[int] = []
    notes: list[str] = []
    try:
        return _load(run_dir, target_for, step, prefer, damaged, notes)
    finally:
        for note in notes:
            _warn(note)


def _load(
    run_dir: Path,
    target_for: Callable[[dict[str, Any]], Any] | None,
    step: int | None,
    prefer: int | None,
    damaged: list[int],
    notes: list[str],
) -> Loaded:
    with open_manager(run_dir, read_only=True) as manager:
        saved = sorted(manager.all_steps(), reverse=True)
        if not saved:
            missing = f"{run_dir}: no checkpoint found in {checkpoint_dir(run_dir)}; train first"
            raise CheckpointError(
                f"{missing} with zoo.run(recipe, workdir={str(run_dir)!r}).",
                cli=f"{missing} with `zoo run RECIPE --workdir {run_dir}`.",
            )
        if step is not None and step not in saved:
            raise CheckpointError(
                f"{run_dir}: no checkpoint at step {step}; saved steps: "
                f"{', '.join(map(str, sorted(saved)))}."
            )
        order = [step] if step is not None else _preferred_order(saved, prefer)
        for candidate in order:
            try:
                payload = dict(
                    manager.restore(
                        candidate, args=ocp.args.Composite(recipe=ocp.args.JsonRestore())
                    )["recipe"]
                )
                state = None
                if target_for is not None:
                    target = target_for(payload)
                    state = manager.restore(
                        candidate,
                        args=ocp.args.Composite(state=ocp.args.StandardRestore(target)),
                    )["state"]
            except ZooError:
                raise  # the payload's recipe no longer builds: not a damaged file
            except Exception as exc:
                reason = _reason(exc)
                damaged.append(candidate)
                if step is not None:
                    raise DamagedCheckpoint(
                        f"{checkpoint_dir(run_dir) / str(candidate)} is damaged ({reason}); "
                        f"saved steps: {', '.join(map(str, sorted(saved)))}."
                    ) from None
                key = (checkpoint_dir(run_dir), candidate)
                if key not in _warned:  # one line per damaged step per process
                    _warned.add(key)
                    notes.append(
                        f"checkpoint step {candidate} in {checkpoint_dir(run_dir)} is damaged "
                        f"({reason}); passing over it (it is kept as it is)."
                    )
                continue
            return Loaded(candidate, payload, state, tuple(damaged))
    raise CheckpointError(
        f"{run_dir}: no intact checkpoint; step(s) {', '.join(map(str, damaged))} in "
        f"{checkpoint_dir(run_dir)} are damaged and were left as they are. Start the run "
        "afresh (force=True, --force on the command line, keeps the old one beside it)."
    )


def _drop_closed_loop_callbacks(unraisable: Any) -> None:
    """When restoring a damaged checkpoint fails, tensorstore still completes the reads in
    flight and their callbacks find Orbax's event loop closed, each reported as an unraisable
    RuntimeError (tens of tracebacks around the one warning that counts). Drop exactly those."""
    error = unraisable.exc_value
    if (
        unraisable.object is None
        and isinstance(error, RuntimeError)
        and str(error) == "Event loop is closed"
    ):
        return
    _previous_unraisablehook(unraisable)


_previous_unraisablehook = sys.unraisablehook
sys.unraisablehook = _drop_closed_loop_callbacks


class DamagedCheckpoint(CheckpointError):
    """A checkpoint asked for by step number cannot be read."""


def _preferred_order(saved: list[int], prefer: int | None) -> list[int]:
    return ([prefer] if prefer in saved else []) + [s for s in saved if s != prefer]


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = text if len(text) <= 120 else text[:117] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


_warned: set[tuple[Path, int]] = set()


def set_aside(run_dir: Path, steps: Iterable[int]) -> list[Path]:
    """Move damaged steps out of the checkpoint folder (never delete them), so a resumed run
    can save those step numbers again; returns where they went."""
    moved = []
    aside = Path(run_dir).absolute() / "checkpoints.damaged"
    for step in steps:
        source = checkpoint_dir(run_dir) / str(step)
        target = aside / f"{step}.{time.strftime('%Y%m%d-%H%M%S')}"
        aside.mkdir(exist_ok=True)
        shutil.move(source, target)
        _warn(f"moved the damaged checkpoint step {step} to {target}.")
        moved.append(target)
    return moved


def read_recipe(run_dir: Path, step: int | None = None) -> dict[str, Any]:
    """The payload saved with a checkpoint (the newest intact one by default)."""
    return load(run_dir, None, step).payload


def restore(run_dir: Path, target: Any, step: int | None = None) -> tuple[int, Any]:
    """Restore the state saved at ``step`` (newest intact by default) into ``target``'s shape."""
    loaded = load(run_dir, lambda payload: target, step)
    return loaded.step, loaded.state
