"""The Orbax CheckpointManager of a run directory: retention policy, listing, the best step."""

from __future__ import annotations

import logging
import sys
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
        # The step folder is made in save() itself (a few mkdirs): made in a thread, a refused
        # mkdir (read-only, no permission) leaves Orbax's writer threads waiting for it until
        # the coordination timeout (5 minutes), and the process cannot exit before.
        async_options=ocp.AsyncOptions(create_directories_asynchronously=False),
        read_only=read_only,
        create=not read_only,
        # A writer holds the run directory's lock (workdir.locked), so any temporary folder
        # there is left by a save that failed or was killed: removed before the first save.
        cleanup_tmp_directories=not read_only,
    )
    return ocp.CheckpointManager(
        checkpoint_dir(run_dir), options=options, item_names=("state", "recipe")
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


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = text if len(text) <= 120 else text[:117] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)
