"""A broken third-party plugin never breaks `zoo --help`, `zoo --version` or `zoo plugins`, and
every command that uses plugins stops with one message: the plugin, its distribution and
version, what is wrong, and the way around it (ZOO_LOAD_PLUGINS naming the plugins that work).

Each case is a throwaway installed distribution (``fake_distribution`` in conftest.py):
``zoo_fake`` 9.9, whose entry point ``fake`` is the module below.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from zoo import hookimpl, plugins
from zoo.cli import cli
from zoo.errors import PluginError
from zoo.registry import get_registry

BROKEN = {
    "fails_to_import": (
        "import a_module_that_does_not_exist\n",
        "failed to import: ModuleNotFoundError: No module named 'a_module_that_does_not_exist'",
    ),
    "misspelled_hook": (
        """
        from zoo.plugin import hookimpl

        @hookimpl
        def register_metric(register):
            pass
        """,
        "implements unknown hook 'register_metric'. Did you mean \"register_metrics\"?",
    ),
    "wrong_signature": (
        """
        from zoo.plugin import hookimpl

        @hookimpl
        def register_metrics(register, extra):
            pass
        """,
        "does not fit the zoo hook contract: Plugin 'fake' for hook 'register_metrics'",
    ),
    "metric_without_direction": (
        """
        from zoo.plugin import hookimpl

        @hookimpl
        def register_metrics(register):
            register("vague", lambda: lambda p, t: p.sum((1, 2, 3)), differentiable=True)
        """,
        "registers metric 'vague' without higher_is_better=True/False",
    ),
    "duplicate_name": (
        """
        from zoo.plugin import hookimpl

        @hookimpl
        def register_metrics(register):
            register("psnr", lambda: None, higher_is_better=True, differentiable=True)
        """,
        "registers metric 'psnr' too: metric name 'psnr' is registered twice, first by plugin "
        "'metrics' (distribution zoo-sr ",
    ),
    "hook_that_raises": (
        """
        from zoo.plugin import hookimpl

        @hookimpl
        def register_upscalers(register):
            from zoo_fake_heavy_part import factory  # a dependency missing at call time
        """,
        "failed in its register_upscalers hook: ModuleNotFoundError: No module named "
        "'zoo_fake_heavy_part'",
    ),
}


@pytest.fixture
def broken(request, fake_distribution) -> str:
    """Install the case's broken plugin; the text its problem must contain."""
    source, problem = BROKEN[request.param]
    fake_distribution(source)
    return problem


def with_broken(test):
    return pytest.mark.parametrize("broken", BROKEN, ids=list(BROKEN), indirect=True)(test)


def healthy() -> str:
    """The advice every message gives: ZOO_LOAD_PLUGINS naming each installed plugin but fake."""
    names = [name for name in plugins.entry_point_names() if name != "fake"]
    assert {"autoencoder", "datasets", "degradations", "metrics", "upscalers"} <= set(names)
    return f"ZOO_LOAD_PLUGINS={','.join(names)}"


@with_broken
def test_help_and_version_still_work(broken):
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0, result.output
    assert "run" in result.output and "plugins" in result.output
    assert "Traceback" not in result.output
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and "zoo, version" in result.output


@with_broken
def test_plugins_lists_it_with_its_error(broken):
    result = CliRunner().invoke(cli, ["plugins"])
    assert result.exit_code == 0, result.output
    assert "fake  [zoo_fake 9.9]" in result.output
    assert f"error: {broken}" in result.output
    assert healthy() in result.output  # the way around, on stderr
    assert "Traceback" not in result.output


@with_broken
def test_plugins_json_carries_the_error(broken):
    result = CliRunner().invoke(cli, ["plugins", "--all", "--json"])
    assert result.exit_code == 0, result.output
    listing = json.loads(result.stdout)
    fake = next(item for item in listing if item["name"] == "fake")
    assert (fake["distribution"], fake["version"], fake["builtin"]) == ("zoo_fake", "9.9", False)
    assert broken in fake["error"]
    builtins = [item for item in listing if item["builtin"]]
    assert builtins and all(item["error"] is None for item in builtins)
    assert all(set(item) == set(fake) for item in listing)


def command_lines(tmp_path, trained_tiny) -> dict[str, list[str]]:
    image = tmp_path / "photo.png"
    Image.fromarray(np.zeros((12, 12, 3), np.uint8)).save(image)
    return {
        "run": ["run", "smoke", "--workdir", str(tmp_path / "run")],
        "eval": ["eval", "--data", "embedded", "--split", "holdout", "--scale", "2"],
        "upscale": ["upscale", "--checkpoint", str(trained_tiny), str(image), "-o", "out"],
        "recipes validate": ["recipes", "validate", "smoke", "ae_x2"],
    }


@with_broken
@pytest.mark.parametrize("command", ["run", "eval", "upscale", "recipes validate"])
def test_commands_that_use_plugins_stop_with_one_message(
    broken, command, tmp_path, trained_tiny, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, command_lines(tmp_path, trained_tiny)[command])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.output
    first, advice = result.output.strip().splitlines()
    assert first.startswith("Error: plugin 'fake' (distribution zoo_fake 9.9) "), first
    assert broken in first
    assert "Reinstall, upgrade or uninstall zoo_fake" in advice
    assert healthy() in advice
    assert not (tmp_path / "run").exists() and not (tmp_path / "out").exists()


@with_broken
def test_the_advice_works(broken, monkeypatch):
    with pytest.raises(PluginError):
        get_registry()
    selection = healthy().split("=", 1)[1]
    monkeypatch.setenv(plugins.ENV_SELECT, selection)
    plugins.reset()
    assert "fake" not in {name for name, _ in plugins.get_plugin_manager().list_name_plugin()}
    assert get_registry().get("metrics", "psnr").plugin == "metrics"


def test_two_broken_plugins_are_one_message(fake_distribution, register_plugin):
    fake_distribution(BROKEN["fails_to_import"][0])

    class Vague:
        @hookimpl
        def register_metrics(self, register):
            register("vague", lambda: None, differentiable=True)

    register_plugin(Vague(), name="vague")
    with pytest.raises(PluginError) as error:
        get_registry()
    lines = str(error.value).splitlines()
    assert len(lines) == 3, lines
    assert lines[0].startswith("plugin 'fake' (distribution zoo_fake 9.9) failed to import")
    assert lines[1].startswith("plugin 'vague' (registered at run time) registers metric")
    assert lines[2].startswith("Reinstall, upgrade or uninstall zoo_fake, or leave them out")


def test_a_healthy_setup_has_no_error_field_set():
    listing = json.loads(CliRunner().invoke(cli, ["plugins", "--all", "--json"]).stdout)
    assert listing and all(item["error"] is None for item in listing)


def test_help_names_a_plugin_that_failed_to_load(fake_distribution):
    fake_distribution(BROKEN["fails_to_import"][0])
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    assert "Broken plugins: fake" in result.output and "zoo plugins" in result.output
