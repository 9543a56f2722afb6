"""Name -> factory tables built from the hooks; unknown names list the valid ones."""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pluggy
import pydantic

from zoo import hookspecs, plugins
from zoo.errors import PluginError, did_you_mean


@dataclass(frozen=True)
class Entry:
    """One registered thing: its kind, name, factory, the plugin that registered it and its meta."""

    kind: str
    name: str
    factory: Any
    plugin: str
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def spec(self) -> hookspecs.Kind:
        return hookspecs.KINDS[self.kind]

    @property
    def singular(self) -> str:
        return self.spec.singular

    @property
    def description(self) -> str:
        if "description" in self.meta:
            return str(self.meta["description"])
        doc = inspect.getdoc(self.factory) or ""
        return doc.splitlines()[0] if doc else ""

    def option_parameters(self) -> dict[str, inspect.Parameter]:
        """The factory's own keyword parameters: the options a recipe may set."""
        if not self.spec.has_options:
            return {}
        engine = self.spec.engine_arguments
        return {
            name: parameter
            for name, parameter in _signature(self.factory).parameters.items()
            if name not in engine
            and parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY)
        }

    def accepts_any_option(self) -> bool:
        return any(p.kind is p.VAR_KEYWORD for p in _signature(self.factory).parameters.values())

    def validate_options(self, options: Mapping[str, Any]) -> dict[str, Any]:
        """Type-check recipe options against the factory's annotations; unknown ones are errors.

        Raises ``ValueError`` with a message that names the plugin and lists the valid options;
        callers add the recipe location.
        """
        parameters = self.option_parameters()
        unknown = [key for key in options if key not in parameters]
        if unknown and not self.accepts_any_option():
            valid = ", ".join(f"{n}={_default_text(p)}" for n, p in parameters.items()) or "none"
            raise ValueError(
                f"{self.singular} {self.name!r} (plugin {self.plugin}) has no option "
                f"{unknown[0]!r}.{did_you_mean(unknown[0], parameters)} Its options: {valid}."
            )
        model = _options_model(self)
        try:
            validated = model.model_validate(dict(options))
        except pydantic.ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise ValueError(
                f"{self.singular} {self.name!r} option {where!r}: {first['msg']} "
                f"(got {first.get('input')!r})."
            ) from None
        result = {key: getattr(validated, key) for key in options if key in parameters}
        result.update({key: value for key, value in options.items() if key not in parameters})
        return result

    def build(self, options: Mapping[str, Any] | None = None, **engine_arguments: Any) -> Any:
        """Call the factory with validated options plus the engine's own arguments; a bad
        option, or a ValueError from the factory, is a PluginError naming this plugin."""
        try:
            validated = self.validate_options(options or {})
        except ValueError as exc:
            raise PluginError(str(exc)) from None
        try:
            return self.factory(**engine_arguments, **validated)
        except ValueError as exc:
            # The plugin's own check of its options (a negative sigma, a reversed range).
            raise PluginError(f"{self.describe()} cannot be built: {exc}") from exc

    def describe(self) -> str:
        """``decoder 'dli' (plugin autoencoder)``, as error messages name an entry."""
        return f"{self.singular} {self.name!r} (plugin {self.plugin})"


def _signature(factory: Any) -> inspect.Signature:
    try:
        return inspect.signature(factory)
    except (TypeError, ValueError):
        return inspect.Signature()


def _default_text(parameter: inspect.Parameter) -> str:
    return "<required>" if parameter.default is parameter.empty else repr(parameter.default)


def _option_hints(entry: Entry) -> dict[str, Any]:
    """The resolved annotations of the entry's options; one that cannot be resolved is an error
    naming the plugin, since silently dropping it would switch off all option checking."""
    target = entry.factory.__init__ if inspect.isclass(entry.factory) else entry.factory
    try:
        return typing.get_type_hints(target)
    except Exception:
        pass  # an engine argument's annotation may be import-only; resolve the options alone
    namespace = getattr(inspect.unwrap(target), "__globals__", {})
    hints: dict[str, Any] = {}
    for name, parameter in entry.option_parameters().items():
        annotation = parameter.annotation
        if annotation is parameter.empty:
            continue
        holder = types.SimpleNamespace(__annotations__={name: annotation})
        try:
            hints.update(typing.get_type_hints(holder, globalns=namespace))
        except Exception as exc:
            raise PluginError(
                f"{entry.singular} {entry.name!r} (plugin {entry.plugin}): the annotation "
                f"{annotation!r} of option {name!r} cannot be resolved ({type(exc).__name__}: "
                f"{exc}); import what it names at module level, outside TYPE_CHECKING."
            ) from None
    return hints


def _options_model(entry: Entry) -> type[pydantic.BaseModel]:
    hints = _option_hints(entry)
    fields: dict[str, Any] = {}
    for name, parameter in entry.option_parameters().items():
        annotation = hints.get(name, Any)
        default = ... if parameter.default is parameter.empty else parameter.default
        fields[name] = (annotation, default)
    return pydantic.create_model(
        f"{entry.kind}_{entry.name}_options",
        __config__=pydantic.ConfigDict(arbitrary_types_allowed=True, strict=False),
        **fields,
    )


class Registry:
    """Every registered name per kind, built by calling each plugin's hooks once."""

    def __init__(self, manager: pluggy.PluginManager) -> None:
        self.tables: dict[str, dict[str, Entry]] = {kind: {} for kind in hookspecs.KINDS}
        for kind in hookspecs.KINDS.values():
            caller = getattr(manager.hook, kind.hook)
            # Call each implementation on its own so every name is traced to its plugin.
            for impl in reversed(caller.get_hookimpls()):
                impl.function(register=self._register_callback(kind.name, impl.plugin_name))

    def _register_callback(self, kind: str, plugin_name: str) -> Callable[..., None]:
        def register(name: str, factory: Any, **meta: Any) -> None:
            self.add(Entry(kind, name, factory, plugin_name, meta))

        return register

    def add(self, entry: Entry) -> None:
        table = self.tables[entry.kind]
        where = f"plugin {entry.plugin!r} ({plugins.origin(entry.plugin).describe()})"
        if not isinstance(entry.name, str) or not entry.name.isidentifier():
            raise PluginError(
                f"{where} registers {entry.singular} name {entry.name!r}; names must be "
                "identifiers (letters, digits, underscores)."
            )
        if not callable(entry.factory):
            raise PluginError(
                f"{where} registers {entry.singular} {entry.name!r} with a factory that is "
                f"not callable ({type(entry.factory).__name__})."
            )
        for key, expected in entry.spec.required_meta.items():
            if not isinstance(entry.meta.get(key), expected):
                raise PluginError(
                    f"{where} registers {entry.singular} {entry.name!r} without "
                    f"{key}=True/False; every {entry.singular} must declare it."
                )
        if entry.name in table:
            other = table[entry.name]
            raise PluginError(
                f"{entry.singular} name {entry.name!r} is registered twice: by plugin "
                f"{other.plugin!r} ({plugins.origin(other.plugin).describe()}) and by {where}. "
                f"Uninstall one, or load only one with {plugins.ENV_SELECT}."
            )
        table[entry.name] = entry

    def names(self, kind: str) -> list[str]:
        return sorted(self.tables[kind])

    def get(self, kind: str, name: str) -> Entry:
        table = self.tables[kind]
        if name not in table:
            valid = ", ".join(sorted(table)) or "none (no plugin provides any)"
            singular = hookspecs.KINDS[kind].singular
            raise PluginError(
                f"unknown {singular} {name!r}.{did_you_mean(name, table)} Valid: {valid}."
            )
        return table[name]

    def build(
        self,
        kind: str,
        name: str,
        options: Mapping[str, Any] | None = None,
        **engine_arguments: Any,
    ) -> Any:
        return self.get(kind, name).build(options, **engine_arguments)


# The registry with the manager and plugin objects it was built from. Holding the objects
# themselves (not their id()s, which CPython reuses once an object is freed) means a plugin
# unregistered and another registered in its place can never look like the same set.
_cache: tuple[pluggy.PluginManager, tuple[object, ...], Registry] | None = None


def get_registry() -> Registry:
    """The registry for the currently registered plugins, rebuilt when that set changes."""
    global _cache
    manager = plugins.get_plugin_manager()
    current = tuple(manager.get_plugins())
    if _cache is not None and _cache[0] is manager and _same_objects(_cache[1], current):
        return _cache[2]
    registry = Registry(manager)
    _cache = (manager, current, registry)
    return registry


def _same_objects(before: tuple[object, ...], now: tuple[object, ...]) -> bool:
    remaining = list(before)
    for plugin in now:
        match = next((i for i, old in enumerate(remaining) if old is plugin), None)
        if match is None:
            return False
        del remaining[match]
    return not remaining
