"""Saving checkpoints, and a save the system refuses turned into one ``CheckpointWriteError``.

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
import traceback
import warnings
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from zoo.checkpoint.lazy_orbax import TMP_DIR_SUFFIX, ocp
from zoo.checkpoint.manager import _reason, latest_step
from zoo.errors import WriteError, describe_os_error


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


def save(
    manager: ocp.CheckpointManager,
    step: int,
    state: Any,
    recipe: dict[str, Any],
    metrics: dict[str, float] | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    """Save ``state`` (a pytree), the recipe JSON and the input pipeline's position (``data``,
    JSON) at ``step``; asynchronous when enabled.

    A failed save raises ``CheckpointWriteError``: this one, or the previous asynchronous one,
    whose failure Orbax reports only now."""
    wait(manager)
    with _saving(manager, step):
        manager.save(
            step,
            args=ocp.args.Composite(
                state=ocp.args.StandardSave(state),
                recipe=ocp.args.JsonSave(recipe),
                **({} if data is None else {"data": ocp.args.JsonSave(data)}),
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
            and suffix.startswith(TMP_DIR_SUFFIX[1:])
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
            orbax = _from_orbax(trace + message) or TMP_DIR_SUFFIX in str(error)
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
