"""User-facing errors: each names the file, field or plugin at fault and says what to do."""

from __future__ import annotations

import difflib
import errno
import os
from collections.abc import Iterable
from pathlib import Path


class ZooError(Exception):
    """An error the CLI prints as one or two lines and exits with code 2, no traceback.

    ``str(error)`` speaks Python (``resume=True``) for callers of the API; ``cli`` is the same
    advice in command-line terms (``--resume``), which the ``zoo`` command prints instead.
    """

    exit_code = 2

    def __init__(self, *args: object, cli: str | None = None) -> None:
        super().__init__(*args)
        self.cli = cli

    @property
    def cli_message(self) -> str:
        return self.cli if self.cli is not None else str(self)


class PluginError(ZooError):
    """A plugin failed to load, broke the contract, or a name is unknown or taken twice."""


class RecipeError(ZooError):
    """A recipe file or an override is invalid."""


class DataError(ZooError):
    """Input data (an image, a folder, a cache) is missing or unusable."""


class WriteError(ZooError, OSError):
    """A file could not be written: a full disk, no permission, a read-only filesystem.

    Exit code 1, as for any failure of the system rather than of the input. Also an ``OSError``
    (with the errno and the path), so code that handles ``OSError`` still does.
    """

    exit_code = 1

    def __init__(self, path: str | os.PathLike[str], cause: OSError) -> None:
        super().__init__(cause.errno, cause.strerror or str(cause), os.fspath(path))
        self.message = f"{Path(path)}: cannot write it: {describe_os_error(cause)}"

    def __str__(self) -> str:
        return self.message


# What to do about the OSErrors a user can fix; the others are told by their reason alone.
_OS_ERROR_HINTS = {
    errno.ENOSPC: "Free some space, or write somewhere else.",
    errno.EDQUOT: "Free some space (the disk quota is used up), or write somewhere else.",
    errno.EACCES: "Check the permissions of the file and its folder, or write somewhere else.",
    errno.EPERM: "Check the permissions of the file and its folder, or write somewhere else.",
    errno.EROFS: "That filesystem is read-only: write somewhere else.",
    errno.ENOENT: "Check the path.",
    errno.EEXIST: "A file of that name is in the way of a folder: check the path.",
    errno.ENOTDIR: "Part of the path is a file, not a folder: check the path.",
    errno.EISDIR: "That is a folder: give a file name.",
}


def describe_os_error(exc: OSError) -> str:
    """'No space left on device (ENOSPC). Free some space, or write somewhere else.'"""
    reason = exc.strerror or (os.strerror(exc.errno) if exc.errno else str(exc))
    name = errno.errorcode.get(exc.errno or 0)
    hint = _OS_ERROR_HINTS.get(exc.errno or 0, "")
    return f"{reason}{f' ({name})' if name else ''}.{f' {hint}' if hint else ''}"


def closest(name: str, choices: Iterable[str]) -> str | None:
    """The choice most like ``name``, or None when nothing is close."""
    matches = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.5)
    return matches[0] if matches else None


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """' Did you mean "x"?' or an empty string."""
    match = closest(name, choices)
    return f' Did you mean "{match}"?' if match else ""
