"""The plugin machinery: entry points, temporary plugins, errors that name the culprit."""

from __future__ import annotations

import inspect
import json
import sys

import click
import pytest
from click.testing import CliRunner

from zoo import hookimpl, hookspecs, plugins
from zoo.cli import cli
from zoo.errors import PluginError
from zoo.registry import Registry, get_registry

BUILTINS = {
    "autoencoder",
    "datasets",
    "degradations",
    "loggers",
    "metrics",
    "models",
    "upscalers",
}


class Sharpen:
    """A temporary third-party plugin: one upscaler, one metric and one command."""

    @hookimpl
    def register_upscalers(self, register):
        def factory(amount: float = 0.5):
            return lambda lr, scale: lr

        register("sharp_temp", factory, description="test upscaler")

    @hookimpl
    def register_metrics(self, register):
        register(
            "zero_temp",
            lambda: lambda p, t: p.sum((1, 2, 3)) * 0,
            higher_is_better=False,
            differentiable=True,
        )

    @hookimpl
    def register_commands(self, register):
        @click.command()
        def hello():
            """Say hello."""
            click.echo("hello from a plugin")

        register("hello", hello)


def test_every_hookspec_has_a_docstring_stating_its_contract():
    for name in hookspecs.hook_names():
        doc = inspect.getdoc(getattr(hookspecs, name))
        assert doc and "register(" in doc, name
        assert list(inspect.signature(getattr(hookspecs, name)).parameters) == ["register"]


def test_the_contract_has_one_hook_per_kind():
    assert hookspecs.hook_names() == [
        "register_encoders",
        "register_decoders",
        "register_degradations",
        "register_metrics",
        "register_upscalers",
        "register_datasets",
        "register_models",
        "register_loggers",
        "register_commands",
    ]


def test_builtins_load_through_entry_points_and_implement_only_declared_hooks(plugin_manager):
    names = {name for name, _ in plugin_manager.list_name_plugin()}
    assert names >= BUILTINS
    declared = set(hookspecs.hook_names())
    for name in BUILTINS:
        module = plugin_manager.get_plugin(name)
        implemented = {
            attr
            for attr in dir(module)
            if attr.startswith("register_") and hasattr(getattr(module, attr), "zoo_impl")
        }
        assert implemented, name
        assert implemented <= declared, (name, implemented - declared)
        assert plugins.origin(name).distribution == "zoo-sr"


def test_engine_never_imports_a_builtin_plugin():
    import pathlib

    engine = pathlib.Path(plugins.__file__).parent
    for source in engine.glob("*.py"):
        text = source.read_text()
        for builtin in (
            "zoo_autoencoder",
            "zoo_degradations",
            "zoo_metrics",
            "zoo_upscalers",
            "zoo_datasets",
            "zoo_models",
        ):
            assert f"import {builtin}" not in text and f"from {builtin}" not in text, source


def test_temporary_plugin_registers_and_is_removed(register_plugin):
    register_plugin(Sharpen(), name="sharpen")
    registry = get_registry()
    assert registry.get("upscalers", "sharp_temp").plugin == "sharpen"
    assert registry.get("metrics", "zero_temp").meta["higher_is_better"] is False
    result = CliRunner().invoke(cli, ["hello"])
    assert result.exit_code == 0 and "hello from a plugin" in result.output


def test_temporary_plugin_is_gone_after_the_test():
    assert "sharp_temp" not in get_registry().names("upscalers")


def test_plugins_listing_json_is_stable(register_plugin):
    register_plugin(Sharpen(), name="sharpen")
    result = CliRunner().invoke(cli, ["plugins", "--json"])
    assert result.exit_code == 0, result.output
    listing = json.loads(result.output)
    assert [item["name"] for item in listing] == ["sharpen"]  # built-ins hidden without --all
    item = listing[0]
    assert set(item) == {
        "name",
        "distribution",
        "version",
        "builtin",
        "hooks",
        "registers",
        "error",
    }
    assert item["error"] is None
    assert item["hooks"] == ["register_commands", "register_metrics", "register_upscalers"]
    assert item["registers"] == {
        "upscalers": ["sharp_temp"],
        "metrics": ["zero_temp"],
        "commands": ["hello"],
    }
    everything = json.loads(CliRunner().invoke(cli, ["plugins", "--all", "--json"]).output)
    metrics = next(i for i in everything if i["name"] == "metrics")
    assert metrics["builtin"] is True and metrics["distribution"] == "zoo-sr"
    assert {"mse", "psnr", "ssim", "hfenn"} <= set(metrics["registers"]["metrics"])


def test_plugins_listing_text(register_plugin):
    register_plugin(Sharpen(), name="sharpen")
    output = CliRunner().invoke(cli, ["plugins"]).output
    assert "sharpen" in output and "upscalers: sharp_temp" in output


def test_duplicate_name_names_both_plugins(register_plugin):
    class Clash:
        @hookimpl
        def register_metrics(self, register):
            register("psnr", lambda: None, higher_is_better=True, differentiable=True)

    register_plugin(Clash(), name="clash")
    with pytest.raises(PluginError) as error:
        get_registry()
    message = str(error.value)
    assert "'psnr' is registered twice" in message
    assert "'metrics'" in message and "'clash'" in message and "zoo-sr" in message


def test_misspelled_hook_is_an_error_naming_the_plugin(register_plugin, plugin_manager):
    class Typo:
        @hookimpl
        def register_metric(self, register):
            pass

    register_plugin(Typo(), name="typo")
    with pytest.raises(
        PluginError,
        match=r"'typo'.*unknown hook 'register_metric'.*"
        r'Did you mean "register_metrics"',
    ):
        plugins.check_hooks(plugin_manager)


def test_wrong_hook_signature_is_an_error(register_plugin):
    class Wrong:
        @hookimpl
        def register_metrics(self, register, extra):
            pass

    with pytest.raises(PluginError, match=r"'wrong'.*does not fit the zoo hook contract"):
        register_plugin(Wrong(), name="wrong")


def test_metric_without_declared_direction_is_rejected(register_plugin):
    class Vague:
        @hookimpl
        def register_metrics(self, register):
            register("vague", lambda: None, differentiable=True)

    register_plugin(Vague(), name="vague")
    with pytest.raises(PluginError, match=r"'vague'.*without higher_is_better"):
        get_registry()


def test_unknown_name_lists_valid_names_and_suggests():
    with pytest.raises(PluginError) as error:
        get_registry().get("upscalers", "bicubc")
    assert 'Did you mean "bicubic"?' in str(error.value)
    assert "lanczos" in str(error.value) and "nearest" in str(error.value)


def test_third_party_entry_point_is_discovered(fake_distribution):
    fake_distribution("""
        from zoo import hookimpl

        @hookimpl
        def register_upscalers(register):
            register("fake_up", lambda: (lambda lr, scale: lr))
    """)
    assert get_registry().get("upscalers", "fake_up").plugin == "fake"
    assert plugins.origin("fake").distribution == "zoo_fake"
    assert plugins.origin("fake").version == "9.9"


def test_plugin_that_fails_to_import_is_named(fake_distribution):
    fake_distribution("import a_module_that_does_not_exist\n")
    plugins.get_plugin_manager()  # loading goes on without it; what uses plugins stops
    with pytest.raises(PluginError) as error:
        get_registry()
    message = str(error.value)
    assert "plugin 'fake'" in message and "zoo_fake 9.9" in message
    assert "ModuleNotFoundError" in message and "ZOO_LOAD_PLUGINS" in message


def test_cli_reports_a_broken_plugin_without_traceback(fake_distribution):
    fake_distribution("raise RuntimeError('boom')\n")
    listed = CliRunner().invoke(cli, ["plugins"])  # lists it, with its error
    assert listed.exit_code == 0 and "fake  [zoo_fake 9.9]" in listed.output
    assert "error: failed to import: RuntimeError: boom" in listed.output
    result = CliRunner().invoke(cli, ["recipes", "validate", "smoke"])
    assert result.exit_code == 2
    assert "plugin 'fake'" in result.output and "boom" in result.output
    assert "Traceback" not in result.output


def test_zoo_load_plugins_narrows_and_empty_loads_none(monkeypatch):
    monkeypatch.setenv(plugins.ENV_SELECT, "metrics,upscalers")
    plugins.reset()
    try:
        loaded = {name for name, _ in plugins.get_plugin_manager().list_name_plugin()}
        assert loaded == {"metrics", "upscalers"}
        monkeypatch.setenv(plugins.ENV_SELECT, "")
        plugins.reset()
        assert plugins.get_plugin_manager().list_name_plugin() == []
        assert Registry(plugins.get_plugin_manager()).names("metrics") == []
    finally:
        monkeypatch.delenv(plugins.ENV_SELECT)
        plugins.reset()


def test_zoo_load_plugins_with_an_unknown_name(monkeypatch):
    monkeypatch.setenv(plugins.ENV_SELECT, "metrix")
    plugins.reset()
    try:
        with pytest.raises(PluginError, match=r'names plugin .metrix.*Did you mean "metrics"'):
            plugins.get_plugin_manager()
    finally:
        monkeypatch.delenv(plugins.ENV_SELECT)
        plugins.reset()


def test_version_and_module_entry_point():
    import subprocess

    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and "zoo, version" in result.output
    module = subprocess.run(
        [sys.executable, "-m", "zoo", "--version"], capture_output=True, text=True, check=True
    )
    assert module.stdout.startswith("zoo, version")
