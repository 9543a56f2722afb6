"""A checkpoint save the system refuses (a full disk, a quota, no permission, a read-only
filesystem) ends the run with one message and exit code 1: the checkpoint folder, the OS reason,
the latest complete step (left as it was) and --resume. The failed step leaves no temporary
folder, Orbax's and asyncio's noise about it is dropped, and --resume afterwards finishes the run.

Nothing is mounted: the failure is made where the real one happens. Orbax hands each array to
``serialization.async_serialize_from_host``, where tensorstore's write raised, on a 600 KiB tmpfs,
``ValueError: RESOURCE_EXHAUSTED: ... No space left on device [os_error_code='28']``; the fake
raises that text there, for one step. With ``checkpoint.async_save`` (the default) it raises in
Orbax's background thread and surfaces at the next save; without, inside ``manager.save``.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import threading
from pathlib import Path

import orbax.checkpoint as ocp
import pytest
from orbax.checkpoint._src.serialization import serialization
from tiny import tiny_dict, write_recipe

from zoo import checkpoint
from zoo.errors import WriteError

TMP = ".orbax-checkpoint-tmp"


class Refused:
    """The threads the failure was raised in, and the complete checkpoints at that moment."""

    def __init__(self) -> None:
        self.threads: list[str] = []
        self.complete: dict[str, dict[str, str]] = {}


def refuse_writes_of(
    monkeypatch, step: int, code: int = errno.ENOSPC, checkpoints: Path | None = None
) -> Refused:
    """Make tensorstore's writes into step ``step``'s temporary folder fail as on a full disk
    (or with ``code``); the complete steps in ``checkpoints`` are recorded when it fails."""
    original = serialization.async_serialize_from_host
    refused = Refused()

    async def write(rslices, tensorstore_spec, **kwargs):
        text = str(tensorstore_spec)
        if f"/{step}{TMP}/" in text:
            if not refused.threads and checkpoints is not None:
                refused.complete = {
                    p.name: digest(p) for p in checkpoints.iterdir() if TMP not in p.name
                }
            refused.threads.append(threading.current_thread().name)
            raise ValueError(
                f'RESOURCE_EXHAUSTED: Error writing "params/0" in OCDBT database at local file '
                f'"{text}": Failed to write 6694 bytes to file 14: '
                f"{os.strerror(code)} [os_error_code='{code}']"
            )
        return await original(rslices, tensorstore_spec, **kwargs)

    monkeypatch.setattr(serialization, "async_serialize_from_host", write)
    return refused


def message_of(output: str) -> list[str]:
    """The lines of ``output`` but the progress bar's (tqdm redraws it with carriage returns)."""
    lines = output.replace("\r", "\n").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("train ")]


def assert_one_message(result, *fragments: str) -> str:
    lines = message_of(result.output)
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output, result.output
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    return lines[0]


def digest(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def noise(caplog) -> list[str]:
    """What reached the log at ERROR: Orbax's threads and asyncio's never-retrieved tasks."""
    return [r.getMessage()[:200] for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.parametrize("async_save", [True, False], ids=["async", "sync"])
def test_a_full_disk_during_a_save_is_one_line_and_resume_finishes_the_run(
    zoo_cli, tmp_path, monkeypatch, caplog, async_save
):
    recipe = write_recipe(
        tmp_path / "tiny.yaml",
        tiny_dict(
            "train.steps=4", "train.checkpoint_every=1", f"checkpoint.async_save={async_save}"
        ),
    )
    run = tmp_path / "run"
    checkpoints = run / "checkpoints"
    refused = refuse_writes_of(monkeypatch, 2, checkpoints=checkpoints)
    saves: list[int] = []
    save = checkpoint.save

    def counting_save(manager, step, *args, **kwargs):
        saves.append(step)
        save(manager, step, *args, **kwargs)

    monkeypatch.setattr(checkpoint, "save", counting_save)
    caplog.set_level(logging.WARNING)

    result = zoo_cli("run", str(recipe), "--workdir", str(run))

    assert_one_message(
        result,
        f"{checkpoints}: cannot write the checkpoint of step 2: No space left on device (ENOSPC).",
        "The earlier checkpoints are intact (the latest is step 1)",
        "--resume continues from it once there is space.",
    )
    # Asynchronous: step 2 fails in Orbax's threads and is reported at step 3's save, when
    # Orbax re-raises it; synchronous: raised by step 2's save itself.
    assert refused.threads and "MainThread" not in refused.threads
    assert saves == ([1, 2, 3] if async_save else [1, 2])
    assert sorted(p.name for p in checkpoints.iterdir()) == ["1"]  # no 2.orbax-checkpoint-tmp
    assert {"1": digest(checkpoints / "1")} == refused.complete  # never touched
    assert not (run / "metrics.json").exists()
    assert noise(caplog) == []

    monkeypatch.undo()  # there is space again
    leftover = checkpoints / f"3{TMP}"  # as a kill -9 during a save leaves it
    leftover.mkdir()
    (leftover / "part").write_bytes(b"x")
    resumed = zoo_cli("run", str(recipe), "--workdir", str(run), "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert (run / "metrics.json").is_file() and (run / "report.html").is_file()
    assert not leftover.exists()  # removed when the manager opened for writing
    assert sorted(p.name for p in checkpoints.iterdir()) == ["2", "3", "4"]  # checkpoint.keep 3


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (errno.EDQUOT, "Disk quota exceeded (EDQUOT). Free some space (the disk quota"),
        (errno.EROFS, "Read-only file system (EROFS). That filesystem is read-only"),
    ],
)
def test_other_refused_writes_name_their_reason(zoo_cli, tmp_path, monkeypatch, code, reason):
    recipe = write_recipe(tmp_path / "tiny.yaml", tiny_dict("train.steps=2"))
    refuse_writes_of(monkeypatch, 2, code)
    once = "once there is space" if code == errno.EDQUOT else "once that is fixed"
    assert_one_message(
        zoo_cli("run", str(recipe), "--workdir", str(tmp_path / "run")),
        "cannot write the checkpoint of step 2: " + reason,
        f"No earlier checkpoint is complete: run it again {once}.",
    )
    assert list((tmp_path / "run" / "checkpoints").iterdir()) == []


def test_a_refused_first_save_raised_by_manager_save_then_a_rerun(zoo_cli, tmp_path, monkeypatch):
    """An OSError raised by manager.save itself, as a refused mkdir of the step folder is (zoo
    has Orbax make it there, not in a thread); ZOO_DEBUG=1 adds the traceback."""
    recipe = write_recipe(tmp_path / "tiny.yaml", tiny_dict("train.steps=2"))
    run = tmp_path / "run"
    original = ocp.CheckpointManager.save

    def save(self, step, *args, **kwargs):
        (Path(self.directory) / f"{step}{TMP}").mkdir()  # what Orbax made before failing
        raise PermissionError(errno.EACCES, "Permission denied", str(self.directory))

    monkeypatch.setattr(ocp.CheckpointManager, "save", save)
    expected = (
        f"{run / 'checkpoints'}: cannot write the checkpoint of step 2: Permission denied "
        "(EACCES). Check the permissions"
    )
    assert_one_message(zoo_cli("run", str(recipe), "--workdir", str(run)), expected)
    assert list((run / "checkpoints").iterdir()) == []

    debug = zoo_cli("run", str(recipe), "--workdir", str(run), env={"ZOO_DEBUG": "1"})
    assert debug.exit_code == 1
    assert "Traceback" in debug.output and "PermissionError" in debug.output
    assert message_of(debug.output)[-1].startswith(f"Error: {expected}")

    monkeypatch.setattr(ocp.CheckpointManager, "save", original)
    assert zoo_cli("run", str(recipe), "--workdir", str(run)).exit_code == 0  # no --force


def test_an_error_that_is_no_refused_write_keeps_its_traceback(zoo_cli, tmp_path, monkeypatch):
    """A bug (here a TypeError from Orbax) is not reported as a full disk; its temporary folder
    is still removed."""
    recipe = write_recipe(tmp_path / "tiny.yaml", tiny_dict("train.steps=2"))
    run = tmp_path / "run"

    def save(self, step, *args, **kwargs):
        (Path(self.directory) / f"{step}{TMP}").mkdir()
        raise TypeError("unexpected leaf")

    monkeypatch.setattr(ocp.CheckpointManager, "save", save)
    result = zoo_cli("run", str(recipe), "--workdir", str(run))
    assert isinstance(result.exception, TypeError), result.output
    assert list((run / "checkpoints").iterdir()) == []


def record(name: str, pathname: str, message: str, error: BaseException | None = None):
    exc_info = (type(error), error, error.__traceback__) if error else None
    return logging.LogRecord(name, logging.ERROR, pathname, 1, message, None, exc_info)


ORBAX = os.path.join(os.path.dirname(ocp.__file__), "checkpoint_manager.py")
FULL = ValueError("RESOURCE_EXHAUSTED: No space left on device [os_error_code='28']")


def test_only_the_noise_about_a_refused_write_is_dropped(monkeypatch):
    quiet = checkpoint._QuietFailedSave()
    monkeypatch.setenv("ZOO_DEBUG", "")
    in_tmp = ValueError(f"RESOURCE_EXHAUSTED: Failed writing: \"/x/2{TMP}/d\" [os_error_code='28']")
    dropped = [
        record("absl", ORBAX, "Save Finalize thread (save_finalize) failed.", FULL),
        record("absl", ORBAX, f"_SignalingThread.run() raised an exception: {FULL}"),
        record("asyncio", "base_events.py", "Future exception was never retrieved", in_tmp),
    ]
    kept = [
        record("asyncio", "base_events.py", "Future exception was never retrieved", FULL),
        record("absl", ORBAX, "Save Finalize thread (save_finalize) failed.", TypeError("bug")),
        record("absl", __file__, "a plugin's own error", FULL),  # not Orbax's
        record("asyncio", "x.py", "Task exception was never retrieved", RuntimeError("other")),
        record("asyncio", "x.py", "Task was destroyed but it is pending!\ntask: <Task mine>"),
        record("root", __file__, "unrelated", FULL),
    ]
    assert [quiet.filter(r) for r in dropped] == [False] * len(dropped)
    assert [quiet.filter(r) for r in kept] == [True] * len(kept)
    monkeypatch.setenv("ZOO_DEBUG", "1")
    assert all(quiet.filter(r) for r in dropped)  # ZOO_DEBUG=1 shows everything


def test_the_errno_is_recovered_from_tensorstore_and_from_os_errors():
    assert checkpoint._write_failure(FULL).errno == errno.ENOSPC
    assert checkpoint._write_failure(OSError(errno.EROFS, "Read-only")).errno == errno.EROFS
    wrapped = RuntimeError("commit failed")
    wrapped.__cause__ = FULL
    assert checkpoint._write_failure(wrapped).errno == errno.ENOSPC
    no_errno = checkpoint._write_failure(ValueError("PERMISSION_DENIED: bucket"))
    assert no_errno is not None and no_errno.errno is None
    assert checkpoint._write_failure(ValueError("INVALID_ARGUMENT: shape")) is None
    assert checkpoint._write_failure(TypeError("unexpected leaf")) is None


def test_the_error_is_a_write_error_in_both_vocabularies():
    folder = Path("/r/checkpoints")
    error = checkpoint.CheckpointWriteError(folder, 2, OSError(errno.ENOSPC, "No space"), 1)
    assert isinstance(error, WriteError) and isinstance(error, OSError)
    assert error.exit_code == 1 and error.errno == errno.ENOSPC
    assert str(error).endswith(
        "(the latest is step 1); resume=True continues from it once there is space."
    )
    assert error.cli_message.endswith("; --resume continues from it once there is space.")
    unread = checkpoint._Unreadable()
    error = checkpoint.CheckpointWriteError(folder, 2, OSError(errno.EACCES, "Denied"), unread)
    assert error.cli_message.endswith(
        "or write somewhere else. The earlier checkpoints were left as they are; "
        "--resume continues from the latest once that is fixed."
    )
