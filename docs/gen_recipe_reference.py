"""Writes docs/recipes.md, the recipe reference, from the pydantic schema in zoo/recipe.py."""

from __future__ import annotations

import sys
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from zoo import recipe, recipe_messages

OUT = Path(__file__).with_name("recipes.md")

INTRO = """# Recipe reference

A recipe is a YAML file that names every part of a run by its registered name, with options.
This page is generated from the schema in `zoo/recipe.py` by `python docs/gen_recipe_reference.py`
(the `docs` nox session runs it), so it cannot drift from the code.

- Unknown keys and unknown plugin names are errors before any compute; the message names the
  file, the field path and the valid choices.
- Any field can be overridden on the command line with a dotted path; values are read as YAML:
  `zoo run recipes/ae_x2.yaml train.steps=200 data.patch=48 model.encoder.width=32`.
- `zoo recipes show FILE [overrides]` prints the resolved recipe; `zoo recipes validate FILE...`
  checks files; `zoo run FILE --dry-run` builds every part and prints the plan.
- A plugin reference is either a name (`degradation: bicubic`) or a mapping with `name` and that
  plugin's options (`decoder: {name: dli, output: sigmoid}`); `zoo plugins --all` lists names,
  and a wrong option is answered with the plugin's accepted options.
- `optimizer` takes, besides the fields below, any keyword argument of the optax function it
  names (`optimizer: {name: adadelta, learning_rate: 1.0, rho: 0.95}`).
- `loss` maps metric names to weights, or to `{weight: W, <metric options>}`; only metrics
  registered as differentiable are allowed.

The shipped recipes (`zoo recipes list`):

"""


def type_name(annotation: Any) -> str:
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return type_name(args[0])
    if origin is typing.Literal:
        return " \\| ".join(f"`{value}`" for value in args)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(type_name(arg) for arg in args)
    if origin is list:
        return f"list of {type_name(args[0])}"
    if origin is dict:
        return f"mapping {type_name(args[0])} -> {type_name(args[1])}"
    if annotation is type(None):
        return "null"
    return getattr(annotation, "__name__", str(annotation))


def default_text(field: Any) -> str:
    if field.is_required():
        return "**required**"
    if field.default_factory is not None:
        value = field.default_factory()
        if isinstance(value, recipe.PluginRef):
            return f"`{value}`"
        if isinstance(value, BaseModel):
            return "see below"
        if isinstance(value, dict):
            value = {key: getattr(item, "weight", item) for key, item in value.items()}
        return f"`{value}`"
    return "" if field.default is PydanticUndefined else f"`{field.default!r}`"


def constraints(field: Any) -> str:
    parts = []
    metadata = list(field.metadata)
    for arg in typing.get_args(field.annotation):
        metadata += list(getattr(arg, "__metadata__", ()))
    for item in metadata:
        for key in ("ge", "gt", "le", "lt", "pattern", "min_length"):
            value = getattr(item, key, None)
            if value is not None:
                parts.append(f"{key} {value}")
    return ", ".join(parts)


def section(model: type[BaseModel], prefix: str) -> list[str]:
    lines = [f"## `{prefix or 'top level'}`", ""]
    doc = (model.__doc__ or "").strip()
    if doc and not doc.startswith("A recipe section") and prefix:
        lines += [doc, ""]
    lines += [
        "| field | type | default | constraints | meaning |",
        "| --- | --- | --- | --- | --- |",
    ]
    nested: list[tuple[type[BaseModel], str]] = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        sub = recipe_messages.submodel(annotation)
        path = f"{prefix}.{name}" if prefix else name
        shown = (
            "plugin reference"
            if sub is recipe.PluginRef
            else (f"section `{path}`" if sub else type_name(annotation))
        )
        if typing.get_origin(annotation) is dict:
            shown = "mapping metric -> weight or {weight, options}"
        meaning = " ".join((field.description or "").split())
        lines.append(
            f"| `{path}` | {shown} | {default_text(field)} | {constraints(field)} | {meaning} |"
        )
        if sub is not None and sub not in (recipe.PluginRef, recipe.LossTerm):
            nested.append((sub, path))
    lines.append("")
    for sub, path in nested:
        lines += section(sub, path)
    return lines


def main() -> int:
    lines = [INTRO.rstrip(), ""]
    for name, path in recipe.shipped_recipes().items():
        lines.append(f"- `{name}`: {recipe.description(path)}")
    lines.append("")
    lines += section(recipe.Recipe, "")
    OUT.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
