"""The data behind `zoo plugins`: each plugin's origin, hooks, registered names and problems."""

from __future__ import annotations

from typing import Any

from zoo import hookspecs, plugins
from zoo.registry import get_registry


def plugin_listing() -> list[dict[str, Any]]:
    """One stable record per plugin, sorted by name (the JSON of `zoo plugins --json`).

    Keys: name, distribution, version, builtin, hooks (sorted hook names), registers
    (kind -> sorted names, only kinds with names), error (what is wrong with the plugin, or
    None). A broken plugin is listed, not raised: one that failed to import or does not fit
    the contract has no hooks and registers nothing; one whose registrations break the
    contract keeps the names that do not.
    """
    manager = plugins.get_plugin_manager()
    registry = get_registry(check=False)
    errors: dict[str, list[str]] = {}
    for problem in dict.fromkeys(registry.all_problems()):
        errors.setdefault(problem.plugin, []).append(problem.text.rstrip("."))
    found: dict[str, tuple[plugins.Origin, list[str]]] = {}
    for name, plugin in manager.list_name_plugin():
        if plugin is not None:
            hooks = sorted(caller.name for caller in manager.get_hookcallers(plugin) or [])
            found[name] = (plugins.origin(name), hooks)
    for name, origin in plugins.failed_plugins().items():
        found.setdefault(name, (origin, []))
    records = []
    for name, (origin, hooks) in found.items():
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
                "builtin": origin.builtin,
                "hooks": hooks,
                "registers": registers,
                "error": "; ".join(errors[name]) + "." if name in errors else None,
            }
        )
    return sorted(records, key=lambda record: record["name"])
