"""User-facing errors: each names the file, field or plugin at fault and says what to do."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class ZooError(Exception):
    """An error the CLI prints as one or two lines and exits with code 2, no traceback."""

    exit_code = 2


class PluginError(ZooError):
    """A plugin failed to load, broke the contract, or a name is unknown or taken twice."""


class RecipeError(ZooError):
    """A recipe file or an override is invalid."""


class DataError(ZooError):
    """Input data (an image, a folder, a cache) is missing or unusable."""


def closest(name: str, choices: Iterable[str]) -> str | None:
    """The choice most like ``name``, or None when nothing is close."""
    matches = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.5)
    return matches[0] if matches else None


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """' Did you mean "x"?' or an empty string."""
    match = closest(name, choices)
    return f' Did you mean "{match}"?' if match else ""
