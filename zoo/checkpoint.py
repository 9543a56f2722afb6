"""Checkpoints: the only module that imports Orbax.

A checkpoint holds the full training state (model parameters, optimizer state, step, PRNG key,
data position) and, beside it, the resolved recipe with the plugin versions, so a run directory
alone is enough to resume training or rebuild the model for inference. Orbax writes each step
into a temporary directory and renames it when complete, so an interrupted save never leaves a
checkpoint that looks whole.
"""

from __future__ import annotations

import logging
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
    """Drop the warnings Orbax gives each time a read-only manager opens (zoo.load, resume)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not (
            message.startswith("Given directory is read only")
            or message.startswith("CheckpointManagerOptions.read_only=True, setting")
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
            values = manager.metrics(step) or {}
            if metric is not None and metric in values:
                scored.append((float(values[metric]), step))
        if not scored:
            return max(steps)
        pick = max if higher_is_better else min
        return pick(scored)[1]


def read_recipe(run_dir: Path, step: int | None = None) -> dict[str, Any]:
    """The recipe JSON stored with a checkpoint (the latest one by default)."""
    with open_manager(run_dir, read_only=True) as manager:
        step = _existing_step(manager, run_dir, step)
        restored = manager.restore(step, args=ocp.args.Composite(recipe=ocp.args.JsonRestore()))
    return dict(restored["recipe"])


def restore(run_dir: Path, target: Any, step: int | None = None) -> tuple[int, Any]:
    """Restore the state saved at ``step`` (latest by default) into the structure of ``target``."""
    with open_manager(run_dir, read_only=True) as manager:
        step = _existing_step(manager, run_dir, step)
        restored = manager.restore(
            step, args=ocp.args.Composite(state=ocp.args.StandardRestore(target))
        )
    return step, restored["state"]


def _existing_step(manager: ocp.CheckpointManager, run_dir: Path, step: int | None) -> int:
    steps = manager.all_steps()
    if not steps:
        raise CheckpointError(
            f"{run_dir}: no checkpoint found in {checkpoint_dir(run_dir)}; "
            "train first with `zoo run RECIPE --workdir <dir>`."
        )
    if step is None:
        return max(steps)
    if step not in steps:
        raise CheckpointError(
            f"{run_dir}: no checkpoint at step {step}; saved steps: "
            f"{', '.join(map(str, sorted(steps)))}."
        )
    return step
