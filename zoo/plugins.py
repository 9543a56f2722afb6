"""The pluggy PluginManager: loads the `zoo` entry points and checks them against the contract."""

from __future__ import annotations

import importlib.metadata
import os
from dataclasses import dataclass

import pluggy

from zoo import hookspecs
from zoo.errors import PluginError, did_you_mean

GROUP = "zoo"
ENV_SELECT = "ZOO_LOAD_PLUGINS"


@dataclass(frozen=True)
class Origin:
    """Where a plugin came from: its distribution and version, or who registered it by hand."""

    distribution: str | None
    version: str | None

    def describe(self) -> str:
        if self.distribution is None:
            return "registered at run time"
        return f"distribution {self.distribution} {self.version}"


_manager: pluggy.PluginManager | None = None
_origins: dict[str, Origin] = {}


def get_plugin_manager() -> pluggy.PluginManager:
    """The process-wide manager, created and loaded on first use."""
    global _manager
    if _manager is None:
        manager = pluggy.PluginManager(GROUP)
        manager.add_hookspecs(hookspecs)
        load_entry_points(manager)
        _manager = manager
    return _manager


def reset() -> None:
    """Forget the loaded plugins (tests, or after changing ZOO_LOAD_PLUGINS)."""
    global _manager
    _manager = None
    _origins.clear()


def origin(plugin_name: str) -> Origin:
    return _origins.get(plugin_name, Origin(None, None))


def selected_names() -> set[str] | None:
    """Entry-point names allowed by ZOO_LOAD_PLUGINS; None means all, an empty set none."""
    raw = os.environ.get(ENV_SELECT)
    if raw is None:
        return None
    return {part.strip() for part in raw.split(",") if part.strip()}


def load_entry_points(manager: pluggy.PluginManager) -> None:
    """Register every `zoo` entry point (or those ZOO_LOAD_PLUGINS names) and check the hooks."""
    wanted = selected_names()
    available = list(importlib.metadata.entry_points(group=GROUP))
    if wanted is not None:
        unknown = wanted - {ep.name for ep in available}
        for name in sorted(unknown):
            raise PluginError(
                f"{ENV_SELECT} names plugin {name!r}, which is not installed."
                f"{did_you_mean(name, [ep.name for ep in available])} "
                f"Installed: {', '.join(sorted(ep.name for ep in available)) or 'none'}."
            )
    for entry_point in available:
        if wanted is not None and entry_point.name not in wanted:
            continue
        if manager.get_plugin(entry_point.name) is not None:
            continue
        dist = entry_point.dist
        found = Origin(dist.name if dist else None, dist.version if dist else None)
        try:
            module = entry_point.load()
        except Exception as exc:
            raise PluginError(
                f"plugin {entry_point.name!r} ({found.describe()}) failed to import: "
                f"{type(exc).__name__}: {exc}. Reinstall or upgrade {found.distribution}, or "
                f"leave it out with {ENV_SELECT}=<the plugins you want>."
            ) from exc
        register(manager, module, entry_point.name, found)
    check_hooks(manager)


def register(
    manager: pluggy.PluginManager, plugin: object, name: str, found: Origin | None = None
) -> None:
    """Register one plugin object, turning pluggy's validation errors into a PluginError."""
    found = found or Origin(None, None)
    try:
        manager.register(plugin, name=name)
    except (pluggy.PluginValidationError, ValueError) as exc:
        raise PluginError(
            f"plugin {name!r} ({found.describe()}) does not fit the zoo hook contract: {exc}. "
            "See docs/plugins.md for the hook signatures."
        ) from exc
    _origins[name] = found


def check_hooks(manager: pluggy.PluginManager) -> None:
    """Fail loudly, naming the plugin, when a hook implementation has no spec (a misspelling)."""
    declared = hookspecs.hook_names()
    for hook_name, caller in vars(manager.hook).items():
        if not isinstance(caller, pluggy.HookCaller) or caller.has_spec():
            continue
        for impl in caller.get_hookimpls():
            if impl.optionalhook:
                continue
            raise PluginError(
                f"plugin {impl.plugin_name!r} ({origin(impl.plugin_name).describe()}) implements "
                f"unknown hook {hook_name!r}.{did_you_mean(hook_name, declared)} "
                f"Valid hooks: {', '.join(declared)}."
            )
    manager.check_pending()
