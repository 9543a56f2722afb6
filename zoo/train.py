"""Training in the Flax examples' shape: loss_fn, train_step, eval_step, train_and_evaluate.

The train step is one ``jax.jit``-compiled pure function of (state, HR batch) with donated
buffers: it splits the PRNG key carried in the state, degrades the batch (inside the compiled step
when the degradation is jittable), runs the model, and applies the optax update. The batch is
sharded over a ``jax.sharding.Mesh`` of all devices; parameters are replicated.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import signal
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from zoo import checkpoint, data, evaluate, tiling
from zoo import model as model_lib
from zoo import recipe as recipe_lib
from zoo.errors import RecipeError, ZooError
from zoo.registry import Registry, get_registry

State = dict[str, Any]
LossFn = Callable[[jax.Array, jax.Array], jax.Array]


# ---------------------------------------------------------------------------------------------
# Building the parts a recipe names


@dataclass
class Parts:
    """Everything a recipe names, built and checked, before any training."""

    recipe: recipe_lib.Recipe
    registry: Registry
    train_dataset: Any
    eval_dataset: Any
    degrade: Callable[[jax.Array, jax.Array], jax.Array]
    degrade_jittable: bool
    model: model_lib.SuperResolver
    upsample: Callable[[jax.Array, int], jax.Array]
    loss: LossFn
    optimizer: optax.GradientTransformation
    metrics: list[evaluate.MetricSpec]
    upscalers: list[str]
    mesh: Mesh
    notes: list[str] = field(default_factory=list)


def build_parts(recipe: recipe_lib.Recipe, devices: list[jax.Device] | None = None) -> Parts:
    """Build every part the recipe names; all checks that can fail do so here, before compute."""
    registry = get_registry()
    mesh = make_mesh(devices)
    if recipe.data.batch % mesh.size:
        raise RecipeError(
            f"data.batch ({recipe.data.batch}) must be divisible by the number of "
            f"devices ({mesh.size}) so the batch can be sharded evenly."
        )
    train_dataset = _dataset(registry, "data.train", recipe.data.train, "train")
    eval_dataset = _dataset(registry, "data.eval", recipe.data.eval, "holdout")
    degradation_entry = registry.get("degradations", recipe.degradation.name)
    degrade = degradation_entry.build(recipe.degradation.options, scale=recipe.scale)
    model, upsample = build_model(recipe, registry)
    return Parts(
        recipe=recipe,
        registry=registry,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        degrade=degrade,
        degrade_jittable=bool(degradation_entry.meta.get("jittable", True)),
        model=model,
        upsample=upsample,
        loss=make_loss(registry, recipe.loss),
        optimizer=make_optimizer(recipe.optimizer, recipe.train.steps),
        metrics=evaluate.metric_specs(registry, recipe.eval.metrics),
        upscalers=list(recipe.eval.upscalers),
        mesh=mesh,
    )


def build_model(
    recipe: recipe_lib.Recipe, registry: Registry
) -> tuple[model_lib.SuperResolver, Callable[[jax.Array, int], jax.Array]]:
    """The recipe's model (checked with eval_shape inside build_model) and its input upscaler."""
    upsample = registry.build(
        "upscalers", recipe.model.upsample.name, recipe.model.upsample.options
    )
    model = model_lib.build_model(
        encoder=(recipe.model.encoder.name, recipe.model.encoder.options),
        decoder=(recipe.model.decoder.name, recipe.model.decoder.options),
        input=recipe.model.input,
        upsample=upsample,
        residual=recipe.model.residual,
        scale=recipe.scale,
        seed=recipe.train.seed,
    )
    return model, upsample


def _dataset(
    registry: Registry, field_name: str, reference: recipe_lib.PluginRef, default_split: str
) -> Any:
    options = dict(reference.options)
    split = options.pop("split", default_split)
    try:
        return registry.build("datasets", reference.name, options, split=split)
    except ZooError as exc:
        raise type(exc)(f"{field_name}: {exc}") from None


def make_mesh(devices: list[jax.Device] | None = None) -> Mesh:
    """A one-axis ('data') mesh over the given devices, all of them by default."""
    devices = list(devices) if devices is not None else jax.devices()
    return Mesh(np.array(devices), ("data",))


def make_loss(registry: Registry, terms: Mapping[str, recipe_lib.LossTerm]) -> LossFn:
    """The weighted sum of metric plugins, each averaged over the batch."""
    weighted = [
        (term.weight, registry.build("metrics", name, term.options)) for name, term in terms.items()
    ]

    def loss(pred: jax.Array, target: jax.Array) -> jax.Array:
        terms = [weight * jnp.mean(metric(pred, target)) for weight, metric in weighted]
        return functools.reduce(jnp.add, terms)

    return loss


def make_schedule(optimizer: recipe_lib.Optimizer, steps: int) -> optax.Schedule:
    rate, schedule = optimizer.learning_rate, optimizer.schedule
    final = rate * schedule.final_factor
    if schedule.name == "constant":
        if schedule.warmup_steps:
            return optax.linear_schedule(0.0, rate, schedule.warmup_steps)
        return optax.constant_schedule(rate)
    if schedule.name == "cosine":
        return optax.cosine_decay_schedule(rate, steps, alpha=schedule.final_factor)
    if schedule.name == "warmup_cosine":
        return optax.warmup_cosine_decay_schedule(
            0.0, rate, min(schedule.warmup_steps, steps - 1), steps, end_value=final
        )
    every = schedule.decay_every or max(1, steps // 3)
    return optax.exponential_decay(rate, every, schedule.decay_factor, staircase=True)


def make_optimizer(optimizer: recipe_lib.Optimizer, steps: int) -> optax.GradientTransformation:
    """An optax optimizer by name with its options, a schedule and optional gradient clipping."""
    factory = getattr(optax, optimizer.name)
    transform = factory(learning_rate=make_schedule(optimizer, steps), **optimizer.options)
    if optimizer.clip_norm is not None:
        transform = optax.chain(optax.clip_by_global_norm(optimizer.clip_norm), transform)
    return transform


def describe_plan(parts: Parts, recipe: recipe_lib.Recipe, workdir: Path) -> str:
    """The human-readable plan `zoo run --dry-run` prints."""
    params = model_lib.count_parameters(parts.model)
    loss = " + ".join(f"{term.weight:g} * {name}" for name, term in recipe.loss.items())
    lines = [
        f"recipe {recipe.name}: x{recipe.scale} super-resolution, run directory {workdir}",
        f"  train data   {recipe.data.train} ({len(parts.train_dataset)} images), "
        f"{f'resized to {recipe.data.resize}x{recipe.data.resize}, ' if recipe.data.resize else ''}"
        f"patch {recipe.data.patch}, batch {recipe.data.batch}",
        f"  eval data    {recipe.data.eval} ({len(parts.eval_dataset)} images)",
        f"  degradation  {recipe.degradation}"
        f"{'' if parts.degrade_jittable else ' (runs on the host)'}",
        f"  model        encoder {recipe.model.encoder}, decoder {recipe.model.decoder}, "
        f"input {recipe.model.input}"
        + (f" (upsampled by {recipe.model.upsample})" if recipe.model.input == "upsampled" else "")
        + (", global residual" if recipe.model.residual else "")
        + f"; {params:,} parameters",
        f"  loss         {loss}",
        f"  optimizer    {recipe.optimizer.name}, learning rate {recipe.optimizer.learning_rate:g}"
        f" ({recipe.optimizer.schedule.name} schedule)",
        f"  training     {recipe.train.steps} steps on {parts.mesh.size} device(s) "
        f"({jax.devices()[0].platform}), eval every {recipe.train.eval_every or 'end only'}, "
        f"checkpoint every {recipe.train.checkpoint_every or 'end only'}",
        f"  evaluation   {', '.join(recipe.eval.metrics)} under the {recipe.eval.convention} "
        f"convention, against {', '.join(recipe.eval.upscalers) or 'no upscalers'}",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# The compiled steps


@dataclass(frozen=True)
class Steps:
    """The jitted functions of one model and optimizer."""

    init: Callable[[], State]
    train: Callable[..., tuple[State, jax.Array]]
    predict: Callable[[State, jax.Array], jax.Array]


def loss_fn(
    params: nnx.State,
    graphdef: nnx.GraphDef,
    rest: nnx.State,
    lr: jax.Array,
    hr: jax.Array,
    key: jax.Array,
    loss: LossFn,
) -> jax.Array:
    model = nnx.merge(graphdef, params, rest)
    # Modules may add a penalty (the DLI net's L1 activity regulariser) during training calls.
    pred, penalty = model.forward(lr, key=key)
    return loss(pred, hr) + penalty


def train_step(
    state: State,
    hr: jax.Array,
    lr: jax.Array | None = None,
    *,
    graphdef: nnx.GraphDef,
    loss: LossFn,
    optimizer: optax.GradientTransformation,
    degrade: Callable[[jax.Array, jax.Array], jax.Array] | None,
) -> tuple[State, jax.Array]:
    """One optimizer step on a uint8 HR batch; ``lr`` only when degradation ran on the host."""
    # The key is stored as raw uint32 data so checkpoints hold a plain array.
    key, degrade_key, dropout_key = jax.random.split(jax.random.wrap_key_data(state["key"]), 3)
    hr = hr.astype(jnp.float32) / 255.0
    if lr is None:
        if degrade is None:
            raise ValueError("train_step needs lr when the degradation runs on the host")
        lr = degrade(hr, degrade_key)
    value, grads = jax.value_and_grad(loss_fn)(
        state["params"], graphdef, state["rest"], lr, hr, dropout_key, loss
    )
    updates, opt_state = optimizer.update(grads, state["opt_state"], state["params"])
    new_state = dict(
        state,
        params=optax.apply_updates(state["params"], updates),
        opt_state=opt_state,
        step=state["step"] + 1,
        key=jax.random.key_data(key),
    )
    return new_state, value


def eval_step(state: State, lr: jax.Array, *, graphdef: nnx.GraphDef) -> jax.Array:
    model = nnx.merge(graphdef, state["params"], state["rest"])
    return jnp.clip(model(lr), 0.0, 1.0)


def initial_state(
    model: nnx.Module, optimizer: optax.GradientTransformation, seed: int
) -> tuple[nnx.GraphDef, State]:
    """The model's graph and the full training state: parameters, optimizer, step, PRNG key."""
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)  # type: ignore[misc]
    state = {
        "params": params,
        "rest": rest,
        "opt_state": optimizer.init(params),
        "step": jnp.zeros((), jnp.int32),
        "key": jax.random.key_data(jax.random.key(seed)),
    }
    return graphdef, state


def compile_steps(
    model: nnx.Module,
    optimizer: optax.GradientTransformation,
    loss: LossFn,
    degrade: Callable[[jax.Array, jax.Array], jax.Array] | None,
    *,
    seed: int,
    mesh: Mesh | None = None,
) -> Steps:
    """The jitted train step (state donated) and predict step, and the replicated initial state.

    ``degrade`` runs inside the train step; pass None for a degradation that must run on the
    host, and hand its output to the step as ``lr``.
    """
    graphdef, state = initial_state(model, optimizer, seed)
    replicated = NamedSharding(mesh or make_mesh(), PartitionSpec())
    train = jax.jit(
        partial(train_step, graphdef=graphdef, loss=loss, optimizer=optimizer, degrade=degrade),
        donate_argnums=(0,),
    )
    predict = jax.jit(partial(eval_step, graphdef=graphdef))
    return Steps(init=lambda: jax.device_put(state, replicated), train=train, predict=predict)


def make_steps(parts: Parts) -> Steps:
    degrade = parts.degrade if parts.degrade_jittable else None
    return compile_steps(
        parts.model,
        parts.optimizer,
        parts.loss,
        degrade,
        seed=parts.recipe.train.seed,
        mesh=parts.mesh,
    )


# ---------------------------------------------------------------------------------------------
# The loop


@dataclass
class RunResult:
    workdir: Path
    steps: int
    evaluation: evaluate.Evaluation
    history: list[dict[str, float]]
    interrupted: bool = False


class Interrupted(ZooError):
    """Ctrl-C during training: a checkpoint was saved first."""

    exit_code = 130


def train_and_evaluate(
    recipe: recipe_lib.Recipe,
    workdir: Path,
    *,
    resume: bool = False,
    force: bool = False,
    progress: bool = True,
    devices: list[jax.Device] | None = None,
) -> RunResult:
    """Train ``recipe`` in ``workdir``, evaluate against the classic upscalers, write the report."""
    workdir = Path(workdir)
    parts = build_parts(recipe, devices)
    prepare_workdir(workdir, recipe, resume=resume, force=force)
    steps = make_steps(parts)
    sampler = data.PatchSampler(
        data.load_images(
            parts.train_dataset,
            minimum=recipe.data.patch,
            resize_to=recipe.data.resize,
            source=f"data.train ({recipe.data.train})",
        ),
        recipe.data.patch,
        recipe.data.batch,
        recipe.train.seed,
        recipe.data.augment,
    )
    eval_set = EvalSet.build(parts)
    state = steps.init()
    history: list[dict[str, float]] = []
    policy = checkpoint_policy(parts)
    if resume:
        start, state = checkpoint.restore(workdir, state)
        history = read_history(workdir, start)
    manager = checkpoint.open_manager(workdir, policy)
    batch_sharding = NamedSharding(parts.mesh, PartitionSpec("data"))
    host_degrade = None if parts.degrade_jittable else parts.degrade
    start = int(state["step"])
    interrupted = False
    bar = progress_bar(recipe.train.steps, start, enabled=progress)
    try:
        with interrupt_guard() as stop:
            for step in range(start, recipe.train.steps):
                hr = sampler.batch_at(step)
                lr = None
                if host_degrade is not None:
                    lr_key = jax.random.fold_in(jax.random.key(recipe.train.seed), step)
                    lr = np.asarray(host_degrade(jnp.asarray(hr, jnp.float32) / 255.0, lr_key))
                    lr = jax.device_put(lr, batch_sharding)
                state, loss_value = steps.train(state, jax.device_put(hr, batch_sharding), lr)
                done = step + 1
                bar.update(1)
                record: dict[str, float] | None = None
                if (
                    recipe.train.eval_every
                    and done % recipe.train.eval_every == 0
                    and done != recipe.train.steps
                ):
                    record = eval_set.model_means(steps, state, parts)
                # Reading the loss waits for the step, so it happens only on logged steps.
                if done % recipe.train.log_every == 0 or done == recipe.train.steps or record:
                    loss = float(loss_value)
                    bar.set_postfix(loss=f"{loss:.5f}")
                    history.append({"step": done, "loss": loss, **(record or {})})
                saved = False
                if (
                    recipe.train.checkpoint_every
                    and done % recipe.train.checkpoint_every == 0
                    and done != recipe.train.steps
                ):
                    save_state(manager, done, state, parts, history, record)
                    saved = True
                # Ctrl-C during the last step changes nothing: the run finishes and evaluates
                # (stopping there would save a final checkpoint that --resume refuses).
                if done != recipe.train.steps and stop():
                    interrupted = True
                    if not saved:  # Orbax refuses to save a step twice
                        save_state(manager, done, state, parts, history, record)
                    break
    finally:
        bar.close()
    if interrupted:
        manager.wait_until_finished()
        manager.close()
        raise Interrupted(
            f"interrupted at step {int(state['step'])}; a checkpoint is saved in "
            f"{checkpoint.checkpoint_dir(workdir)}; resume=True (--resume) continues the run."
        )
    evaluation = eval_set.full(steps, state, parts, keep_outputs=True)
    final_record = {f"eval_{k}": v for k, v in evaluation.results["model"].items()}
    history[-1].update(final_record)  # the last step is always logged
    save_state(manager, recipe.train.steps, state, parts, history, final_record)
    manager.wait_until_finished()
    manager.close()
    result = RunResult(workdir, recipe.train.steps, evaluation, history)
    write_outputs(result, parts, eval_set)
    return result


def checkpoint_policy(parts: Parts) -> checkpoint.Policy:
    best = parts.recipe.checkpoint.best
    higher = next((m.higher_is_better for m in parts.metrics if m.name == best), True)
    return checkpoint.Policy(
        keep=parts.recipe.checkpoint.keep,
        best_metric=f"eval_{best}" if best else None,
        higher_is_better=higher,
        async_save=parts.recipe.checkpoint.async_save,
    )


def save_state(
    manager: Any,
    step: int,
    state: State,
    parts: Parts,
    history: list[dict[str, float]],
    record: Mapping[str, float] | None,
) -> None:
    payload = recipe_payload(parts.recipe)
    payload["history"] = history
    checkpoint.save(manager, step, state, payload, metrics=dict(record) if record else None)


def recipe_payload(recipe: recipe_lib.Recipe) -> dict[str, Any]:
    """The resolved recipe with the zoo version and every plugin's distribution and version."""
    import zoo
    from zoo.listing import plugin_listing

    return {
        "recipe": recipe.model_dump(mode="json"),
        "zoo_version": zoo.__version__,
        "plugins": {
            item["name"]: {"distribution": item["distribution"], "version": item["version"]}
            for item in plugin_listing()
        },
        "jax_version": jax.__version__,
    }


def read_history(workdir: Path, step: int) -> list[dict[str, float]]:
    saved = checkpoint.read_recipe(workdir, step).get("history", [])
    return [entry for entry in saved if entry["step"] <= step]


def prepare_workdir(workdir: Path, recipe: recipe_lib.Recipe, *, resume: bool, force: bool) -> None:
    """Refuse to mix runs: resuming needs a compatible checkpoint; a fresh run an empty place."""
    latest = checkpoint.latest_step(workdir)
    if resume:
        if latest is None:
            raise ZooError(f"{workdir}: nothing to resume (no checkpoints); drop --resume.")
        saved = checkpoint.read_recipe(workdir, latest)["recipe"]
        differences = recipe_differences(saved, recipe.model_dump(mode="json"))
        if differences:
            raise RecipeError(
                f"{workdir}: the recipe differs from the one this run was started with "
                f"({'; '.join(differences[:3])}). Resume with the same recipe (train.steps may "
                "grow), or start a new run with another --workdir."
            )
        if latest >= recipe.train.steps:
            raise ZooError(
                f"{workdir}: the run already reached step {latest}; raise "
                f"train.steps above {latest} to train further."
            )
    elif latest is not None:
        if not force:
            raise ZooError(
                f"{workdir} already holds a run (checkpoint at step {latest}). Continue it with "
                "--resume, start afresh with --force (the old run is kept beside it), or choose "
                "another --workdir."
            )
        backup = workdir.with_name(f"{workdir.name}.{time.strftime('%Y%m%d-%H%M%S')}")
        shutil.move(workdir, backup)
        print(f"Moved the previous run to {backup}.", file=sys.stderr)
    workdir.mkdir(parents=True, exist_ok=True)
    write_json(workdir / "recipe.json", recipe_payload(recipe))


def recipe_differences(
    saved: Mapping[str, Any], current: Mapping[str, Any], prefix: str = ""
) -> list[str]:
    differences = []
    for key in sorted(set(saved) | set(current)):
        path = f"{prefix}{key}"
        if path in ("train.steps", "train.eval_every", "train.checkpoint_every", "train.log_every"):
            continue
        old, new = saved.get(key), current.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            differences += recipe_differences(old, new, f"{path}.")
        elif old != new:
            differences.append(f"{path}: {old!r} -> {new!r}")
    return differences


def write_json(path: Path, payload: Any) -> None:
    """Write JSON atomically: a reader sees the old file or the new one, never half of one."""
    temporary = path.with_name(f".{path.name}.tmp")
    text = json.dumps(evaluate.strict_json(payload), indent=2, default=float, allow_nan=False)
    temporary.write_text(text + "\n", encoding="utf-8")
    os.replace(temporary, path)


class interrupt_guard:
    """Turns the first Ctrl-C into a flag the loop checks after the current step."""

    def __enter__(self) -> Callable[[], bool]:
        self.flag = False
        self.previous = signal.getsignal(signal.SIGINT)

        def handler(signum: int, frame: Any) -> None:
            if self.flag:  # a second Ctrl-C means: stop now
                signal.signal(signal.SIGINT, self.previous)
                raise KeyboardInterrupt
            self.flag = True

        with contextlib.suppress(ValueError):  # not the main thread: leave Ctrl-C alone
            signal.signal(signal.SIGINT, handler)
        return lambda: self.flag

    def __exit__(self, *exc: Any) -> None:
        with contextlib.suppress(ValueError):
            signal.signal(signal.SIGINT, self.previous)


def progress_bar(total: int, start: int, *, enabled: bool) -> Any:
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        initial=start,
        disable=not enabled,
        unit="step",
        dynamic_ncols=True,
        desc="train",
        bar_format="{desc} {n_fmt}/{total_fmt} |{bar}| {postfix} [{rate_fmt}, {remaining} left]",
    )


# ---------------------------------------------------------------------------------------------
# Evaluation during and after training


@dataclass
class EvalSet:
    """The evaluation images with their fixed low-resolution versions."""

    names: list[str]
    hr: list[np.ndarray]
    lr: list[np.ndarray]
    single_channel: list[bool]

    @classmethod
    def build(cls, parts: Parts) -> EvalSet:
        recipe = parts.recipe
        names, images = data.eval_images(
            parts.eval_dataset,
            recipe.scale,
            limit=recipe.data.eval_images,
            crop=recipe.data.eval_crop,
            source=f"data.eval ({recipe.data.eval})",
        )
        hr = [data.to_float(image) for image in images]
        key = jax.random.fold_in(jax.random.key(recipe.train.seed), 2**31 - 1)
        lr = [
            np.asarray(parts.degrade(jnp.asarray(image)[None], jax.random.fold_in(key, i))[0])
            for i, image in enumerate(hr)
        ]
        return cls(names, hr, lr, data.single_channel_flags(parts.eval_dataset, len(names)))

    def score(
        self, systems: Mapping[str, evaluate.System], parts: Parts, *, keep_outputs: bool
    ) -> evaluate.Evaluation:
        return evaluate.evaluate(
            self.hr,
            self.lr,
            systems,
            parts.metrics,
            names=self.names,
            scale=parts.recipe.scale,
            convention=parts.recipe.eval.convention,
            degradation=str(parts.recipe.degradation),
            single_channel=self.single_channel,
            keep_outputs=keep_outputs,
        )

    def model_means(self, steps: Steps, state: State, parts: Parts) -> dict[str, float]:
        """The model's mean metrics, as history entries (``eval_psnr``, ...)."""
        model = {"model": model_system(steps, state, parts.recipe.scale)}
        results = self.score(model, parts, keep_outputs=False).results["model"]
        return {f"eval_{name}": value for name, value in results.items()}

    def full(
        self, steps: Steps, state: State, parts: Parts, *, keep_outputs: bool
    ) -> evaluate.Evaluation:
        """The model and every classic upscaler side by side."""
        systems: dict[str, evaluate.System] = dict(
            evaluate.upscaler_systems(parts.registry, parts.upscalers, parts.recipe.scale)
        )
        systems["model"] = model_system(steps, state, parts.recipe.scale)
        return self.score(systems, parts, keep_outputs=keep_outputs)


def model_system(steps: Steps, state: State, scale: int) -> evaluate.System:
    """The model as an evaluation system for images of any size (padded to its pooling grid)."""

    def predict(lr: np.ndarray) -> np.ndarray:
        return np.asarray(steps.predict(state, jnp.asarray(lr)[None])[0])

    def system(lr: jax.Array) -> jax.Array:
        whole = tiling.upscale_array(predict, np.asarray(lr[0]), scale, tile=None, overlap=0)
        return jnp.asarray(whole)[None]

    return system


def write_outputs(result: RunResult, parts: Parts, eval_set: EvalSet) -> None:
    from zoo import report

    payload = result.evaluation.to_json()
    payload["history"] = result.history
    payload["steps"] = result.steps
    write_json(result.workdir / "metrics.json", payload)
    report.write_report(
        result.workdir, parts.recipe, result.evaluation, result.history, eval_set.lr, eval_set.hr
    )


def run_from_cli(recipe: recipe_lib.Recipe, workdir: Path, *, resume: bool, force: bool) -> None:
    result = train_and_evaluate(recipe, workdir, resume=resume, force=force)
    print(evaluate.format_table(result.evaluation))
    print(
        f"\nWrote {workdir / 'report.html'}, {workdir / 'metrics.json'} and checkpoints in "
        f"{checkpoint.checkpoint_dir(workdir)}."
    )
