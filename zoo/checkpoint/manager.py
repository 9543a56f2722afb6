"""The Orbax CheckpointManager of a run directory: retention policy, listing, choosing a step."""

from __future__ import annotations

import logging
import math
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import absl.logging  # noqa: F401  (before the filters below: it configures the 'absl' logger)

from zoo.checkpoint.lazy_orbax import ocp, policies
from zoo.errors import ZooError

if TYPE_CHECKING:
    from zoo.recipe import Recipe
    from zoo.registry import Registry

# Orbax logs every save at INFO; a progress bar is the user's view of a run.
logging.getLogger("absl").setLevel(logging.WARNING)


class _QuietReadOnly(logging.Filter):
    """Drop the warnings Orbax gives each time a read-only manager opens (zoo.load, resume),
    each time a step between evaluations is saved without metrics, and each time some items
    of a step are read and not the others."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not (
            message.startswith("Given directory is read only")
            or message.startswith("CheckpointManagerOptions.read_only=True, setting")
            # Steps saved between evaluations carry no metrics; BestN keeps them by recency.
            or message.startswith("Requested `tracked_metric`; did not provide metrics")
            # zoo reads some items of a step on purpose (the recipe alone, the state alone).
            or "was found in the checkpoint, but could not be restored" in message
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
    ``checkpoint.best`` on the validation set (``val_psnr``), in that metric's own direction.

    A run saved before data.val existed chose its best on data.eval, so without data.val the
    metric is ``eval_psnr``: the name of what that run really measured."""
    best = recipe.checkpoint.best
    higher = True
    if best is not None:
        higher = bool(registry.get("metrics", best).meta["higher_is_better"])
    measured = "val" if getattr(recipe.data, "val", None) is not None else "eval"
    return Policy(
        keep=recipe.checkpoint.keep,
        best_metric=f"{measured}_{best}" if best else None,
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
        checkpoint_dir(run_dir), options=options, item_names=("state", "recipe", "data")
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
        best = _best_scored(manager, steps, metric, higher_is_better)
        return max(steps) if best is None else best


def _best_scored(
    manager: ocp.CheckpointManager, steps: Iterable[int], metric: str | None, higher: bool
) -> int | None:
    """The saved step with the best ``metric`` (a later step wins a tie); None if none has it."""
    scored = []
    for step in steps:
        try:
            values = manager.metrics(step) or {}
        except Exception:  # a damaged step; load() names it when it is read
            continue
        if metric is not None and metric in values and not math.isnan(float(values[metric])):
            value = float(values[metric])
            scored.append((value if higher else -value, step))
    return max(scored)[1] if scored else None


StepRule = Literal["best", "last"]


def default_step_rule(recipe: Recipe) -> StepRule:
    """The step a run reports and is loaded at unless told otherwise: ``"best"`` when its recipe
    sets checkpoint.best, else ``"last"``; the report, metrics.json, zoo.load, `zoo eval` and
    `zoo upscale` agree on it."""
    return "best" if recipe.checkpoint.best is not None else "last"


def select_step(
    run_dir: Path, which: StepRule | int | None, policy: Policy
) -> tuple[int | None, str]:
    """The saved step ``which`` names in ``run_dir``, and how it was chosen.

    ``which``: ``"best"`` -> ``(120, "best by val_psnr")`` (the policy's metric, in its own
    direction; a later step wins a tie), ``"last"`` -> ``(200, "last")``, a step number ->
    ``(120, "step 120")``, None -> the policy's own rule (``"best"`` when it has a best metric,
    else ``"last"``; ``default_step_rule(recipe)`` says the same from a recipe). The step is None
    when the run has no checkpoint at all (``load`` then says how to make one). For the best or
    the last, hand the step to ``load`` as ``prefer`` to keep passing over damaged steps; a
    number asked for is ``load``'s ``step``.

    ``"best"`` for a run without checkpoint.best, or a step number that was not saved, is a
    ``CheckpointError``. When no saved step carries the metric yet (a run interrupted before its
    first validation), the best is the last step, labelled ``last (no saved step has
    val_psnr)``.
    """
    if which is None:
        which = "best" if policy.best_metric is not None else "last"
    if which not in ("best", "last") and (isinstance(which, bool) or not isinstance(which, int)):
        raise CheckpointError(
            f"{run_dir}: step {which!r}: ask for 'best', 'last' or a step number."
        )
    if not checkpoint_dir(run_dir).is_dir():
        steps: list[int] = []
    else:
        with open_manager(run_dir, read_only=True) as manager:
            steps = sorted(manager.all_steps())
            best = (
                _best_scored(manager, steps, policy.best_metric, policy.higher_is_better)
                if which == "best" and policy.best_metric is not None
                else None
            )
    saved = ", ".join(map(str, steps)) or "none"
    if which == "best":
        if policy.best_metric is None:
            raise CheckpointError(
                f"{run_dir}: the run has no checkpoint.best, so no step was chosen as the "
                f"best; ask for 'last' or a step number (saved steps: {saved})."
            )
        if not steps:
            return None, f"best by {policy.best_metric}"
        if best is None:
            return steps[-1], f"last (no saved step has {policy.best_metric})"
        return best, f"best by {policy.best_metric}"
    if which == "last":
        return (steps[-1] if steps else None), "last"
    if which not in steps:
        raise CheckpointError(f"{run_dir}: no checkpoint at step {which}; saved steps: {saved}.")
    return which, f"step {which}"


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = text if len(text) <= 120 else text[:117] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)
