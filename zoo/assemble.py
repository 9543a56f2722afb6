"""One assembly path: a validated Recipe and a Registry become every part that zoo uses.

`zoo run` builds everything with ``assemble``; `zoo recipes validate` and `zoo run --dry-run`
build the same parts with the model as abstract shapes (``abstract=True``), so a plugin that
rejects its options fails there, named with the recipe file and field, before any compute.
`zoo eval` and ``zoo.load`` use the single-part builders below, so the same model on the same
images gives the same number everywhere: one degradation rule, one evaluation set rule, one
model-as-a-system.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from jax.sharding import Mesh

from zoo import data, evaluate, tiling
from zoo import loss as loss_lib
from zoo import model as model_lib
from zoo.errors import DataError, PluginError, RecipeError, ZooError
from zoo.optimizer import make_optimizer
from zoo.pixels import float_to_uint8, uint8_to_float
from zoo.recipe import HeldOut, PluginRef, Recipe
from zoo.recipe_checks import check_selection
from zoo.registry import Registry
from zoo.types import Dataset

# Evaluation LR images are degraded with keys from this fixed seed, not the training seed, so
# runs that differ only in their seed are scored on the very same images.
EVAL_SEED = 0


@dataclass(frozen=True)
class Degradation:
    """A degradation plugin built with its options: ``fn(hr, key) -> lr``."""

    ref: PluginRef
    fn: Callable[[jax.Array, jax.Array], jax.Array]
    jittable: bool

    def __str__(self) -> str:
        return str(self.ref)


@dataclass
class Parts:
    """Everything a recipe names, built and checked, before any training."""

    recipe: Recipe
    registry: Registry
    train_dataset: Dataset
    eval_dataset: Dataset
    degradation: Degradation
    model: model_lib.SuperResolver
    loss: loss_lib.Loss
    optimizer: optax.GradientTransformation
    metrics: list[evaluate.MetricSpec]
    upscalers: dict[str, evaluate.System]
    mesh: Mesh
    val_dataset: Dataset | None = None
    """The validation images (data.val); ``train_dataset`` is then without those it holds out."""


def assemble(
    recipe: Recipe,
    registry: Registry,
    *,
    devices: list[jax.Device] | None = None,
    abstract: bool = False,
    source: str = "recipe",
) -> Parts:
    """Build every part ``recipe`` names. ``abstract`` builds the model as shapes only (no
    initialisation compute) and probes each part on abstract inputs; errors name ``source``
    and the recipe field."""
    mesh = make_mesh(devices)
    if recipe.data.batch % mesh.size:
        raise RecipeError(
            f"{source}: data.batch ({recipe.data.batch}) must be divisible by the number of "
            f"devices ({mesh.size}) so the batch can be sharded evenly."
        )
    with field(source, "data.train"):
        train_dataset = open_dataset(registry, recipe.data.train, default_split="train")
    with field(source, "data.eval"):
        eval_dataset = open_dataset(registry, recipe.data.eval, default_split="holdout")
    check_selection(recipe, source)
    with field(source, "data.val"):
        train_dataset, val_dataset = open_validation(registry, recipe, train_dataset, eval_dataset)
    with field(source, "degradation"):
        degradation = build_degradation(registry, recipe.degradation, recipe.scale)
        probe_degradation(degradation, recipe)
    with field(source, "model"):
        model = build_model(recipe, registry, abstract=abstract)
    if recipe.init_from is not None:
        from zoo import reuse

        with field(source, "init_from"):
            reuse.check_init_from(recipe, registry, model)
    terms = []
    for name, term in recipe.loss.items():
        with field(source, f"loss.{name}"):
            terms.append(loss_lib.build_term(registry, name, term))
            probe_metric(terms[-1].metric, recipe.data.patch)
    loss = loss_lib.Loss(tuple(terms))
    with field(source, "optimizer"):
        optimizer = build_optimizer(recipe)
        jax.eval_shape(optimizer.init, nnx.state(model, nnx.Param))
    with field(source, "eval.metrics"):
        metrics = evaluate.metric_specs(registry, recipe.eval.metrics)
    with field(source, "eval.upscalers"):
        upscalers = evaluate.upscaler_systems(registry, recipe.eval.upscalers, recipe.scale)
    return Parts(
        recipe=recipe,
        registry=registry,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        degradation=degradation,
        model=model,
        loss=loss,
        optimizer=optimizer,
        metrics=metrics,
        upscalers=upscalers,
        mesh=mesh,
        val_dataset=val_dataset,
    )


def validate(recipe: Recipe, registry: Registry, *, source: str) -> Parts:
    """Build every part cheaply (abstract model) so bad plugin options fail before compute."""
    return assemble(recipe, registry, abstract=True, source=source)


@contextlib.contextmanager
def field(source: str, path: str) -> Iterator[None]:
    """Prefix any error raised while building a part with the recipe file and field."""
    try:
        yield
    except RecipeError:
        raise
    except DataError as exc:
        raise DataError(f"{source}: {path}: {exc}") from None
    except ZooError as exc:
        raise RecipeError(f"{source}: {path}: {exc}") from None
    except (ValueError, TypeError) as exc:
        raise RecipeError(f"{source}: {path}: {exc}") from exc


# ---------------------------------------------------------------------------------------------
# One part each


def open_dataset(registry: Registry, ref: PluginRef, *, default_split: str | None) -> Dataset:
    """The dataset ``ref`` names, on its ``split`` option or else ``default_split``; None
    means ``all`` when the dataset has it, else its first split."""
    entry = registry.get("datasets", ref.name)
    options = ref.options
    splits = tuple(entry.meta.get("splits", ()))
    split = options.pop("split", None)
    if split is None:
        split = default_split
        if split is None:
            split = "all" if "all" in splits or not splits else splits[0]
    if splits and split not in splits:
        raise PluginError(
            f"dataset {ref.name!r} has no split {split!r}. Valid: {', '.join(splits)}."
        )
    return entry.build(options, split=split)


def open_validation(
    registry: Registry, recipe: Recipe, train: Dataset, eval: Dataset
) -> tuple[Dataset, Dataset | None]:
    """(the training images, the validation images) for ``data.val``: ``{images: N}`` takes the
    last N of ``train`` out of it; a dataset must share no image with data.train or data.eval."""
    val = recipe.data.val
    if val is None:
        return train, None
    if isinstance(val, HeldOut):
        total = len(train)
        if val.images >= total:
            held = "every one of" if val.images == total else "more than"
            raise ValueError(
                f"{{images: {val.images}}} holds out {held} the {total} images of data.train "
                f"({recipe.data.train}), leaving none to train on; hold out at most {total - 1}."
            )
        return data.split_last(train, val.images)
    dataset = open_dataset(registry, val, default_split=None)
    for other, ref, where in (
        (eval, recipe.data.eval, "data.eval"),
        (train, recipe.data.train, "data.train"),
    ):
        shared = shared_images(val, dataset, ref, other)
        if shared:
            shown = ", ".join(shared[:4]) + (
                f" and {len(shared) - 4} more" if len(shared) > 4 else ""
            )
            why = (
                "choosing the checkpoint on them would inflate the numbers reported there"
                if where == "data.eval"
                else "on training images it measures fitting, not what the model does on new ones"
            )
            raise ValueError(
                f"{len(shared)} of its {len(dataset)} images are also in {where} ({shown}): {why}; "
                "validate on images of their own (another split or folder, or {images: N} from "
                "data.train)."
            )
    return train, dataset


def shared_images(
    ref: PluginRef, dataset: Dataset, other_ref: PluginRef, other: Dataset
) -> list[str]:
    """The names of the images two references to the same source (dataset and options, the
    split aside) both give; all of them when the datasets name none and the splits agree."""

    def source(r: PluginRef) -> tuple[str, dict[str, object]]:
        return r.name, {k: v for k, v in r.options.items() if k != "split"}

    if source(ref) != source(other_ref):
        return []
    names, other_names = getattr(dataset, "names", None), getattr(other, "names", None)
    if names is None or other_names is None:
        same_split = ref.options.get("split") == other_ref.options.get("split")
        return [data.image_name(dataset, i) for i in range(len(dataset))] if same_split else []
    theirs = set(map(str, other_names))
    return [str(name) for name in names if str(name) in theirs]


def build_degradation(registry: Registry, ref: PluginRef, scale: int) -> Degradation:
    entry = registry.get("degradations", ref.name)
    fn = entry.build(ref.options, scale=scale)
    return Degradation(ref, fn, bool(entry.meta.get("jittable", True)))


def probe_degradation(degradation: Degradation, recipe: Recipe) -> None:
    """Trace a jittable degradation on an abstract training batch: options that fail only when
    called (a shape the plugin cannot take) fail here instead."""
    if not degradation.jittable:
        return
    side = recipe.data.patch
    hr = jax.ShapeDtypeStruct((1, side, side, 3), jnp.float32)
    expected = (1, side // recipe.scale, side // recipe.scale, 3)
    lr = jax.eval_shape(degradation.fn, hr, jax.random.key(0))
    if tuple(lr.shape) != expected:
        raise PluginError(
            f"degradation {degradation.ref.name!r} turned a {hr.shape} batch into {lr.shape}; "
            f"x{recipe.scale} needs {expected}."
        )


def probe_metric(metric: loss_lib.MetricFn, side: int) -> None:
    """Trace a loss metric on an abstract training batch of ``side`` pixel patches."""
    batch = jax.ShapeDtypeStruct((1, side, side, 3), jnp.float32)
    jax.eval_shape(metric, batch, batch)


def build_model(
    recipe: Recipe, registry: Registry, *, abstract: bool = False
) -> model_lib.SuperResolver:
    """The recipe's model, checked with eval_shape; ``abstract`` keeps parameters as shapes."""
    upsample = registry.build(
        "upscalers", recipe.model.upsample.name, recipe.model.upsample.options
    )

    def build() -> model_lib.SuperResolver:
        return model_lib.build_super_resolver(
            registry,
            encoder=(recipe.model.encoder.name, recipe.model.encoder.options),
            decoder=(recipe.model.decoder.name, recipe.model.decoder.options),
            input=recipe.model.input,
            upsample=upsample,
            residual=recipe.model.residual,
            scale=recipe.scale,
            seed=recipe.train.seed,
        )

    return nnx.eval_shape(build) if abstract else initialised(build)


# Initialisers run once: compiled without XLA's backend optimisations they compile in a fraction
# of the time (a 3x3x64x64 uniform: 0.3 s instead of 1.7 s on a 2-core CPU) and run as fast as
# it matters for a one-off.
INIT_COMPILER_OPTIONS: dict[str, Any] = {"xla_backend_optimization_level": 0}
M = TypeVar("M", bound=nnx.Module)


def initialised(build: Callable[[], M]) -> M:
    """``build()`` with all its initialisers in one compiled program (instead of one program
    each, about 13 s cold for the DLI net); the same random bits as the eager build, the values
    equal up to float rounding (a few ulp). The graph definition is static, so it is taken while
    the program is traced."""
    traced: dict[str, nnx.GraphDef] = {}

    def parameters() -> nnx.State:
        traced["graphdef"], state = nnx.split(build())
        return state

    state = jax.jit(parameters).lower().compile(INIT_COMPILER_OPTIONS)()
    return nnx.merge(traced["graphdef"], state)


def build_optimizer(recipe: Recipe) -> optax.GradientTransformation:
    return make_optimizer(recipe.optimizer, recipe.train.steps)


def make_mesh(devices: list[jax.Device] | None = None) -> Mesh:
    """A one-axis ('data') mesh over the given devices, all of them by default."""
    devices = list(devices) if devices is not None else jax.devices()
    return Mesh(np.array(devices), ("data",))


# ---------------------------------------------------------------------------------------------
# Evaluation: the images and the model as a system


def eval_set(
    dataset: Dataset,
    degradation: Degradation,
    scale: int,
    *,
    limit: int | None = None,
    crop: int | None = None,
    source: str = "eval dataset",
) -> evaluate.EvalSet:
    """HR images mod-cropped to the scale and their LR versions, rounded to 8 bits as the LR
    files of the published protocol are, degraded with keys from ``EVAL_SEED``."""
    names, images = data.eval_images(dataset, scale, limit=limit, crop=crop, source=source)
    hr = [uint8_to_float(image) for image in images]
    key = jax.random.key(EVAL_SEED)
    lr = [
        uint8_to_float(
            float_to_uint8(degradation.fn(jnp.asarray(image)[None], jax.random.fold_in(key, i))[0])
        )
        for i, image in enumerate(hr)
    ]
    return evaluate.EvalSet(names, hr, lr, data.single_channel_flags(dataset, len(names)))


def model_system(predict: tiling.Predict, scale: int) -> evaluate.System:
    """A model as an evaluation system for images of any size: ``predict`` maps one float HWC
    LR image to its HR prediction; sizes off the pooling grid are padded and cropped back."""

    def system(lr: jax.Array) -> jax.Array:
        whole = tiling.upscale_array(predict, np.asarray(lr[0]), scale, tile=None, overlap=0)
        return jnp.asarray(whole)[None]

    return system
