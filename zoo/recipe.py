"""Recipes: the whole-run schema, YAML loading and dotted overrides.

The sections (data, model, optimizer, ...) are in ``recipe_sections``; checks against the
plugins in ``recipe_checks``; finding recipe files in ``recipe_files``.
Configuration flows one way: YAML file -> overrides -> validated ``Recipe`` -> factories. Nothing
past this module reads raw dictionaries. Every error is a ``RecipeError`` naming the file, the
field path and what is allowed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

import pydantic
import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    model_validator,
)

from zoo.errors import RecipeError, did_you_mean

# Finding recipe files lives in recipe_files; its names stay reachable as zoo.recipe's.
from zoo.recipe_files import description as description
from zoo.recipe_files import recipe_search_path as recipe_search_path
from zoo.recipe_files import resolve_path as resolve_path
from zoo.recipe_files import shipped_recipes as shipped_recipes
from zoo.recipe_messages import format_validation_error, submodel

# The sections live in recipe_sections; their names stay reachable as zoo.recipe's.
from zoo.recipe_sections import ALL_PARTS as ALL_PARTS
from zoo.recipe_sections import MAX_INT as MAX_INT
from zoo.recipe_sections import MAX_SEED as MAX_SEED
from zoo.recipe_sections import Checkpoint as Checkpoint
from zoo.recipe_sections import Data as Data
from zoo.recipe_sections import Eval as Eval
from zoo.recipe_sections import HeldOut as HeldOut
from zoo.recipe_sections import InitFrom as InitFrom
from zoo.recipe_sections import LossTerm as LossTerm
from zoo.recipe_sections import Model as Model
from zoo.recipe_sections import NonNegativeInt as NonNegativeInt
from zoo.recipe_sections import Optimizer as Optimizer
from zoo.recipe_sections import PartName as PartName
from zoo.recipe_sections import PluginRef as PluginRef
from zoo.recipe_sections import PositiveFloat as PositiveFloat
from zoo.recipe_sections import PositiveInt as PositiveInt
from zoo.recipe_sections import RunName as RunName
from zoo.recipe_sections import Schedule as Schedule
from zoo.recipe_sections import Section as Section
from zoo.recipe_sections import Seed as Seed
from zoo.recipe_sections import Train as Train
from zoo.recipe_sections import ref as ref
from zoo.recipe_yaml import (
    YamlRefused,
    load_yaml,
    read_text,
)

JSONL = "jsonl"


def _jsonl_first(loggers: list[PluginRef]) -> list[PluginRef]:
    """The jsonl history is always written; named or not, it comes first, once."""
    names = [logger.name for logger in loggers]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ValueError(f"names {', '.join(repeated)} more than once")
    if JSONL in names:
        return loggers
    return [PluginRef(name=JSONL), *loggers]


class Recipe(Section):
    """A whole run."""

    name: RunName
    """Run name; the run directory defaults to runs/<name>, so it is one folder name: letters,
    digits, `_`, `-` and `.`, at most 128, not starting with `.`."""
    scale: PositiveInt
    """Upscaling factor."""
    data: Data = Field(default_factory=Data)
    """Data."""
    degradation: PluginRef
    """How HR becomes LR (a degradation plugin), inside the compiled step when jittable."""
    model: Model
    """The autoencoder."""
    loss: dict[str, LossTerm] = Field(
        default_factory=lambda: {"mse": LossTerm(weight=1.0)}, min_length=1
    )
    """Metric name -> weight (or {weight, options}); a weighted sum of differentiable metrics."""
    optimizer: Optimizer = Field(default_factory=Optimizer)
    """Optimizer and schedule."""
    train: Train
    """Training length and cadence."""
    eval: Eval = Field(default_factory=Eval)
    """Evaluation."""
    checkpoint: Checkpoint = Field(default_factory=Checkpoint)
    """Checkpoint retention."""
    init_from: InitFrom | None = None
    """Start from the weights of a run, a weights file or a shipped model (null: random)."""
    log: Annotated[list[PluginRef], AfterValidator(_jsonl_first)] = Field(
        default_factory=lambda: [PluginRef(name=JSONL)]
    )
    """Training loggers, written under the run's `logs` folder: `jsonl` (always on: the
    history `metrics.json` and the report hold) and, say, `tensorboard`
    (`log: [jsonl, tensorboard]`; `zoo plugins --all` lists them)."""

    @model_validator(mode="after")
    def _patch_fits_scale(self) -> Recipe:
        if self.data.patch % self.scale:
            raise ValueError(
                f"data.patch ({self.data.patch}) must be a multiple of scale ({self.scale})"
            )
        return self

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), indent=2)


# ---------------------------------------------------------------------------------------------
# Loading


def read_yaml(path: Path) -> dict[str, Any]:
    text = read_text(path)
    try:
        data = load_yaml(text)
    except YamlRefused as exc:
        raise RecipeError(f"{path}: line {exc.line}: {exc.message}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise RecipeError(f"{path}: YAML syntax error at {where}{problem}.") from None
    if data is None:
        raise RecipeError(
            f"{path}: the recipe is empty; it needs at least name, scale, "
            "degradation, model and train (see docs/recipes.md)."
        )
    if not isinstance(data, dict):
        raise RecipeError(
            f"{path}: a recipe must be a YAML mapping of fields, not a {type(data).__name__}."
        )
    return data


def load(spec: str | Path, overrides: Sequence[str] = (), *, check_plugins: bool = True) -> Recipe:
    """Read, override and validate a recipe file; with ``check_plugins`` also every name in it."""
    path = resolve_path(spec)
    return from_dict(read_yaml(path), overrides, source=str(path), check_plugins=check_plugins)


def from_dict(
    data: Mapping[str, Any],
    overrides: Sequence[str] = (),
    *,
    source: str = "<recipe>",
    check_plugins: bool = True,
) -> Recipe:
    try:
        raw = json.loads(json.dumps(data, default=str)) if data else {}
    except (TypeError, ValueError) as exc:  # a date as a key, a list that contains itself
        raise RecipeError(
            f"{source}: {exc}; a recipe holds only strings, numbers, lists and mappings."
        ) from None
    applied: dict[str, str] = {}
    for text in overrides:
        dotted, value = parse_override(text, source)
        set_path(raw, dotted, value, source, text)
        applied[dotted] = text
    recipe = validate(raw, source, applied)
    if check_plugins:
        from zoo.recipe_checks import check_names

        check_names(recipe, source)
    return recipe


# ---------------------------------------------------------------------------------------------
# Overrides


def parse_override(text: str, source: str) -> tuple[str, Any]:
    """``train.steps=200`` -> (``train.steps``, 200); the value is read as YAML."""
    dotted, sep, value_text = text.partition("=")
    if not sep or not dotted.strip():
        raise RecipeError(
            f"{source}: override {text!r} must look like field.path=value "
            "(for example train.steps=200)."
        )
    if not value_text.strip():
        raise RecipeError(
            f"{source}: override {text!r} has no value (write null to clear an optional field)."
        )
    try:
        value = load_yaml(value_text)
    except YamlRefused as exc:
        raise RecipeError(f"{source}: override {text!r}: {exc.message}") from None
    except yaml.YAMLError:
        raise RecipeError(f"{source}: override {text!r}: the value is not valid YAML.") from None
    return dotted.strip(), value


def set_path(raw: dict[str, Any], dotted: str, value: Any, source: str, text: str) -> None:
    """Set ``raw[a][b][c] = value`` after checking that ``a.b.c`` exists in the schema."""
    parts = dotted.split(".")
    check_schema_path(parts, source, text)
    node = raw
    for part in parts[:-1]:
        child = node.get(part)
        if isinstance(child, str):  # a plugin given by name alone; options go beside the name
            child = {"name": child}
        if not isinstance(child, dict):
            child = {}
        node[part] = child
        node = child
    node[parts[-1]] = value


def check_schema_path(parts: list[str], source: str, text: str) -> None:
    model: type[BaseModel] | None = Recipe
    for depth, part in enumerate(parts):
        if model is None:
            return
        fields = model.model_fields
        if part not in fields:
            if model.model_config.get("extra") == "allow":
                return  # plugin or optimizer options, checked against their signature later
            here = ".".join(parts[:depth]) or "the recipe"
            raise RecipeError(
                f"{source}: override {text!r}: {here} has no field {part!r}."
                f"{did_you_mean(part, fields)} Fields: {', '.join(fields)}."
            )
        model = submodel(fields[part].annotation)


# ---------------------------------------------------------------------------------------------
# Validation


def validate(
    raw: dict[str, Any], source: str, overrides: Mapping[str, str] | None = None
) -> Recipe:
    try:
        return Recipe.model_validate(raw)
    except pydantic.ValidationError as exc:
        raise RecipeError(format_validation_error(exc, source, overrides or {}, Recipe)) from None
