"""Helpers for the hostile-input tests: run the `zoo` command in-process and check that a failure
is a short message with its documented exit code and no traceback (docs/reliability.md)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from click.testing import CliRunner, Result

from zoo.cli import cli


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    """``zoo ARGS...`` through click's CliRunner; stdout and stderr together in ``output``."""
    return CliRunner().invoke(cli, list(args), env={"ZOO_DEBUG": "", **(env or {})})


def assert_refused(result: Result, code: int, *fragments: str) -> str:
    """The command failed with ``code`` in one line, naming every fragment."""
    output = result.output
    assert result.exit_code == code, output
    assert "Traceback" not in output, output
    assert result.exception is None or isinstance(result.exception, SystemExit), output
    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    assert lines[0].startswith("Error: "), output
    for fragment in fragments:
        assert fragment in output, f"{fragment!r} not in {output!r}"
    return output


@pytest.fixture
def zoo_cli() -> Callable[..., Result]:
    return invoke


@pytest.fixture
def refused() -> Callable[..., str]:
    return assert_refused
