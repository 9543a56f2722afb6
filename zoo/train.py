"""Training in the Flax examples' shape: loss_fn, train_step, eval_step, train_and_evaluate.

The train step is one ``jax.jit``-compiled pure function of (state, HR batch) with donated
buffers: it splits the PRNG key carried in the state, degrades the batch (inside the compiled step
when the degradation is jittable), runs the model, and applies the optax update. The batch is
sharded over a ``jax.sharding.Mesh`` of all devices; parameters are replicated. The parts come
from zoo.assemble, the batches from zoo.train_input, the run directory from zoo.workdir,
checkpoints from zoo.checkpoint; a run that stops being finite ends in zoo.divergence.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from zoo import checkpoint, distributed, evaluate
from zoo import logs as logs_lib
from zoo import progress as progress_lib
from zoo import workdir as workdir_lib
from zoo.assemble import Parts, assemble, eval_set, make_mesh, model_system
from zoo.divergence import Diverged, check_finite
from zoo.evaluate import MODEL_SYSTEM
from zoo.interrupt import Interrupted, interrupt_guard
from zoo.optimizer import make_schedule
from zoo.precision import compute_in
from zoo.provenance import recipe_payload
from zoo.recipe import Recipe
from zoo.registry import get_registry
from zoo.state import State, all_finite, initial_state, predict
from zoo.train_input import global_batch, input_pipeline, validation_set

LossFn = Callable[[jax.Array, jax.Array], jax.Array]
Degrade = Callable[[jax.Array, jax.Array], jax.Array]

__all__ = ["Diverged", "Interrupted", "RunResult", "train_and_evaluate"]


def loss_fn(
    params: nnx.State,
    graphdef: nnx.GraphDef,
    rest: nnx.State,
    lr: jax.Array,
    hr: jax.Array,
    key: jax.Array,
    loss: LossFn,
    precision: str = "float32",
) -> jax.Array:
    model = compute_in(nnx.merge(graphdef, params, rest), precision)
    # Modules may add a penalty (the DLI net's L1 activity regulariser) during training calls.
    pred, penalty = model.forward(lr, key=key)
    # The loss itself is summed in float32 whatever the layers computed in.
    return loss(pred.astype(jnp.float32), hr) + jnp.asarray(penalty, jnp.float32)


def train_step(
    state: State,
    hr: jax.Array,
    lr: jax.Array | None = None,
    *,
    graphdef: nnx.GraphDef,
    loss: LossFn,
    optimizer: optax.GradientTransformation,
    degrade: Degrade | None,
    precision: str = "float32",
) -> tuple[State, jax.Array]:
    """One optimizer step on a uint8 HR batch; ``lr`` only when degradation ran on the host.
    ``precision``: what the layers compute in (``train.precision``)."""
    key, degrade_key, dropout_key = jax.random.split(jax.random.wrap_key_data(state["key"]), 3)
    hr = hr.astype(jnp.float32) / 255.0
    if lr is None:
        if degrade is None:
            raise ValueError("train_step needs lr when the degradation runs on the host")
        lr = degrade(hr, degrade_key)
    value, grads = jax.value_and_grad(loss_fn)(
        state["params"], graphdef, state["rest"], lr, hr, dropout_key, loss, precision
    )
    updates, opt_state = optimizer.update(grads, state["opt_state"], state["params"])
    # A non-finite loss or gradient leaves parameters and optimizer state as they were, so a
    # diverging run never holds (or saves) NaN; the host reads the flag when it logs.
    finite = jnp.isfinite(value) & all_finite(grads)
    step = state["step"] + 1
    new_state = dict(
        state,
        params=keep_if(finite, optax.apply_updates(state["params"], updates), state["params"]),
        opt_state=keep_if(finite, opt_state, state["opt_state"]),
        step=step,
        key=jax.random.key_data(key),
        first_nonfinite=jnp.where(
            (state["first_nonfinite"] < 0) & ~finite, step, state["first_nonfinite"]
        ),
        skipped=state["skipped"] + (~finite).astype(jnp.int32),
    )
    return new_state, value


def keep_if(condition: jax.Array, new: Any, old: Any) -> Any:
    """``new`` where ``condition`` holds, else ``old``, leaf by leaf."""
    return jax.tree.map(lambda n, o: jnp.where(condition, n, o), new, old)


def eval_step(
    steps: Steps, state: State, parts: Parts, images: evaluate.EvalSet, prefix: str = "eval"
) -> dict[str, float]:
    """The model's mean metrics on ``images``, as history entries: ``eval_psnr`` on data.eval,
    ``val_psnr`` (``prefix="val"``) on data.val."""
    return watch(steps, state, parts, images, prefix)[0]


def watch(
    steps: Steps, state: State, parts: Parts, images: evaluate.EvalSet, prefix: str = "eval"
) -> tuple[dict[str, float], evaluate.Evaluation]:
    """``eval_step``'s entries and the evaluation they came from, outputs kept (for crops)."""
    systems = {MODEL_SYSTEM: model_system(steps.lr_predict(state), parts.recipe.scale)}
    evaluation = score(images, systems, parts, keep_outputs=True)
    results = evaluation.results[MODEL_SYSTEM]
    return {f"{prefix}_{name}": value for name, value in results.items()}, evaluation


def score(
    images: evaluate.EvalSet,
    systems: Mapping[str, evaluate.System],
    parts: Parts,
    *,
    keep_outputs: bool = False,
) -> evaluate.Evaluation:
    return images.score(
        systems,
        parts.metrics,
        scale=parts.recipe.scale,
        convention=parts.recipe.eval.convention,
        degradation=str(parts.degradation),
        keep_outputs=keep_outputs,
    )


@dataclass(frozen=True)
class Steps:
    """The jitted functions of one model and optimizer."""

    init: Callable[[], State]
    train: Callable[..., tuple[State, jax.Array]]
    predict: Callable[[State, jax.Array], jax.Array]

    def lr_predict(self, state: State) -> Callable[[np.ndarray], np.ndarray]:
        """One float HWC LR image -> its HR prediction, with ``state``'s parameters."""
        return lambda lr: np.asarray(self.predict(state, jnp.asarray(lr)[None])[0])


def compile_steps(
    model: nnx.Module,
    optimizer: optax.GradientTransformation,
    loss: LossFn,
    degrade: Degrade | None,
    *,
    seed: int,
    mesh: Mesh | None = None,
    precision: str = "float32",
) -> Steps:
    """The jitted train step (state donated) and predict step, and the replicated initial state.

    ``degrade`` runs inside the train step; pass None for a degradation that must run on the
    host, and hand its output to the step as ``lr``. ``precision`` applies to the train step
    only: evaluation and prediction compute in float32, so the reported numbers are exact.
    """
    graphdef, state = initial_state(model, optimizer, seed)
    replicated = NamedSharding(mesh or make_mesh(), PartitionSpec())
    train = jax.jit(
        partial(
            train_step,
            graphdef=graphdef,
            loss=loss,
            optimizer=optimizer,
            degrade=degrade,
            precision=precision,
        ),
        donate_argnums=(0,),
    )
    return Steps(
        init=lambda: jax.device_put(state, replicated),
        train=train,
        predict=jax.jit(partial(predict, graphdef=graphdef)),
    )


@dataclass
class RunResult:
    workdir: Path
    steps: int
    evaluation: evaluate.Evaluation
    history: list[dict[str, float]]
    interrupted: bool = False
    skipped: int = 0
    """Steps whose loss or gradient was not finite, skipped (``train.on_nonfinite: skip``)."""
    step: int | None = None
    """The step whose parameters ``evaluation`` scored: the one ``zoo.load`` restores."""
    selected: str = "last"
    """How that step was chosen: ``last``, or ``best by val_psnr``."""


def train_and_evaluate(
    recipe: Recipe,
    workdir: Path,
    *,
    resume: bool = False,
    force: bool = False,
    progress: bool = True,
    devices: list[jax.Device] | None = None,
    source: str = "recipe",
) -> RunResult:
    """Train ``recipe`` in ``workdir``, evaluate against the classic upscalers, write the report.

    ``source`` names the recipe (its file) in errors about its parts.
    """
    workdir = Path(workdir)
    parts = assemble(recipe, get_registry(), devices=devices, source=source)
    distributed.check_same_recipe(json.dumps(recipe_payload(recipe), sort_keys=True))
    with contextlib.ExitStack() as held:
        # In a multi-process job process 0 owns the run directory; the others wait for it.
        distributed.on_main(lambda: held.enter_context(workdir_lib.locked(workdir)))
        latest = workdir_lib.check(workdir, recipe, resume=resume, force=force)
        distributed.on_main(
            lambda: workdir_lib.prepare(workdir, recipe, resume=resume, latest=latest)
        )
        return run_in(workdir, parts, resume=resume, progress=progress and distributed.is_main())


def run_in(workdir: Path, parts: Parts, *, resume: bool, progress: bool) -> RunResult:
    """Train and evaluate ``parts`` in a prepared (and locked) run directory."""
    recipe = parts.recipe
    degradation = parts.degradation
    steps = compile_steps(
        parts.model,
        parts.optimizer,
        parts.loss,
        degradation.fn if degradation.jittable else None,
        seed=recipe.train.seed,
        mesh=parts.mesh,
        precision=recipe.train.precision,
    )
    images = eval_set(
        parts.eval_dataset,
        degradation,
        recipe.scale,
        limit=recipe.data.eval_images,
        crop=recipe.data.eval_crop,
        source=f"data.eval ({recipe.data.eval})",
    )
    val_images = validation_set(parts)
    # What periodic evaluation scores: data.val, which chooses the checkpoint, or else data.eval,
    # only to watch training (nothing is chosen by it).
    watched, prefix = (images, "eval") if val_images is None else (val_images, "val")
    state = steps.init()
    history: list[dict[str, float]] = []
    data_state = None
    if resume:
        loaded = checkpoint.load(workdir, lambda payload: state)
        state, data_state = loaded.state, loaded.data
        history = workdir_lib.history_until(loaded.payload, loaded.step)
        later = [s for s in loaded.damaged if s > loaded.step]
        distributed.on_main(lambda: checkpoint.set_aside(workdir, later))
    elif recipe.init_from is not None:
        from zoo import reuse

        state = reuse.initialize(state, parts, workdir)
    policy = checkpoint.policy_for(recipe, parts.registry)
    manager = checkpoint.open_manager(workdir, policy)
    with contextlib.closing(logs_lib.open_logs(parts, workdir, int(state["step"]))) as logs:
        return finish_run(
            workdir,
            parts,
            steps,
            state,
            history,
            manager,
            policy,
            logs,
            images=images,
            watched=watched,
            prefix=prefix,
            data_state=data_state,
            val_images=val_images,
            progress=progress,
        )


def finish_run(
    workdir: Path,
    parts: Parts,
    steps: Steps,
    state: State,
    history: list[dict[str, float]],
    manager: Any,
    policy: checkpoint.Policy,
    logs: logs_lib.Logs,
    *,
    images: evaluate.EvalSet,
    watched: evaluate.EvalSet,
    prefix: str,
    data_state: dict[str, Any] | None,
    val_images: evaluate.EvalSet | None,
    progress: bool,
) -> RunResult:
    """Train the rest of the steps, evaluate the chosen step, write the results."""
    recipe = parts.recipe
    try:
        state, interrupted, data_state = train_loop(
            steps,
            state,
            parts,
            watched,
            manager,
            history,
            progress,
            prefix=prefix,
            data_state=data_state,
            logs=logs,
        )
    except Diverged:
        checkpoint.finish(manager)  # the last good checkpoint, if one was being written
        raise
    if interrupted:
        checkpoint.finish(manager)
        raise Interrupted(
            f"interrupted at step {int(state['step'])}; a checkpoint is saved in "
            f"{checkpoint.checkpoint_dir(workdir)}; resume=True continues the run."
        )

    def compare(chosen: State) -> evaluate.Evaluation:
        model = model_system(steps.lr_predict(chosen), recipe.scale)
        return score(images, {**parts.upscalers, MODEL_SYSTEM: model}, parts, keep_outputs=True)

    # The last step is always validated (or, without data.val, evaluated: that evaluation is
    # then the result too, the last step being the one reported).
    evaluation = compare(state) if val_images is None else None
    if evaluation is not None:
        final_record = {f"eval_{k}": v for k, v in evaluation.results[MODEL_SYSTEM].items()}
        final_evaluation = evaluation
    else:
        final_record, final_evaluation = watch(steps, state, parts, watched, prefix)
    history[-1].update(final_record)  # the last step is always logged
    logs.finish(final_record)
    logs.images(recipe.train.steps, logs_lib.pictures(final_evaluation, watched, prefix))
    # A resumed run that had saved its final step but not its outputs only writes them.
    if manager.latest_step() != recipe.train.steps:
        save_state(
            manager, recipe.train.steps, state, recipe, history, final_record, data=data_state
        )
    checkpoint.finish(manager)  # a failed save raises checkpoint.CheckpointWriteError
    skipped = int(state["skipped"])
    # data.eval scores the step zoo.load restores, chosen by the same rule from the same files.
    step, selected = checkpoint.select_step(workdir, checkpoint.default_step_rule(recipe), policy)
    if step != int(state["step"]):
        loaded = checkpoint.load(workdir, lambda payload: state, prefer=step)
        if loaded.step != step:
            selected = f"step {loaded.step} (the newest intact one)"
        step, state, evaluation = loaded.step, loaded.state, None
    if evaluation is None:
        evaluation = compare(state)
    chosen = evaluation
    distributed.on_main(
        lambda: workdir_lib.write_results(
            workdir, recipe, chosen, history, images, skipped=skipped, step=step, selected=selected
        )
    )
    return RunResult(
        workdir,
        recipe.train.steps,
        evaluation,
        history,
        skipped=skipped,
        step=step,
        selected=selected,
    )


def train_loop(
    steps: Steps,
    state: State,
    parts: Parts,
    images: evaluate.EvalSet,
    manager: Any,
    history: list[dict[str, float]],
    progress: bool,
    *,
    prefix: str = "eval",
    data_state: dict[str, Any] | None = None,
    logs: logs_lib.Logs | None = None,
) -> tuple[State, bool, dict[str, Any]]:
    """Train from the state's step to ``train.steps``, logging into ``history`` and saving on
    the recipe's cadence; returns the state, whether Ctrl-C stopped it (after a save), and the
    input pipeline's position. ``data_state``: the position a resumed checkpoint saved.

    Every ``train.eval_every`` steps ``images`` are scored (``prefix``: ``val`` for data.val);
    with checkpoint.best each such step is saved too, so the best can be any validated step."""
    recipe, train = parts.recipe, parts.recipe.train
    batch_sharding = NamedSharding(parts.mesh, PartitionSpec("data"))
    feed = input_pipeline(parts, batch_sharding, int(state["step"]), data_state)
    bar = progress_lib.steps_bar(train.steps, int(state["step"]), enabled=progress)
    logs = logs or logs_lib.Logs([])
    learning_rate = make_schedule(recipe.optimizer, train.steps)
    clock = logs_lib.StepClock(int(state["step"]))

    def save(done: int, record: Mapping[str, float] | None) -> None:
        check_finite(state, recipe, history, manager)
        save_state(manager, done, state, recipe, history, record, data=feed.state())

    try:
        with interrupt_guard() as stop:
            for step in range(int(state["step"]), train.steps):
                rows = next(feed)
                hr = global_batch(batch_sharding, rows["hr"], recipe.data.batch)
                lr = (
                    global_batch(batch_sharding, rows["lr"], recipe.data.batch)
                    if "lr" in rows
                    else None
                )
                state, loss_value = steps.train(state, hr, lr)
                done = step + 1
                bar.update(1)
                last = done == train.steps
                record = None
                if train.eval_every and done % train.eval_every == 0 and not last:
                    with clock.paused():
                        record, evaluation = watch(steps, state, parts, images, prefix)
                    logs.images(done, logs_lib.pictures(evaluation, images, prefix))
                # Reading the loss waits for the step, so it happens only on logged steps.
                if done % train.log_every == 0 or last or record:
                    loss = float(loss_value)
                    check_finite(state, recipe, history, manager)
                    bar.set_postfix(loss=f"{loss:.5f}")
                    history.append({"step": done, "loss": loss, **(record or {})})
                    timing = {
                        "learning_rate": float(learning_rate(done - 1)),
                        "step_time_s": clock.seconds_per_step(done),
                    }
                    logs.entry(history[-1], timing, hold=last)  # the final evaluation joins last
                saved = False
                due = bool(train.checkpoint_every and done % train.checkpoint_every == 0)
                if (due or (record and recipe.checkpoint.best)) and not last:
                    save(done, record)
                    saved = True
                # Ctrl-C during the last step changes nothing: the run finishes and evaluates
                # (stopping there would save a final checkpoint that --resume refuses).
                if not last and distributed.agree_to_stop(stop()):
                    if not saved:  # Orbax refuses to save a step twice
                        save(done, record)
                    return state, True, feed.state()
        return state, False, feed.state()
    finally:
        bar.close()
        feed.close()


def save_state(
    manager: Any,
    step: int,
    state: State,
    recipe: Recipe,
    history: list[dict[str, float]],
    record: Mapping[str, float] | None,
    data: dict[str, Any] | None = None,
) -> None:
    payload = recipe_payload(recipe, params=state["params"])
    payload["history"] = history
    metrics = dict(record) if record else None
    checkpoint.save(manager, step, state, payload, metrics=metrics, data=data)
