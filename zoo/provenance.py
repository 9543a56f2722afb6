"""Where a model came from: the resolved recipe, the plugins that built it and its parameter shapes.

A checkpoint's payload (and ``recipe.json``, and a weights file) is self-describing: beside the
recipe as written it holds the *resolved* recipe, every plugin option with its default filled
in, so a model is rebuilt as it was trained even after a plugin changes a default; the
distribution and version of the plugin behind each part, so a changed plugin is one warning
line; and the name, shape and dtype of every parameter, so a shape that no longer fits is named
before any array is read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import jax

from zoo.recipe import PluginRef, Recipe

FORMAT = 2
"""Payload format: 2 added ``resolved``, ``parts`` and ``params`` (zoo 0.1 wrote format 1)."""


def recipe_payload(
    recipe: Recipe, params: Any | None = None, *, registry: Any | None = None
) -> dict[str, Any]:
    """The recipe as written and resolved, the versions of zoo, JAX and every plugin, the
    plugin behind each part and, given ``params``, every parameter's shape."""
    import zoo
    from zoo.listing import plugin_listing
    from zoo.registry import get_registry

    registry = registry or get_registry()
    payload: dict[str, Any] = {
        "format": FORMAT,
        "recipe": recipe.model_dump(mode="json"),
        "resolved": resolved_recipe(recipe, registry),
        "zoo_version": zoo.__version__,
        "plugins": {
            item["name"]: {"distribution": item["distribution"], "version": item["version"]}
            for item in plugin_listing()
        },
        "parts": part_plugins(recipe, registry),
        "jax_version": jax.__version__,
    }
    if params is not None:
        payload["params"] = param_shapes(params)
    return payload


# ---------------------------------------------------------------------------------------------
# The resolved recipe


def plugin_fields(recipe: Recipe) -> Iterator[tuple[str, str, PluginRef]]:
    """(field path, registry kind, reference) for every plugin the recipe names with options."""
    yield "data.train", "datasets", recipe.data.train
    yield "data.eval", "datasets", recipe.data.eval
    val = getattr(recipe.data, "val", None)
    if isinstance(val, PluginRef):
        yield "data.val", "datasets", val
    yield "degradation", "degradations", recipe.degradation
    yield "model.encoder", "encoders", recipe.model.encoder
    yield "model.decoder", "decoders", recipe.model.decoder
    yield "model.upsample", "upscalers", recipe.model.upsample


def resolved_recipe(recipe: Recipe, registry: Any) -> dict[str, Any]:
    """The recipe as JSON with every plugin option the recipe leaves out set to its default;
    an option whose default is not plain JSON (a function, say) is left out."""
    resolved = recipe.model_dump(mode="json")
    for path, kind, ref in plugin_fields(recipe):
        node = _node(resolved, path)
        node.update(_with_defaults(registry.get(kind, ref.name), node))
    for name, term in recipe.loss.items():
        resolved["loss"][name].update(_with_defaults(registry.get("metrics", name), term.options))
    return resolved


def _node(tree: dict[str, Any], path: str) -> dict[str, Any]:
    *parents, last = path.split(".")
    for part in parents:
        tree = tree[part]
    value = tree[last]
    if isinstance(value, str):
        value = tree[last] = {"name": value}
    return value  # type: ignore[no-any-return]


def _with_defaults(entry: Any, given: Mapping[str, Any]) -> dict[str, Any]:
    filled = dict(given)
    for name, parameter in entry.option_parameters().items():
        if name in filled or parameter.default is parameter.empty:
            continue
        plain = _plain(parameter.default)
        if plain is not _NOT_JSON:
            filled[name] = plain
    return filled


_NOT_JSON = object()


def _plain(value: Any) -> Any:
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError):
        return _NOT_JSON


def part_plugins(recipe: Recipe, registry: Any) -> dict[str, dict[str, Any]]:
    """Field path -> the name, plugin, distribution and version behind it, for the model's parts
    and the degradation (what decides the weights and what they were trained for)."""
    from zoo import plugins

    found = {}
    for path, kind, ref in plugin_fields(recipe):
        if kind == "datasets":
            continue
        entry = registry.get(kind, ref.name)
        origin = plugins.origin(entry.plugin)
        found[path] = {
            "name": ref.name,
            "plugin": entry.plugin,
            "distribution": origin.distribution,
            "version": origin.version,
        }
    return found


# ---------------------------------------------------------------------------------------------
# Parameter shapes


def param_shapes(params: Any) -> dict[str, dict[str, Any]]:
    """``encoder.layers.0.kernel`` -> {shape, dtype} for every leaf of a parameter tree (arrays
    or ``jax.ShapeDtypeStruct``s)."""
    shapes = {}
    for path, leaf in jax.tree_util.tree_leaves_with_path(params):
        shapes[path_name(path)] = {
            "shape": [int(d) for d in leaf.shape],
            "dtype": str(leaf.dtype),
        }
    return shapes


def path_name(path: tuple[Any, ...]) -> str:
    """A tree path as dotted text: ``encoder.layers.0.kernel`` (an nnx Variable's own ``value``
    level is left out)."""
    parts = [str(key_name(key)) for key in path]
    if len(parts) > 1 and parts[-1] == "value":
        parts.pop()
    return ".".join(parts)


def key_name(key: Any) -> Any:
    """The plain key of one tree-path entry (a dict key, an attribute name, an index)."""
    for attribute in ("key", "name", "idx"):
        if hasattr(key, attribute):
            return getattr(key, attribute)
    return key


def shape_mismatches(
    saved: Mapping[str, Mapping[str, Any]],
    expected: Mapping[str, Mapping[str, Any]],
    *,
    prefixes: tuple[str, ...] | None = None,
) -> list[str]:
    """``path: saved (a, b) vs now (c, d)`` for every parameter whose shape differs or that only
    one side has; only paths under ``prefixes`` when given."""
    problems = []
    for path in sorted(set(saved) | set(expected)):
        if prefixes is not None and not path.startswith(prefixes):
            continue
        old, new = saved.get(path), expected.get(path)
        if old is None:
            problems.append(f"{path}: missing from the saved weights (now {_shape(new)})")
        elif new is None:
            problems.append(f"{path}: saved {_shape(old)} is not in the model now")
        elif list(old["shape"]) != list(new["shape"]):
            problems.append(f"{path}: saved {_shape(old)} vs now {_shape(new)}")
    return problems


def _shape(entry: Mapping[str, Any] | None) -> str:
    return str(tuple(entry["shape"])) if entry is not None else "-"


def changed_plugins(payload: Mapping[str, Any], registry: Any) -> list[str]:
    """One phrase per part whose plugin's installed version differs from the saved one."""
    from zoo import plugins

    notes = []
    for path, saved in (payload.get("parts") or {}).items():
        kind = _KIND_OF_FIELD.get(path)
        if kind is None or saved.get("name") not in registry.table(kind):
            continue
        entry = registry.get(kind, saved["name"])
        origin = plugins.origin(entry.plugin)
        if (origin.distribution, origin.version) != (
            saved.get("distribution"),
            saved.get("version"),
        ):
            notes.append(
                f"{path} {saved['name']!r} was saved with {saved.get('distribution')} "
                f"{saved.get('version')}, installed is {origin.distribution} {origin.version}"
            )
    return notes


_KIND_OF_FIELD = {
    "degradation": "degradations",
    "model.encoder": "encoders",
    "model.decoder": "decoders",
    "model.upsample": "upscalers",
}
