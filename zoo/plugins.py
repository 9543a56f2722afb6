"""The pluggy PluginManager: loads the `zoo` entry points and checks them against the contract.

Loading never stops at a broken plugin. One that fails to import, does not fit the hook
contract or implements a hook that does not exist is recorded as a ``Problem`` (and, if it
could not be registered, left out), so that `zoo --help`, `zoo --version` and `zoo plugins`
keep working and can say what is wrong. Every command that uses plugins goes through
``zoo.registry.get_registry()``, which turns the problems into one error naming each broken
plugin and the way around it (``problem_report``).
"""

from __future__ import annotations

import importlib.metadata
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass

import pluggy

from zoo import hookspecs
from zoo.errors import PluginError, did_you_mean

GROUP = "zoo"
ENV_SELECT = "ZOO_LOAD_PLUGINS"
BUILTIN_DISTRIBUTION = "zoo-sr"


@dataclass(frozen=True)
class Origin:
    """Where a plugin came from: its distribution and version, or who registered it by hand."""

    distribution: str | None
    version: str | None

    def describe(self) -> str:
        if self.distribution is None:
            return "registered at run time"
        return f"distribution {self.distribution} {self.version}"

    @property
    def builtin(self) -> bool:
        return self.distribution == BUILTIN_DISTRIBUTION


@dataclass(frozen=True)
class Problem:
    """What is wrong with one plugin. ``text`` is a predicate ("failed to import: ..."); the
    full sentence, ``str(problem)``, starts with the plugin, its distribution and version."""

    plugin: str
    text: str

    def __str__(self) -> str:
        return f"plugin {self.plugin!r} ({origin(self.plugin).describe()}) {self.text}"


_manager: pluggy.PluginManager | None = None
_origins: dict[str, Origin] = {}
_entry_points: list[str] = []  # the selected entry points' names, loaded or not, in load order
_load_problems: list[Problem] = []  # found while loading: import, contract, name clashes


_loading = threading.RLock()


def get_plugin_manager() -> pluggy.PluginManager:
    """The process-wide manager, created and loaded on first use. A broken plugin does not
    stop loading (see ``problems``); only a ZOO_LOAD_PLUGINS naming no installed plugin does."""
    global _manager
    # The input pipeline's threads may be the first to ask (a worker process building its
    # host-side degradation): the entry points must be loaded once, not once per thread.
    with _loading:
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
    _entry_points.clear()
    _load_problems.clear()


def origin(plugin_name: str) -> Origin:
    return _origins.get(plugin_name, Origin(None, None))


def entry_point_names() -> list[str]:
    """The names of the entry points the manager tried to load (all, or ZOO_LOAD_PLUGINS's)."""
    return list(_entry_points)


def selected_names() -> set[str] | None:
    """Entry-point names allowed by ZOO_LOAD_PLUGINS; None means all, an empty set none."""
    raw = os.environ.get(ENV_SELECT)
    if raw is None:
        return None
    return {part.strip() for part in raw.split(",") if part.strip()}


def load_entry_points(manager: pluggy.PluginManager) -> None:
    """Register every `zoo` entry point (or those ZOO_LOAD_PLUGINS names); record, do not
    raise, what is wrong with each (``problems``)."""
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
        dist = entry_point.dist
        found = Origin(dist.name if dist else None, dist.version if dist else None)
        if entry_point.name in _entry_points:
            _load_problems.append(
                Problem(
                    entry_point.name,
                    f"shares its name with an entry point of {found.describe()}, which was "
                    "not loaded: uninstall one of the two",
                )
            )
            continue
        _entry_points.append(entry_point.name)
        _origins[entry_point.name] = found
        try:
            module = entry_point.load()
        except Exception as exc:
            _load_problems.append(
                Problem(entry_point.name, f"failed to import: {type(exc).__name__}: {exc}")
            )
            continue
        problem = _register(manager, module, entry_point.name, found)
        if problem is not None:
            _load_problems.append(problem)


def register(
    manager: pluggy.PluginManager, plugin: object, name: str, found: Origin | None = None
) -> None:
    """Register one plugin object, turning pluggy's validation errors into a PluginError."""
    problem = _register(manager, plugin, name, found or Origin(None, None))
    if problem is not None:
        raise PluginError(f"{problem}.")


def _register(
    manager: pluggy.PluginManager, plugin: object, name: str, found: Origin
) -> Problem | None:
    """Register ``plugin`` as ``name``; the Problem if it cannot be."""
    if manager.get_plugin(name) is not None:
        return Problem(
            name,
            f"cannot be registered from {found.describe()}: the name is taken by another "
            "plugin object",
        )
    try:
        manager.register(plugin, name=name)
    except (pluggy.PluginValidationError, ValueError) as exc:
        detail = " ".join(str(exc).split())
        return Problem(
            name,
            f"does not fit the zoo hook contract: {detail}. See docs/plugins.md for the hook "
            "signatures",
        )
    _origins[name] = found
    return None


def failed_plugins() -> dict[str, Origin]:
    """Entry points that could not be registered (import or contract failure), by name."""
    loaded = {name for name, _ in (_manager.list_name_plugin() if _manager else [])}
    return {
        problem.plugin: origin(problem.plugin)
        for problem in _load_problems
        if problem.plugin not in loaded
    }


def hook_problems(manager: pluggy.PluginManager) -> list[Problem]:
    """A Problem for each implementation of a hook that has no spec (a misspelling)."""
    declared = hookspecs.hook_names()
    found = []
    for hook_name, caller in vars(manager.hook).items():
        if not isinstance(caller, pluggy.HookCaller) or caller.has_spec():
            continue
        for impl in caller.get_hookimpls():
            if not impl.optionalhook:
                found.append(
                    Problem(
                        impl.plugin_name,
                        f"implements unknown hook {hook_name!r}."
                        f"{did_you_mean(hook_name, declared)} Valid hooks: {', '.join(declared)}",
                    )
                )
    return found


def problems(manager: pluggy.PluginManager) -> list[Problem]:
    """What loading found wrong, and each misspelled hook of the plugins registered now."""
    return [*_load_problems, *hook_problems(manager)]


def check_hooks(manager: pluggy.PluginManager) -> None:
    """Fail loudly, naming the plugin, when a hook implementation has no spec (a misspelling)."""
    found = hook_problems(manager)
    if found:
        raise PluginError(f"{found[0]}.")


def problem_report(found: Iterable[Problem]) -> str:
    """One message for every problem: a line per problem, then how to go on without them."""
    found = list(dict.fromkeys(found))
    lines = [str(problem).rstrip(".") + "." for problem in found]
    broken = list(dict.fromkeys(problem.plugin for problem in found))
    return "\n".join([*lines, way_around(broken)])


def way_around(broken: Iterable[str]) -> str:
    """What to do about broken plugins: fix or uninstall their distributions, or leave them
    out by naming, in ZOO_LOAD_PLUGINS, the installed plugins that work."""
    broken = list(broken)
    them = "it" if len(broken) == 1 else "them"
    distributions = sorted(
        {d for d in (origin(name).distribution for name in broken) if d is not None}
    )
    if not distributions:
        return f"Fix or unregister {them}."
    healthy = [name for name in _entry_points if name not in broken]
    selection = f"{ENV_SELECT}={','.join(healthy)}"
    return (
        f"Reinstall, upgrade or uninstall {', '.join(distributions)}, or leave {them} out by "
        f"naming the plugins you want: {selection} (every installed plugin that works)."
    )
