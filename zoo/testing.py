"""Fixtures and helpers for testing zoo plugins, shipped with zoo as a pytest plugin.

pytest loads this module by itself wherever zoo is installed (the ``pytest11`` entry point
``zoo.testing`` in zoo's pyproject.toml), so a plugin's tests use the fixtures with no setup.
Where plugin autoloading is off (``PYTEST_DISABLE_PLUGIN_AUTOLOAD=1``), write
``pytest_plugins = ["zoo.testing"]`` in the top-level ``conftest.py``. Importing the module costs
no JAX: pytest imports it in every session of an environment where zoo is installed.

Fixtures:

- ``zoo_plugin_manager``: the process plugin manager; plugins registered through it during the
  test are unregistered after it.
- ``register_zoo_plugin``: ``register_zoo_plugin(plugin, name="temporary")`` registers a plugin
  object (a module, or an object with ``@hookimpl`` methods) for one test and returns it; a
  ``PluginError`` says how it breaks the hook contract. A plugin already loaded under that
  name, as the package under test is by its entry point once installed, is used as it is.

Helpers:

- ``build(kind, name, options, **engine_arguments)``: a registered thing built as zoo builds
  it, options checked (``build("metrics", "charbonnier", {"epsilon": 0.01})``).
- ``tiny_recipe(*overrides)``: a recipe that trains in seconds on a CPU, with ``field=value``
  overrides as on the ``zoo run`` command line (``"loss={charbonnier: 1.0}"``), its names and
  options checked against the plugins registered now; ``tiny_recipe_dict()`` is the same recipe
  as a plain dictionary, unchecked, to change or write out.
- ``train_tiny(workdir, *overrides)``: train and evaluate ``tiny_recipe(*overrides)`` into
  ``workdir``; the ``RunResult`` (``steps``, ``evaluation.results[system][metric]``, ...).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import pytest

if TYPE_CHECKING:
    import pluggy

    from zoo.recipe import Recipe
    from zoo.train import RunResult

Plugin = TypeVar("Plugin")

# One optimizer step of an 8-wide, one-block resnet encoder and a pixel-shuffle decoder on
# 16-pixel patches of the photographs inside scikit-image (no download), scored by PSNR on one
# 32-pixel crop against bicubic. zoo's own tests train this recipe too (tests/tiny.py).
_TINY: dict[str, Any] = {
    "name": "tiny",
    "scale": 2,
    "data": {
        "train": {"name": "embedded", "split": "train"},
        "eval": {"name": "embedded", "split": "holdout"},
        "patch": 16,
        "batch": 2,
        "eval_images": 1,
        "eval_crop": 32,
    },
    "degradation": "bicubic",
    "model": {
        "encoder": {"name": "resnet", "width": 8, "blocks": 1},
        "decoder": "pixelshuffle",
        "input": "lr",
        "residual": True,
    },
    "loss": {"mse": 1.0},
    "optimizer": {"name": "adam", "learning_rate": 1e-3},
    "train": {"steps": 1},
    "eval": {"metrics": ["psnr"], "convention": "rgb", "upscalers": ["bicubic"]},
}


class RegisterPlugin(Protocol):
    """The type of the ``register_zoo_plugin`` fixture."""

    def __call__(self, plugin: Plugin, name: str = "temporary") -> Plugin: ...


@pytest.fixture
def zoo_plugin_manager() -> Iterator[pluggy.PluginManager]:
    """The process plugin manager; plugins registered through it are removed after the test."""
    from zoo import plugins

    manager = plugins.get_plugin_manager()
    before = list(manager.get_plugins())
    yield manager
    for plugin in list(manager.get_plugins()):
        if not any(plugin is old for old in before):
            manager.unregister(plugin)


@pytest.fixture
def register_zoo_plugin() -> Iterator[RegisterPlugin]:
    """Register a plugin object for one test: ``register_zoo_plugin(plugin, name="tmp")``."""
    from zoo import plugins

    registered: list[tuple[pluggy.PluginManager, object]] = []

    def register(plugin: Plugin, name: str = "temporary") -> Plugin:
        manager = plugins.get_plugin_manager()  # now: the plugins may have been reloaded
        if manager.get_plugin(name) is plugin:
            return plugin  # loaded already (by its entry point): kept as it is, after the test too
        plugins.register(manager, plugin, name)
        registered.append((manager, plugin))
        return plugin

    yield register
    for manager, plugin in reversed(registered):
        if manager.is_registered(plugin):
            manager.unregister(plugin)


def build(
    kind: str, name: str, options: Mapping[str, Any] | None = None, **engine_arguments: Any
) -> Any:
    """The ``kind`` (``"metrics"``, ``"upscalers"``, ...) called ``name``, built as a recipe
    builds it: ``options`` checked against the factory's signature and annotations (a
    ``PluginError`` names a wrong one), ``engine_arguments`` (``scale=2`` for a degradation,
    ``split="all"`` for a dataset) passed as they are."""
    from zoo.registry import get_registry

    return get_registry().build(kind, name, options, **engine_arguments)


def tiny_recipe_dict() -> dict[str, Any]:
    """A fresh copy of the tiny recipe as a plain dictionary (the shape of a YAML recipe)."""
    return copy.deepcopy(_TINY)


def tiny_recipe(*overrides: str) -> Recipe:
    """The tiny recipe with ``field.path=value`` overrides (values in YAML, as ``zoo run``
    reads them), validated, its names and options checked against the plugins registered now.

    ``tiny_recipe("loss={charbonnier: 1.0}", "eval.metrics=[psnr, charbonnier]")`` trains with
    a plugin's metric as the loss and scores it; ``train.steps=2`` takes a second step.
    """
    from zoo import recipe

    return recipe.from_dict(tiny_recipe_dict(), overrides, source="zoo.testing.tiny_recipe")


def train_tiny(workdir: str | Path, *overrides: str) -> RunResult:
    """Train and evaluate ``tiny_recipe(*overrides)`` into ``workdir`` (a fresh folder, such as
    ``tmp_path / "run"``), without a progress bar: a few seconds plus compilation on a CPU."""
    from zoo.train import train_and_evaluate

    return train_and_evaluate(tiny_recipe(*overrides), Path(workdir), progress=False)
