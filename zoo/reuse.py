"""Reusing weights: a run directory, a weights file or a registered model, as one ``Source``.

``zoo.load`` rebuilds a whole model from a source; ``init_from`` in a recipe copies some parts'
parameters into a new model before training (a fresh optimizer). Either way the model is built
from the source's *resolved* recipe or the new recipe, and the saved names and shapes are
compared with the model's before any array is read: a mismatch names the first paths with both
shapes.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import jax
import jax.numpy as jnp
import numpy as np

from zoo import checkpoint, distributed, provenance, weights
from zoo import recipe as recipe_lib
from zoo.checkpoint.restore import load_params, saved_params
from zoo.errors import ZooError
from zoo.provenance import param_shapes, path_name, shape_mismatches

if TYPE_CHECKING:
    from zoo.assemble import Parts
    from zoo.registry import Registry

Shapes = dict[str, dict[str, Any]]
NamesFor = Callable[[dict[str, Any], Shapes], Iterable[str]]
Step = Literal["last", "best"] | int | None

SHOWN_MISMATCHES = 3


class ShapeMismatch(ZooError):
    """Saved parameters that do not fit the model being built."""


@dataclass(frozen=True)
class Read:
    """What a source gave: its payload, the step (runs), how it was chosen, and the arrays."""

    payload: dict[str, Any]
    step: int | None
    selected: str
    arrays: dict[str, Any]


@dataclass(frozen=True)
class Source:
    """Weights to reuse: ``kind`` run, file or model; ``label`` its path or model name."""

    kind: Literal["run", "file", "model"]
    label: str
    which: Step = None
    registry: Any = None

    def describe(self) -> str:
        return f"model {self.label!r}" if self.kind == "model" else self.label

    def read(self, names_for: NamesFor) -> Read:
        """Read the arrays ``names_for(payload, saved shapes)`` names (after it checked them)."""
        if self.kind == "run":
            return self._read_run(names_for)
        file = self.weights_file()
        saved = file.payload.get("params", {})
        wanted = list(names_for(file.payload, saved))
        arrays = file.arrays()
        missing = [name for name in wanted if name not in arrays]
        if missing:
            raise weights.WeightsError(
                f"{self.describe()}: the weights file lacks {missing[0]} although its recipe "
                "lists it; the file was not written by `zoo export`."
            )
        selected = "weights file" if self.kind == "file" else f"model {self.label}"
        return Read(file.payload, None, selected, {name: arrays[name] for name in wanted})

    def weights_file(self) -> weights.WeightsFile:
        if self.kind == "model":
            return self.registry.get("models", self.label).factory.open()  # type: ignore[no-any-return]
        return weights.read(self.label)

    def _read_run(self, names_for: NamesFor) -> Read:
        run_dir = Path(self.label)
        step, selected = select(run_dir, self.which, self.registry)
        exact = self.which not in (None, "best", "last")
        loaded = load_params(
            run_dir, names_for, step if exact else None, prefer=None if exact else step
        )
        if step is not None and loaded.step != step:
            selected = f"step {loaded.step}, the newest intact one ({selected} is damaged)"
        return Read(loaded.payload, loaded.step, selected, dict(loaded.state))


def open_source(spec: str | Path, which: Step = None, *, registry: Registry) -> Source:
    """The source ``spec`` names: a run directory, a weights file, or a registered model."""
    path = Path(spec)
    if path.is_dir():
        return Source("run", str(path), which, registry)
    if which not in (None, "last"):
        what = "a weights file" if path.is_file() else "a registered model"
        raise checkpoint.CheckpointError(
            f"{spec}: step {which!r} applies to run directories only; {what} holds one set of "
            "weights."
        )
    if path.is_file():
        return Source("file", str(path), None, registry)
    models = registry.table("models")
    if str(spec) in models:
        return Source("model", str(spec), None, registry)
    from zoo.errors import did_you_mean

    known = ", ".join(sorted(models)) or "none registered"
    raise checkpoint.CheckpointError(
        f"{spec}: no such run directory, weights file or model.{did_you_mean(str(spec), models)} "
        f"Models: {known} (`zoo models` lists them)."
    )


def select(run_dir: Path, which: Step, registry: Registry) -> tuple[int | None, str]:
    """The step ``which`` means in ``run_dir`` and how it was chosen (``best by val_psnr``)."""
    newest = checkpoint.read_recipe(run_dir)
    recipe = recipe_of(newest, f"{run_dir}/checkpoints (recipe)", check_plugins=False)
    policy = checkpoint.policy_for(recipe, registry)
    return checkpoint.select_step(run_dir, which, policy)  # type: ignore[no-any-return]


def recipe_of(
    payload: Mapping[str, Any], source: str, *, check_plugins: bool = True
) -> recipe_lib.Recipe:
    """The recipe to rebuild a saved model with: the resolved one (every option as saved)."""
    raw = payload.get("resolved") or payload["recipe"]
    return recipe_lib.from_dict(raw, source=source, check_plugins=check_plugins)


def warn_changes(payload: Mapping[str, Any], where: str, registry: Registry) -> None:
    """One warning line when the plugins behind the saved parts changed version since, or when
    the payload predates self-describing checkpoints."""
    if payload.get("format", 1) < provenance.FORMAT:
        _warn(
            f"{where} was saved by zoo {payload.get('zoo_version', '0.1')} without its resolved "
            "options: it is rebuilt with today's plugin defaults."
        )
        return
    changes = provenance.changed_plugins(payload, registry)
    if changes:
        _warn(f"{where}: {'; '.join(changes)}; the model is rebuilt from the saved options.")


def check_fits(
    saved: Shapes,
    expected: Shapes,
    where: str,
    *,
    prefixes: tuple[str, ...] | None = None,
    hint: str = "",
) -> None:
    """Raise ``ShapeMismatch`` naming the first mismatching paths with both shapes."""
    problems = shape_mismatches(saved, expected, prefixes=prefixes)
    if not problems:
        return
    more = len(problems) - SHOWN_MISMATCHES
    listed = "; ".join(problems[:SHOWN_MISMATCHES]) + (f"; and {more} more" if more > 0 else "")
    raise ShapeMismatch(f"{where}: the saved parameters do not fit the model: {listed}.{hint}")


def fill(target: Any, arrays: Mapping[str, Any]) -> Any:
    """``target`` (a parameter tree) with each leaf named in ``arrays`` replaced by it, placed
    as the target leaf is (its sharding, when it has one) and cast to its dtype."""

    def replace(path: tuple[Any, ...], leaf: Any) -> Any:
        name = path_name(path)
        if name not in arrays:
            return leaf
        value = jnp.asarray(np.asarray(arrays[name]), dtype=leaf.dtype)
        sharding = getattr(leaf, "sharding", None)
        return jax.device_put(value, sharding) if sharding is not None else value

    return jax.tree_util.tree_map_with_path(replace, target)


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


# ---------------------------------------------------------------------------------------------
# init_from


def parts_prefixes(parts: Iterable[str]) -> tuple[str, ...]:
    return tuple(f"{part}." for part in parts)


def plan_copy(
    recipe: recipe_lib.Recipe, saved: Shapes, expected: Shapes, where: str
) -> tuple[list[str], list[str]]:
    """(names to copy, names left as initialised) for ``recipe.init_from``; strict: every
    parameter of the parts must fit, else ``ShapeMismatch``."""
    assert recipe.init_from is not None
    prefixes = parts_prefixes(recipe.init_from.parts)
    if recipe.init_from.strict:
        check_fits(
            saved,
            expected,
            where,
            prefixes=prefixes,
            hint=" Copy fewer parts (init_from.parts) or set init_from.strict: false to copy "
            "only the parameters that fit.",
        )
    copy: list[str] = []
    skip: list[str] = []
    for name in sorted(expected):
        if not name.startswith(prefixes):
            continue
        fits = name in saved and list(saved[name]["shape"]) == list(expected[name]["shape"])
        (copy if fits else skip).append(name)
    if not copy:
        raise ShapeMismatch(
            f"{where}: no parameter of {', '.join(recipe.init_from.parts)} fits the model; "
            "check init_from.source and init_from.parts."
        )
    return copy, skip


def check_init_from(recipe: recipe_lib.Recipe, registry: Registry, model: Any) -> None:
    """Validate ``init_from`` before compute: the source exists and its parts fit ``model``
    (abstract is fine), comparing shapes read from metadata only."""
    if recipe.init_from is None:
        return
    from flax import nnx

    src = open_source(recipe.init_from.source, recipe.init_from.step, registry=registry)
    expected = param_shapes(nnx.state(model, nnx.Param))
    if src.kind == "run":
        step, _ = select(Path(src.label), src.which, registry)
        saved = saved_params(Path(src.label), step)
    else:
        saved = src.weights_file().payload.get("params", {})
    plan_copy(recipe, saved, expected, src.describe())


def initialize(state: dict[str, Any], parts: Parts, workdir: Path) -> dict[str, Any]:
    """The fresh training state with ``init_from``'s parameters copied in and the optimizer
    state made anew for them; the source is recorded in ``recipe.json`` and printed."""
    from zoo import atomic

    recipe = parts.recipe
    assert recipe.init_from is not None
    where = "init_from"
    src = open_source(recipe.init_from.source, recipe.init_from.step, registry=parts.registry)
    expected = param_shapes(state["params"])
    plan: dict[str, list[str]] = {}

    def names_for(payload: dict[str, Any], saved: Shapes) -> list[str]:
        warn_changes(payload, src.describe(), parts.registry)
        copy, skip = plan_copy(recipe, saved, expected, f"{where} ({src.describe()})")
        plan.update(copy=copy, skip=skip)
        return copy

    read = src.read(names_for)
    params = fill(state["params"], read.arrays)
    if plan["skip"]:
        shown = ", ".join(plan["skip"][:SHOWN_MISMATCHES])
        more = len(plan["skip"]) - SHOWN_MISMATCHES
        _warn(
            f"init_from: {len(plan['skip'])} parameter(s) did not fit and keep their "
            f"initialisation: {shown}{f' and {more} more' if more > 0 else ''}."
        )
    digest = weights.digest_of({name: read.arrays[name] for name in plan["copy"]})
    record: dict[str, Any] = {
        "source": src.label if src.kind == "model" else str(Path(src.label).absolute()),
        "kind": src.kind,
        "step": read.step,
        "selected": read.selected,
        "digest": digest,
        "parts": list(recipe.init_from.parts),
        "copied": len(plan["copy"]),
        "skipped": plan["skip"],
    }
    payload_path = workdir / "recipe.json"
    payload = json.loads(payload_path.read_text()) if payload_path.is_file() else {}
    payload["init_from"] = record
    if distributed.is_main():  # the run directory is process 0's to write
        atomic.write_json(payload_path, payload)
        print(
            f"Initialised {', '.join(recipe.init_from.parts)} from {src.describe()} "
            f"({read.selected}; {len(plan['copy'])} arrays, sha256 {digest[:12]}).",
            file=sys.stderr,
        )
    opt_state = jax.device_put(parts.optimizer.init(params), _sharding_of(state["opt_state"]))
    return dict(state, params=params, opt_state=opt_state)


def _sharding_of(tree: Any) -> Any:
    leaves = jax.tree.leaves(tree)
    return leaves[0].sharding if leaves else None
