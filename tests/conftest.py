"""Shared fixtures: CPU-only JAX, a compile cache, temporary plugins, the shared data folder,
the example plugin and one tiny trained run. The tiny recipe itself is defined once, in
``zoo.testing`` (``tiny.py`` adds helpers to vary it).

The plugin fixtures are zoo.testing's, which pytest loads by itself where zoo is installed
(its ``pytest11`` entry point); ``plugin_manager`` and ``register_plugin`` are their names here.
"""

from __future__ import annotations

import importlib
import os
import sys
import textwrap
import tomllib
from pathlib import Path

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=2")

import jax
import pytest

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
EXAMPLE_PLUGIN = REPO / "examples" / "zoo-example-plugin"
if str(TESTS) not in sys.path:  # `from tiny import ...` under any rootdir and import mode
    sys.path.insert(0, str(TESTS))
SHARED_DATA = Path(os.environ.get("ZOO_SHARED_DATA", REPO.parent / "shared" / "data"))

jax.config.update(
    "jax_compilation_cache_dir", os.environ.get("ZOO_JAX_CACHE", str(REPO / ".jax_cache"))
)
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)

# zoo.testing's fixtures, also where pytest's plugin autoloading is off (with autoloading on,
# its entry point has registered it under this very name, and this line does nothing).
pytest_plugins = ["zoo.testing"]


@pytest.fixture
def shared_data() -> Path:
    """../shared/data (Set5, Set14, Sun80), or a skip that says why."""
    if not (SHARED_DATA / "Set5" / "HR").is_dir():
        pytest.skip(f"needs the benchmark images at {SHARED_DATA} (../shared/data beside the repo)")
    return SHARED_DATA


@pytest.fixture
def plugin_manager(zoo_plugin_manager):
    """zoo.testing's ``zoo_plugin_manager``: temporary plugins registered through it are
    removed after the test."""
    return zoo_plugin_manager


@pytest.fixture
def register_plugin(register_zoo_plugin):
    """zoo.testing's ``register_zoo_plugin``: ``register_plugin(obj, name="tmp")`` for one test."""
    return register_zoo_plugin


@pytest.fixture
def fake_distribution(tmp_path, monkeypatch):
    """Install a throwaway distribution ``zoo_fake`` 9.9, whose `zoo` entry point ``fake`` is
    the module given as source, onto sys.path; the plugins are loaded afresh with it, and again
    without it after the test."""
    from zoo import plugins

    def install(module_source: str, name: str = "zoo_fake") -> None:
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(module_source))
        info = tmp_path / f"{name.replace('_', '-')}-9.9.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 9.9\n")
        (info / "entry_points.txt").write_text(f"[zoo]\nfake = {name}\n")
        monkeypatch.syspath_prepend(str(tmp_path))
        plugins.reset()

    yield install
    sys.modules.pop("zoo_fake", None)
    monkeypatch.undo()
    plugins.reset()


@pytest.fixture
def example_plugin(plugin_manager, register_plugin, monkeypatch):
    """examples/zoo-example-plugin registered for one test, as its entry point names it.

    The plugin name and module come from the example's pyproject.toml (``example =
    "zoo_example"``); its folder is on sys.path for the test only. Where the example is
    installed, its entry point has loaded it already and that registration is used as it is.
    """
    pyproject = tomllib.loads((EXAMPLE_PLUGIN / "pyproject.toml").read_text(encoding="utf-8"))
    ((name, module_name),) = pyproject["project"]["entry-points"]["zoo"].items()
    installed = plugin_manager.get_plugin(name)
    if installed is not None:
        yield installed
        return
    monkeypatch.syspath_prepend(str(EXAMPLE_PLUGIN))
    yield register_plugin(importlib.import_module(module_name), name=name)
    for loaded in [m for m in sys.modules if m == module_name or m.startswith(f"{module_name}.")]:
        del sys.modules[loaded]


@pytest.fixture(scope="session")
def trained_tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny recipe (tests/tiny.py) trained for its one step, once per session; read only."""
    from tiny import train_tiny

    return train_tiny(tmp_path_factory.mktemp("trained_tiny") / "tiny")
