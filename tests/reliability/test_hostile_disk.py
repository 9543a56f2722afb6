"""A full disk, no permission, a read-only filesystem: an atomic write leaves no temporary and the
old file intact, and raises a WriteError naming the path and the OS reason; the CLI prints it
(or any OSError about a file) as one line with exit code 1, no traceback unless ZOO_DEBUG=1."""

from __future__ import annotations

import errno
import os

import pytest
from tiny import write_recipe

from zoo import atomic
from zoo.errors import WriteError, ZooError


def refusing(code: int):
    def fail(*args, **kwargs):
        raise OSError(code, os.strerror(code))

    return fail


@pytest.mark.parametrize(
    ("step", "code", "reason"),
    [
        ("fsync", errno.ENOSPC, "No space left on device (ENOSPC). Free some space"),
        ("open", errno.EACCES, "Permission denied (EACCES). Check the permissions"),
        ("replace", errno.EROFS, "Read-only file system (EROFS). That filesystem is read-only"),
    ],
)
def test_a_failed_write_names_the_path_and_leaves_nothing_behind(
    tmp_path, monkeypatch, step, code, reason
):
    target = tmp_path / "metrics.json"
    target.write_text("old\n")
    if step == "open":
        monkeypatch.setattr(atomic, "open", refusing(code), raising=False)
    else:
        monkeypatch.setattr(atomic.os, step, refusing(code))
    with pytest.raises(WriteError) as caught:
        atomic.write_json(target, {"psnr": 30.0})
    error = caught.value
    assert str(error).startswith(f"{target}: cannot write it: {reason}")
    assert isinstance(error, ZooError) and isinstance(error, OSError)
    assert error.errno == code and error.filename == str(target) and error.exit_code == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"]  # no temporary
    assert target.read_text() == "old\n"


def test_zoo_run_on_a_full_disk_is_one_line_and_exit_code_1(
    zoo_cli, refused, tmp_path, monkeypatch
):
    recipe = write_recipe(tmp_path / "tiny.yaml")
    run = tmp_path / "run"
    monkeypatch.setattr(atomic.os, "fsync", refusing(errno.ENOSPC))
    refused(
        zoo_cli("run", str(recipe), "--workdir", str(run)),
        1,
        f"{run / 'recipe.json'}: cannot write it: No space left on device (ENOSPC).",
    )
    assert list(run.iterdir()) == []  # recipe.json's temporary is gone


def test_an_os_error_about_a_path_is_one_line_and_exit_code_1(zoo_cli, refused, tmp_path):
    recipe = write_recipe(tmp_path / "tiny.yaml")
    (tmp_path / "taken").write_text("a file, where the run's parent folder should be")
    refused(
        zoo_cli("run", str(recipe), "--workdir", str(tmp_path / "taken" / "run")),
        1,
        f"{tmp_path / 'taken'}: File exists (EEXIST).",
    )


def test_zoo_debug_shows_the_traceback_of_an_os_error(zoo_cli, tmp_path, monkeypatch):
    recipe = write_recipe(tmp_path / "tiny.yaml")
    monkeypatch.setattr(atomic.os, "fsync", refusing(errno.ENOSPC))
    result = zoo_cli("run", str(recipe), "--workdir", str(tmp_path / "run"), env={"ZOO_DEBUG": "1"})
    assert result.exit_code == 1, result.output
    assert "Traceback (most recent call last)" in result.output
    assert "OSError: [Errno 28]" in result.output  # the cause, chained
    assert result.output.strip().splitlines()[-1].startswith("Error: ")
