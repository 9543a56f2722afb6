"""Shared fixtures: CPU-only JAX, a compile cache, temporary plugins, the shared data folder
and one tiny trained run. The tiny recipe itself is defined once, in ``tiny.py``."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=2")

import jax
import pytest

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
if str(TESTS) not in sys.path:  # `from tiny import ...` under any rootdir and import mode
    sys.path.insert(0, str(TESTS))
SHARED_DATA = Path(os.environ.get("ZOO_SHARED_DATA", REPO.parent / "shared" / "data"))

jax.config.update(
    "jax_compilation_cache_dir", os.environ.get("ZOO_JAX_CACHE", str(REPO / ".jax_cache"))
)
jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)


@pytest.fixture
def shared_data() -> Path:
    """../shared/data (Set5, Set14, Sun80), or a skip that says why."""
    if not (SHARED_DATA / "Set5" / "HR").is_dir():
        pytest.skip(f"needs the benchmark images at {SHARED_DATA} (../shared/data beside the repo)")
    return SHARED_DATA


@pytest.fixture
def plugin_manager():
    """The process plugin manager; temporary plugins registered through it are removed after."""
    from zoo import plugins

    manager = plugins.get_plugin_manager()
    before = set(manager.get_plugins())
    yield manager
    for plugin in set(manager.get_plugins()) - before:
        manager.unregister(plugin)


@pytest.fixture
def register_plugin(plugin_manager):
    """Register a temporary plugin object for one test: ``register_plugin(obj, name="tmp")``."""
    from zoo import plugins

    def register(plugin: object, name: str = "temporary") -> object:
        plugins.register(plugin_manager, plugin, name)
        return plugin

    return register


@pytest.fixture(scope="session")
def trained_tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny recipe (tests/tiny.py) trained for its one step, once per session; read only."""
    from tiny import train_tiny

    return train_tiny(tmp_path_factory.mktemp("trained_tiny") / "tiny")
