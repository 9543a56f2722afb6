"""Name -> factory tables built from the hooks; unknown names list the valid ones."""

from __future__ import annotations

import importlib
import inspect
import threading
import types
import typing
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pluggy

from zoo import hookspecs, plugins
from zoo.errors import PluginError, did_you_mean

if TYPE_CHECKING:
    import pydantic


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
        import pydantic

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
    import pydantic

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
    """Every registered name per kind. A kind's table is built when it is first used, by calling
    each plugin's hook for that kind once, so `zoo --help` calls only ``register_commands`` and
    imports no plugin's heavy modules.

    A registration that breaks the contract (a bad name, a missing meta key, a name another
    plugin took first) and a hook that raises are left out and recorded in ``problems``;
    ``check()`` builds every table and raises all problems, with the plugins' load problems, as
    one PluginError. ``get_registry()`` returns a checked registry.
    """

    def __init__(self, manager: pluggy.PluginManager) -> None:
        self.manager = manager
        self.problems: list[plugins.Problem] = []
        self._tables: dict[str, dict[str, Entry]] = {}
        self.tables: Mapping[str, dict[str, Entry]] = _Tables(self)

    def table(self, kind: str) -> dict[str, Entry]:
        """The name -> Entry table of ``kind``, built on first use."""
        if kind not in self._tables:
            self._tables[kind] = {}
            spec = hookspecs.KINDS[kind]
            for impl in self._in_load_order(getattr(self.manager.hook, spec.hook)):
                # Call each implementation on its own so every name is traced to its plugin.
                try:
                    impl.function(register=self._register_callback(kind, impl.plugin_name))
                except Exception as exc:
                    self.problems.append(
                        plugins.Problem(
                            impl.plugin_name,
                            f"failed in its {spec.hook} hook: {type(exc).__name__}: {exc}",
                        )
                    )
        return self._tables[kind]

    def _in_load_order(self, caller: pluggy.HookCaller) -> list[pluggy.HookImpl]:
        # Built-ins first, then in the order the plugins were registered: when two plugins
        # register one name, the later one is the one at fault.
        implementations = caller.get_hookimpls()
        return sorted(
            implementations,
            key=lambda impl: (
                not plugins.origin(impl.plugin_name).builtin,
                implementations.index(impl),
            ),
        )

    def _register_callback(self, kind: str, plugin_name: str) -> Callable[..., None]:
        maker = hookspecs.KINDS[kind].factory_from_meta

        def register(name: str, factory: Any = None, **meta: Any) -> None:
            if maker is not None:
                module, _, function = maker.partition(":")
                try:
                    factory = getattr(importlib.import_module(module), function)(name, meta)
                except ValueError as exc:
                    self.problems.append(plugins.Problem(plugin_name, str(exc)))
                    return
            entry = Entry(kind, name, factory, plugin_name, meta)
            problem = self._admit(entry)
            if problem is None:
                self._tables[kind][entry.name] = entry
            else:
                self.problems.append(plugins.Problem(plugin_name, problem))

        return register

    def _admit(self, entry: Entry) -> str | None:
        """Why ``entry`` cannot join its table (a predicate of its plugin), or None."""
        table = self.table(entry.kind)
        if not isinstance(entry.name, str) or not entry.name.isidentifier():
            return (
                f"registers {entry.singular} name {entry.name!r}; names must be identifiers "
                "(letters, digits, underscores)"
            )
        if not callable(entry.factory):
            return (
                f"registers {entry.singular} {entry.name!r} with a factory that is not "
                f"callable ({type(entry.factory).__name__})"
            )
        for key, expected in entry.spec.required_meta.items():
            if not isinstance(entry.meta.get(key), expected):
                example = "True/False" if expected is bool else f"<{expected.__name__}>"
                return (
                    f"registers {entry.singular} {entry.name!r} without {key}={example}; "
                    f"every {entry.singular} must declare it"
                )
        if entry.name in table:
            other = table[entry.name].plugin
            return (
                f"registers {entry.singular} {entry.name!r} too: {entry.singular} name "
                f"{entry.name!r} is registered twice, first by plugin {other!r} "
                f"({plugins.origin(other).describe()})"
            )
        return None

    def add(self, entry: Entry) -> None:
        """Add one entry by hand; a PluginError says why it cannot be added."""
        problem = self._admit(entry)
        if problem is not None:
            raise PluginError(f"{plugins.Problem(entry.plugin, problem)}.")
        self.table(entry.kind)[entry.name] = entry

    def all_problems(self) -> list[plugins.Problem]:
        """Every problem of every plugin: loading, hooks, and every table (all built now)."""
        for kind in hookspecs.KINDS:
            self.table(kind)
        return [*plugins.problems(self.manager), *self.problems]

    def check(self) -> Registry:
        """This registry, once every table is built without a problem; else one PluginError
        naming each broken plugin, its distribution and version, and the way around."""
        found = self.all_problems()
        if found:
            raise PluginError(plugins.problem_report(found))
        return self

    def names(self, kind: str) -> list[str]:
        return sorted(self.table(kind))

    def get(self, kind: str, name: str) -> Entry:
        table = self.table(kind)
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


class _Tables(Mapping[str, dict[str, Entry]]):
    """``registry.tables[kind]``: every kind, each table built when first looked up."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    def __getitem__(self, kind: str) -> dict[str, Entry]:
        return self._registry.table(kind)

    def __iter__(self) -> Iterator[str]:
        return iter(hookspecs.KINDS)

    def __len__(self) -> int:
        return len(hookspecs.KINDS)


# The registry with the manager and plugin objects it was built from. Holding the objects
# themselves (not their id()s, which CPython reuses once an object is freed) means a plugin
# unregistered and another registered in its place can never look like the same set.
_cache: tuple[pluggy.PluginManager, tuple[object, ...], Registry] | None = None
_building = threading.RLock()


def get_registry(*, check: bool = True) -> Registry:
    """The registry for the currently registered plugins, rebuilt when that set changes.

    With ``check`` (every command that uses plugins) a broken plugin is a PluginError naming
    it and the way around; ``check=False`` (`zoo --help`, `zoo plugins`) gives the registry as
    far as it can be built, broken registrations left out and recorded in ``problems``.
    """
    global _cache
    with _building:
        manager = plugins.get_plugin_manager()
        current = tuple(manager.get_plugins())
        if _cache is not None and _cache[0] is manager and _same_objects(_cache[1], current):
            registry = _cache[2]
        else:
            registry = Registry(manager)
            _cache = (manager, current, registry)
        return registry.check() if check else registry


def _same_objects(before: tuple[object, ...], now: tuple[object, ...]) -> bool:
    remaining = list(before)
    for plugin in now:
        match = next((i for i, old in enumerate(remaining) if old is plugin), None)
        if match is None:
            return False
        del remaining[match]
    return not remaining
