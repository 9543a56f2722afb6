"""Recipe validation errors as one line: the file, the field path, what is wrong and allowed."""

from __future__ import annotations

import inspect
import typing
from collections.abc import Mapping
from typing import Any

import pydantic
from pydantic import BaseModel

from zoo.errors import closest, did_you_mean


def format_validation_error(
    exc: pydantic.ValidationError,
    source: str,
    overrides: Mapping[str, str],
    root: type[BaseModel],
) -> str:
    """``FILE: field.path: what is wrong, what is allowed`` for the error worth telling first."""
    errors = exc.errors()
    first, missing_twin = _first_error(errors)
    location = _location(first)
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        parent = location.rpartition(".")[0]
        allowed = _allowed_fields(root, parent)
        key = location.rpartition(".")[2]
        suggestion = did_you_mean(key, [missing_twin] if missing_twin else allowed)
        message = f"unknown field.{suggestion} Allowed here: {', '.join(allowed)}."
    elif first["type"] == "missing":
        message = "this field is required."
    elif "input" in first and first["type"] != "model_type":
        message = f"{message} (got {first['input']!r}).{_valid_range(root, first)}"
    origin = f" (from override {overrides[location]!r})" if location in overrides else ""
    others = len(errors) - 1 - (1 if missing_twin else 0)
    more = f" ({others} more problem{'s' if others > 1 else ''} after this one.)" if others else ""
    return f"{source}: {location or 'recipe'}{origin}: {message}{more}"


def _location(error: Any) -> str:
    return ".".join(str(part) for part in error["loc"] if not str(part).startswith("function"))


def _first_error(errors: list[Any]) -> tuple[Any, str | None]:
    """The error to report, and the required field it stands for, if any: ``scael: 2`` is both
    an unknown field and a missing ``scale``, and the misspelling is the one to tell."""
    missing = [_location(error) for error in errors if error["type"] == "missing"]
    for error in errors:
        if error["type"] != "extra_forbidden":
            continue
        parent, _, key = _location(error).rpartition(".")
        here = [m.rpartition(".")[2] for m in missing if m.rpartition(".")[0] == parent]
        twin = closest(key, here)
        if twin is not None:
            return error, twin
    return errors[0], None


def _valid_range(root: type[BaseModel], error: Any) -> str:
    """' Valid: 0 to 4294967295.' for an out-of-range number in a field with both bounds."""
    if error["type"] not in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        return ""
    model: type[BaseModel] | None = root
    field = None
    for part in _location(error).split("."):
        if model is None or part not in model.model_fields:
            return ""
        field = model.model_fields[part]
        model = submodel(field.annotation)
    if field is None:
        return ""
    metadata = list(field.metadata)
    for arg in typing.get_args(field.annotation):
        metadata += list(getattr(arg, "__metadata__", ()))
    low = next((m.ge for m in metadata if getattr(m, "ge", None) is not None), None)
    high = next((m.le for m in metadata if getattr(m, "le", None) is not None), None)
    return f" Valid: {low} to {high}." if low is not None and high is not None else ""


def _allowed_fields(root: type[BaseModel], dotted: str) -> list[str]:
    model: type[BaseModel] | None = root
    for part in [p for p in dotted.split(".") if p]:
        if model is None or part not in model.model_fields:
            return []
        model = submodel(model.model_fields[part].annotation)
    return list(model.model_fields) if model else []


def submodel(annotation: Any) -> type[BaseModel] | None:
    """The section model a field's annotation names (``Data`` for ``data``), if any."""
    candidates = [annotation, *getattr(annotation, "__args__", ())]
    for candidate in candidates:
        if inspect.isclass(candidate) and issubclass(candidate, BaseModel):
            return candidate
    return None
