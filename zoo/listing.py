"""The data behind `zoo plugins`: each plugin's origin, hooks and registered names."""

from __future__ import annotations

from typing import Any

from zoo import hookspecs, plugins
from zoo.registry import get_registry

BUILTIN_DISTRIBUTION = "zoo-sr"


def plugin_listing() -> list[dict[str, Any]]:
    """One stable record per loaded plugin, sorted by name (the JSON of `zoo plugins --json`).

    Keys: name, distribution, version, builtin, hooks (sorted hook names), registers
    (kind -> sorted names, only kinds with names).
    """
    manager = plugins.get_plugin_manager()
    registry = get_registry()
    records = []
    for name, plugin in manager.list_name_plugin():
        if plugin is None:
            continue
        origin = plugins.origin(name)
        hooks = sorted(caller.name for caller in manager.get_hookcallers(plugin) or [])
        registers: dict[str, list[str]] = {}
        for kind in hookspecs.KINDS:
            names = sorted(e.name for e in registry.tables[kind].values() if e.plugin == name)
            if names:
                registers[kind] = names
        records.append(
            {
                "name": name,
                "distribution": origin.distribution,
                "version": origin.version,
                "builtin": origin.distribution == BUILTIN_DISTRIBUTION,
                "hooks": hooks,
                "registers": registers,
            }
        )
    return sorted(records, key=lambda record: record["name"])
