"""`zoo --help` and `zoo --version` import no JAX (nor flax, optax, orbax or TFDS): listing the
commands runs only the plugins' `register_commands` hooks, the built-in plugins import their
heavy modules inside their hooks, and zoo.plugin resolves its heavy names on first use.

Each check runs in a fresh interpreter and looks at ``sys.modules``; no wall times here (the
measured times are in the commit that made startup lazy).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys

import pytest

HEAVY = ("jax", "jaxlib", "flax", "optax", "orbax", "tensorflow", "tensorflow_datasets")

PROGRAM = """
import json, sys
{setup}
heavy = sorted({{name.split(".")[0] for name in sys.modules}} & set({heavy!r}))
print(json.dumps({{"heavy": heavy}}))
"""

CLI = """
from zoo.cli import cli
try:
    cli({args!r}, prog_name="zoo", standalone_mode=False)
except SystemExit:
    pass
"""


def builtin_plugins() -> str:
    """The built-in entry points only, so that another installed plugin cannot spoil the test."""
    names = [
        ep.name
        for ep in importlib.metadata.entry_points(group="zoo")
        if ep.dist is not None and ep.dist.name == "zoo-sr"
    ]
    assert names, "zoo's own entry points are not installed"
    return ",".join(sorted(names))


def heavy_imports(setup: str) -> list[str]:
    env = {**os.environ, "ZOO_LOAD_PLUGINS": builtin_plugins()}
    result = subprocess.run(
        [sys.executable, "-c", PROGRAM.format(setup=setup, heavy=HEAVY)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])["heavy"]


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["recipes", "--help"]])
def test_help_and_version_import_no_jax(args):
    assert heavy_imports(CLI.format(args=args)) == []


def test_the_help_lists_the_commands_in_that_same_process():
    setup = CLI.format(args=["--help"]) + "\nimport zoo.plugins as p\nassert p._manager is not None"
    assert heavy_imports(setup) == []


@pytest.mark.parametrize("module", ["zoo", "zoo.plugin", "zoo.testing", "zoo.registry"])
def test_light_modules_import_no_jax(module):
    assert heavy_imports(f"import {module}") == []


def test_zoo_plugin_imports_jax_when_a_heavy_name_is_used():
    assert "jax" in heavy_imports("from zoo.plugin import imresize_scale")


def test_loading_a_shipped_model_imports_no_orbax():
    # zoo.checkpoint imports Orbax on first use: only run directories need it (a tenth of load)
    assert "orbax" not in heavy_imports("import zoo\nzoo.load('ae_x2')")


def test_opening_a_run_directory_does_import_orbax(tmp_path):
    setup = (
        "from pathlib import Path\nfrom zoo import checkpoint\n"
        f"checkpoint.open_manager(Path({str(tmp_path)!r}), read_only=True)"
    )
    assert "orbax" in heavy_imports(setup)


def test_the_temporary_step_suffix_is_orbaxs_own():
    import orbax.checkpoint as ocp

    from zoo.checkpoint.lazy_orbax import TMP_DIR_SUFFIX

    assert TMP_DIR_SUFFIX == ocp.path.step.TMP_DIR_SUFFIX
