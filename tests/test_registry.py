"""The registry: one table of kinds, a cache that cannot mistake one plugin set for another,
and option annotations that must resolve."""

from __future__ import annotations

import gc
import inspect
from typing import TYPE_CHECKING

import pytest

from zoo import hookimpl, hookspecs, plugins
from zoo.errors import PluginError
from zoo.registry import get_registry

if TYPE_CHECKING:
    from decimal import Decimal  # only for the annotation test below: invisible at run time


def test_every_hook_declares_its_kind_and_the_registry_follows_the_table():
    declared = [name for name, value in vars(hookspecs).items() if name.startswith("register_")]
    assert declared == [kind.hook for kind in hookspecs.KINDS.values()]
    assert set(get_registry().tables) == set(hookspecs.KINDS)
    for kind in hookspecs.KINDS.values():
        assert kind.singular and kind.name.startswith(kind.singular)


def test_engine_arguments_come_from_the_kind_table():
    entry = get_registry().get("decoders", "dli")
    options = set(entry.option_parameters())
    assert not options & hookspecs.KINDS["decoders"].engine_arguments
    factory = set(inspect.signature(entry.factory).parameters)
    assert hookspecs.KINDS["decoders"].engine_arguments <= factory


def make_plugin(upscaler_name: str) -> object:
    class Temporary:
        @hookimpl
        def register_upscalers(self, register):
            register(upscaler_name, lambda: lambda lr, scale: lr)

    return Temporary()


def test_the_cache_sees_a_plugin_replaced_by_another(plugin_manager):
    # CPython reuses the id() of a freed object at once, so a cache keyed on ids would take
    # the second set of plugins for the first and keep serving the stale registry.
    plugins.register(plugin_manager, make_plugin("first_upscaler"), "temporary")
    assert "first_upscaler" in get_registry().names("upscalers")
    plugin_manager.unregister(name="temporary")
    gc.collect()
    plugins.register(plugin_manager, make_plugin("second_upscaler"), "temporary")
    names = get_registry().names("upscalers")
    assert "second_upscaler" in names and "first_upscaler" not in names


def test_an_option_annotation_that_cannot_be_resolved_is_an_error(register_plugin):
    def factory(*, tolerance: Decimal = 1) -> object:
        return lambda pred, target: pred

    class Broken:
        @hookimpl
        def register_metrics(self, register):
            register("unresolved", factory, higher_is_better=True, differentiable=True)

    register_plugin(Broken(), name="broken")
    entry = get_registry().get("metrics", "unresolved")
    with pytest.raises(PluginError) as caught:
        entry.validate_options({"tolerance": 2})
    message = str(caught.value)
    assert "metric 'unresolved' (plugin broken)" in message
    assert "'tolerance'" in message and "Decimal" in message
    assert "outside TYPE_CHECKING" in message


def test_an_engine_argument_annotation_need_not_resolve(register_plugin):
    # Engine arguments are never type-checked, so an import-only annotation there is fine.
    def factory(*, in_channels: Decimal, rngs: object, width: int = 4) -> object:
        return object()

    class Partial:
        @hookimpl
        def register_encoders(self, register):
            register("partial", factory)

    register_plugin(Partial(), name="partial")
    entry = get_registry().get("encoders", "partial")
    assert entry.validate_options({"width": 8}) == {"width": 8}
    with pytest.raises(ValueError, match="option 'width'"):
        entry.validate_options({"width": "wide"})
