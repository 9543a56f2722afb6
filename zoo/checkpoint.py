"""Checkpoints: the only module that imports Orbax.

A checkpoint holds the full training state (model parameters, optimizer state, step, PRNG key,
data position) and, beside it, the resolved recipe with the plugin versions, so a run directory
alone is enough to resume training or rebuild the model for inference. Orbax writes each step
into a temporary directory and renames it when complete, so an interrupted save never leaves a
checkpoint that looks whole.

A save that fails (a full disk, a quota, no permission, a read-only filesystem), whether
``manager.save`` raises it or Orbax's background thread reports it at the next save or wait,
ends in one ``CheckpointWriteError``: the temporary folder of that step is removed, the complete
checkpoints are left as they are, and the noise Orbax, asyncio and tensorstore make about that
failure (their error logs, never-retrieved task exceptions, never-awaited coroutines) is dropped.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import logging
import os
import re
import shutil
import sys
import time
import traceback
import warnings
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orbax.checkpoint as ocp
from orbax.checkpoint import checkpoint_managers as policies

from zoo.errors import WriteError, ZooError, describe_os_error

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


class CheckpointWriteError(WriteError):
    """A checkpoint could not be written: a full disk, a quota, no permission, a read-only
    filesystem. The temporary folder of that step is removed and the earlier checkpoints are
    intact, so the run resumes from the latest one once the cause is fixed. Exit code 1."""

    def __init__(
        self, directory: Path, step: int | None, cause: OSError, latest: int | _Unreadable | None
    ) -> None:
        super().__init__(directory, cause)
        what = f"the checkpoint of step {step}" if step is not None else "a checkpoint"
        once = (
            "once there is space"
            if cause.errno in (errno.ENOSPC, errno.EDQUOT)
            else "once that is fixed"
        )
        if latest is None:
            kept = f"No earlier checkpoint is complete: run it again {once}."
            kept_cli = kept
        elif isinstance(latest, _Unreadable):
            left = "The earlier checkpoints were left as they are"
            kept = f"{left}; resume=True continues from the latest {once}."
            kept_cli = f"{left}; --resume continues from the latest {once}."
        else:
            intact = f"The earlier checkpoints are intact (the latest is step {latest})"
            kept = f"{intact}; resume=True continues from it {once}."
            kept_cli = f"{intact}; --resume continues from it {once}."
        head = f"{directory}: cannot write {what}: {describe_os_error(cause)}"
        self.message = f"{head} {kept}"
        self.cli = f"{head} {kept_cli}"


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


def save(
    manager: ocp.CheckpointManager,
    step: int,
    state: Any,
    recipe: dict[str, Any],
    metrics: dict[str, float] | None = None,
) -> None:
    """Save ``state`` (a pytree) and the recipe JSON at ``step``; asynchronous when enabled.

    A failed save raises ``CheckpointWriteError``: this one, or the previous asynchronous one,
    whose failure Orbax reports only now."""
    wait(manager)
    with _saving(manager, step):
        manager.save(
            step,
            args=ocp.args.Composite(
                state=ocp.args.StandardSave(state), recipe=ocp.args.JsonSave(recipe)
            ),
            metrics=metrics,
            force=True,
        )
    _in_flight[manager] = step


def wait(manager: ocp.CheckpointManager) -> None:
    """Wait for the save in flight; ``CheckpointWriteError`` if it failed."""
    with _saving(manager, _in_flight.pop(manager, None)):
        manager.wait_until_finished()


def finish(manager: ocp.CheckpointManager) -> None:
    """Wait for the save in flight (``CheckpointWriteError`` if it failed), then close."""
    wait(manager)
    manager.close()


_TMP_SUFFIX = ocp.path.step.TMP_DIR_SUFFIX  # ".orbax-checkpoint-tmp"

# The step each manager is saving in the background, to name it when its failure surfaces.
_in_flight: weakref.WeakKeyDictionary[Any, int] = weakref.WeakKeyDictionary()


@contextlib.contextmanager
def _saving(manager: ocp.CheckpointManager, step: int | None) -> Iterator[None]:
    """Turn a failure to write ``step`` into ``CheckpointWriteError``, after removing its
    temporary folder and closing the manager (other errors, bugs, keep their traceback)."""
    try:
        yield
    except Exception as exc:
        directory = Path(manager.directory)
        cause = _write_failure(exc)
        _save_failed.append(True)
        # Orbax's threads keep the error, whose frames hold tensorstore's unfinished write
        # coroutines; freed now, they are finalised now rather than noisily at exit.
        _clear_frames(exc)
        with contextlib.suppress(Exception):
            manager.close()  # joins Orbax's threads; the failure was raised once already
        gc.collect()
        with contextlib.suppress(OSError):  # a folder it cannot even list: Orbax cleans it later
            _remove_temporary(directory, step)
        if cause is None:
            raise
        try:
            latest: int | _Unreadable | None = latest_step(directory.parent)
        except Exception:
            latest = _Unreadable()
        raise CheckpointWriteError(directory, step, cause, latest) from exc


class _Unreadable:
    """The latest complete step, when the checkpoint folder cannot be read."""


# tensorstore puts the errno in its message ("... No space left on device [os_error_code='28']").
_OS_ERROR_CODE = re.compile(r"os_error_code='?(\d+)")
# Its status codes for a write the system refused, when no errno comes with them.
_REFUSED_STATUS = re.compile(r"^(RESOURCE_EXHAUSTED|PERMISSION_DENIED|UNAVAILABLE|DATA_LOSS): ")


def _write_failure(exc: BaseException | None) -> OSError | None:
    """The OSError behind a failed write (recovered from tensorstore's text), or None when
    ``exc`` is not the system refusing a write."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno:
            return exc
        text = str(exc)
        found = _OS_ERROR_CODE.search(text)
        if found:
            code = int(found.group(1))
            return OSError(code, os.strerror(code))
        if _REFUSED_STATUS.match(text):
            return OSError(None, _reason(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def _clear_frames(exc: BaseException) -> None:
    seen: set[int] = set()
    error: BaseException | None = exc
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        traceback.clear_frames(error.__traceback__)
        error = error.__cause__ or error.__context__


def _remove_temporary(directory: Path, step: int | None) -> None:
    """Remove the temporary folder(s) of the failed ``step`` (of any step when unknown);
    complete checkpoints are never temporary, so they are never touched."""
    if not directory.is_dir():
        return
    for entry in directory.iterdir():
        step_part, dot, suffix = entry.name.partition(".")
        if (
            dot
            and suffix.startswith(_TMP_SUFFIX[1:])
            and (step is None or step_part == str(step))
            and entry.is_dir()
        ):
            shutil.rmtree(entry, ignore_errors=True)


# Whether a save failed in this process: some of its noise comes only afterwards.
_save_failed: list[bool] = []


def _debug() -> bool:
    return os.environ.get("ZOO_DEBUG", "").strip() not in ("", "0")


def _from_orbax(text: str) -> bool:
    return f"{os.sep}orbax{os.sep}checkpoint{os.sep}" in text


class _QuietFailedSave(logging.Filter):
    """Drop what Orbax's threads (logger ``absl``) and asyncio log about a failed write, which
    ``CheckpointWriteError`` reports in one line: ERROR records from Orbax whose error is the
    system refusing a write, the exceptions of Orbax's write tasks and futures that nobody
    retrieved, and its write tasks destroyed unfinished once a save failed. ``ZOO_DEBUG=1``
    keeps them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.ERROR or _debug():
            return True
        error = record.exc_info[1] if record.exc_info else None
        message = record.getMessage()
        if record.name == "absl":
            failed = _write_failure(error or Exception(message))
            return not (failed and _from_orbax(record.pathname))
        first = message.partition("\n")[0]
        if first.endswith("exception was never retrieved"):  # a Task's, a gather's, a Future's
            trace = "".join(traceback.format_tb(error.__traceback__)) if error else ""
            # Raised in Orbax's code, or (a bare tensorstore future) writing in its temporary
            # folder.
            orbax = _from_orbax(trace + message) or _TMP_SUFFIX in str(error)
            return not (_write_failure(error) and orbax)
        if first == "Task was destroyed but it is pending!":
            return not (_save_failed and _from_orbax(message))
        return True


logging.getLogger("absl").addFilter(_QuietFailedSave())
logging.getLogger("asyncio").addFilter(_QuietFailedSave())
# Orbax's write coroutines that never started because a sibling write failed.
warnings.filterwarnings(
    "ignore",
    message=r"coroutine 'async_serialize_from_host\.<locals>\.write_fragment' was never awaited",
    category=RuntimeWarning,
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
