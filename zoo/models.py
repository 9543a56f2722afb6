"""Pretrained models registered by plugins (``register_models``): their weights file and meta.

A registration names a weights file inside its package (read through ``importlib.resources``,
so it works from an installed wheel or a zip) and the file's SHA-256; the file is read and
checked only when the model is used, so listing models (`zoo models`) costs nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from zoo.errors import ZooError

WeightsRef = Traversable | str | os.PathLike[str]


@dataclass(frozen=True)
class Pretrained:
    """A registered model's weights file and recipe; ``open()`` reads and checks it."""

    name: str
    weights: WeightsRef
    recipe: Mapping[str, Any] | WeightsRef | None
    sha256: str

    def __call__(self) -> Any:
        return self.open()

    def open(self) -> Any:
        """The weights file, read and checked: its SHA-256 against the registration, its own
        digests, and the registered recipe against the one inside."""
        from zoo import weights

        where = f"model {self.name!r} ({self.weights})"
        try:
            data = _read_bytes(self.weights)
        except OSError as exc:
            raise ZooError(
                f"{where}: the weights file cannot be read ({exc.strerror or exc}); reinstall "
                "the package that registers it."
            ) from None
        found = hashlib.sha256(data).hexdigest()
        if found != self.sha256.lower():
            raise weights.WeightsError(
                f"{where}: SHA-256 {found[:16]}... is not the registered {self.sha256[:16]}...; "
                "the file was altered or damaged: reinstall the package that registers it."
            )
        file = weights.read(where, data=data)
        registered = self.registered_recipe()
        if registered is not None and registered != file.payload.get("resolved"):
            raise weights.WeightsError(
                f"{where}: the registered recipe differs from the one inside the weights file; "
                "the plugin must register the recipe the file was exported with."
            )
        return file

    def registered_recipe(self) -> dict[str, Any] | None:
        if self.recipe is None:
            return None
        if isinstance(self.recipe, Mapping):
            return json.loads(json.dumps(dict(self.recipe)))
        text = _read_bytes(self.recipe).decode("utf-8")
        loaded = json.loads(text)
        # A JSON beside the weights may be a whole payload (zoo export --recipe) or the recipe.
        return loaded.get("resolved", loaded) if isinstance(loaded, dict) else loaded


def pretrained(name: str, meta: dict[str, Any]) -> Pretrained:
    """The factory of a ``register_models`` entry, made from (and popping) ``weights`` and
    ``recipe``; ``ValueError`` says what a registration lacks."""
    if "weights" not in meta:
        raise ValueError(
            f"registers model {name!r} without weights=...; name the file with "
            "importlib.resources.files(__package__) / 'NAME.zoo'"
        )
    weights = meta.pop("weights")
    recipe = meta.pop("recipe", None)
    if not isinstance(weights, Traversable | str | os.PathLike):
        raise ValueError(
            f"registers model {name!r} with weights={weights!r}; give a path or an "
            "importlib.resources file"
        )
    sha256 = meta.get("sha256")
    return Pretrained(name, weights, recipe, sha256 if isinstance(sha256, str) else "")


def _read_bytes(ref: Any) -> bytes:
    if isinstance(ref, Traversable):
        return ref.read_bytes()
    return Path(ref).read_bytes()


def model_records(registry: Any) -> list[dict[str, Any]]:
    """One JSON record per registered model (`zoo models --json`), sorted by name."""
    from zoo import plugins

    records = []
    for name, entry in sorted(registry.table("models").items()):
        origin = plugins.origin(entry.plugin)
        record = {
            "name": name,
            "plugin": entry.plugin,
            "distribution": origin.distribution,
            "version": origin.version,
            "description": str(entry.meta.get("description", "")),
            "weights": str(entry.factory.weights),
        }
        record.update({key: _plain(value) for key, value in entry.meta.items()})
        record.setdefault("network", network_text(entry.factory.registered_recipe()))
        records.append(record)
    return records


def _plain(value: Any) -> Any:
    try:
        return json.loads(json.dumps(value))
    except (TypeError, ValueError):
        return str(value)


def format_models(records: list[dict[str, Any]]) -> str:
    """The table of `zoo models`: name, scale, parameters and each measured number."""
    if not records:
        return "No models registered. Plugins add them with register_models (docs/reuse.md)."
    lines = []
    width = max(len(record["name"]) for record in records)
    for record in records:
        parameters = record.get("parameters")
        size = f"{parameters:,} parameters" if isinstance(parameters, int) else ""
        head = f"{record['name']:<{width}}  x{record['scale']}  {size}".rstrip()
        lines.append(f"{head}  [{record['plugin']}]")
        if record.get("description"):
            lines.append(f"  {record['description']}")
        for dataset, values in (record.get("metrics") or {}).items():
            paper = (record.get("paper") or {}).get(dataset, {})
            lines.append(f"  {dataset}: {numbers_text(values)}{_paper(paper)}")
        if record.get("training"):
            lines.append(f"  trained: {record['training']}")
    return "\n".join(lines)


# The benchmark sets of the table, in its column order (the published protocol: Y channel).
TABLE_SETS = ("Set5", "Set14")


def format_models_table(records: list[dict[str, Any]]) -> str:
    """`zoo models --table`: one Markdown table, a row per model, every number from its catalog
    (measured by the command recorded beside it), the paper's next to ours, then one line per
    model that is below its paper saying why."""
    header = (
        "| model | network | scale | parameters | training | "
        + " | ".join(f"{s} PSNR / SSIM" for s in TABLE_SETS)
        + " | published, same protocol | bicubic "
        + " / ".join(TABLE_SETS)
        + " |"
    )
    lines = [
        header,
        "| --- | --- | ---: | ---: | ---: | " + "---: | " * len(TABLE_SETS) + "--- | ---: |",
    ]
    notes = []
    for record in records:
        metrics = record.get("metrics") or {}
        paper = record.get("paper") or {}
        cells = [
            label(record),
            str(record.get("network") or network_text(record.get("recipe"))),
            f"x{record['scale']}",
            f"{record['parameters']:,}" if isinstance(record.get("parameters"), int) else "",
            _minutes(record.get("training_minutes")),
            *(_pair(metrics.get(s)) for s in TABLE_SETS),
            _published(paper),
            " / ".join(_value(metrics.get(s), "bicubic_psnr", ".2f") for s in TABLE_SETS),
        ]
        lines.append("| " + " | ".join(cells) + " |")
        if record.get("why_below"):
            notes.append(
                f"- {label(record)} is below {paper.get('method', 'its paper')}: "
                f"{record['why_below']}"
            )
    return "\n".join(lines + (["", *notes] if notes else []))


def label(record: Mapping[str, Any]) -> str:
    """A row's first cell: the model's name, or what a measured recipe calls itself."""
    return str(record.get("label") or f"`{record['name']}`")


def network_text(recipe: Any) -> str:
    """``resnet + pixelshuffle, lr input + residual``: a resolved recipe's network, in words."""
    model = recipe.get("model", {}) if isinstance(recipe, Mapping) else {}
    encoder = (model.get("encoder") or {}).get("name")
    decoder = (model.get("decoder") or {}).get("name")
    if not encoder:
        return ""
    design = encoder if encoder == decoder else f"{encoder} + {decoder}"
    return f"{design}, {model.get('input', '?')} input" + (
        " + residual" if model.get("residual") else ""
    )


def _minutes(minutes: Any) -> str:
    return f"{minutes:.1f} min" if isinstance(minutes, int | float) else ""


def _value(values: Any, key: str, spec: str) -> str:
    if not isinstance(values, Mapping) or not isinstance(values.get(key), int | float):
        return "-"
    return format(values[key], spec)


def _pair(values: Any) -> str:
    return f"{_value(values, 'psnr', '.2f')} / {_value(values, 'ssim', '.4f')}"


def _published(paper: Mapping[str, Any]) -> str:
    if not paper:
        return ""
    numbers = ", ".join(f"{s} {_pair(paper.get(s))}" for s in TABLE_SETS if s in paper)
    return f"{paper.get('method', 'paper')}: {numbers}"


def numbers_text(values: Mapping[str, Any]) -> str:
    """One benchmark set's catalog numbers: PSNR, SSIM, convention and bicubic, in words."""
    parts = []
    if "psnr" in values:
        parts.append(f"PSNR {values['psnr']:.2f} dB")
    if "ssim" in values:
        parts.append(f"SSIM {values['ssim']:.4f}")
    if "convention" in values:
        parts.append(f"({values['convention']} convention)")
    if "bicubic_psnr" in values:
        parts.append(f"| bicubic {values['bicubic_psnr']:.2f} dB")
    return " ".join(parts)


def _paper(values: Mapping[str, Any]) -> str:
    return f"; paper {numbers_text(values)}" if values else ""


def record_in_catalog(
    catalog: Path, name: str, model: Any, model_file: Path, *, sha256: str, parameters: int
) -> dict[str, Any]:
    """Add or replace ``name`` in a models plugin's ``models.json``: what ``register_models``
    needs (recipe, scale, sha256) and what `zoo models` shows (parameters, training). What was
    added by hand is kept: ``licence``, ``description``, ``training_data`` and ``paper`` always,
    the measured ``metrics`` (and ``training``, ``training_minutes``, ``why_below``) only while
    the parameters are the same ones."""
    from zoo import atomic, weights

    entries = json.loads(catalog.read_text()) if catalog.is_file() else {}
    previous = entries.get(name, {})
    file = weights.read(model_file)
    where = f"step {model.step}" if model.step is not None else model.source
    entry = {
        key: previous[key]
        for key in ("description", "licence", "training_data", "paper")
        if key in previous
    }
    entry.update(
        scale=model.scale,
        sha256=sha256,
        params_sha256=file.digest,
        parameters=parameters,
        training=f"recipe {model.recipe.name}, {where} ({model.selected})",
        recipe=file.payload["resolved"],
    )
    if previous.get("params_sha256") == file.digest:
        kept = ("metrics", "training", "training_minutes", "why_below")
        entry.update({k: previous[k] for k in kept if k in previous})
    entries[name] = entry
    atomic.write_json(catalog, dict(sorted(entries.items())))
    return entry
