"""Input pipeline or train step: which one sets the pace? Times each alone, then both together.

    python benchmarks/pipeline.py                     # recipes/ae_x2.yaml with blur_noise_jpeg
    python benchmarks/pipeline.py --degradation bicubic --steps 20 --repeats 3
    python benchmarks/pipeline.py --workers 2         # the map in two worker processes

- map: one batch made serially (cut the patches, run the host-side degradation), as a worker
  or thread does it;
- step: the compiled train step alone, on a batch made beforehand;
- together: the training loop's own path (the Grain pipeline prefetching, the global batch
  placed, the step), seconds per step.

When `together` is within 10% of `step`, the pipeline keeps up and the step is the bottleneck;
above that, the step waits for data and the pipeline is. Medians of ``--repeats``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import jax
from jax.sharding import NamedSharding, PartitionSpec

from zoo import recipe as recipe_lib
from zoo import train, train_input
from zoo.assemble import assemble
from zoo.registry import get_registry

REPO = Path(__file__).resolve().parents[1]


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", default=str(REPO / "recipes" / "ae_x2.yaml"))
    parser.add_argument("--degradation", default="blur_noise_jpeg", help="(blur_noise_jpeg)")
    parser.add_argument("--steps", type=positive, default=10, help="timed steps per repeat (10)")
    parser.add_argument("--repeats", type=positive, default=3, help="timed repeats (3)")
    parser.add_argument("--workers", type=int, default=0, help="data.workers (0: threads)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    return parser.parse_args()


def median_seconds(run, repeats: int, count: int) -> float:
    """Median over ``repeats`` of the seconds per call of ``run(count)``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run(count)
        times.append((time.perf_counter() - start) / count)
    return statistics.median(times)


def main() -> None:
    args = parse_args()
    total = (args.repeats + 1) * args.steps * 3 + 8
    overrides = [
        f"degradation={args.degradation}",
        f"data.workers={args.workers}",
        f"train.steps={total}",
    ]
    recipe = recipe_lib.load(args.recipe, overrides)
    parts = assemble(recipe, get_registry())
    degradation = parts.degradation
    steps = train.compile_steps(
        parts.model,
        parts.optimizer,
        parts.loss,
        degradation.fn if degradation.jittable else None,
        seed=recipe.train.seed,
        mesh=parts.mesh,
    )
    sharding = NamedSharding(parts.mesh, PartitionSpec("data"))
    feed = train_input.input_pipeline(parts, sharding, 0, None)
    batch_at = feed.batch_at
    made = iter(range(total, 10 * total))  # steps the timed map makes, past the run's own

    def map_batches(count: int) -> None:
        for _ in range(count):
            batch_at(next(made))

    def place(rows):
        hr = train_input.global_batch(sharding, rows["hr"], recipe.data.batch)
        lr = None
        if "lr" in rows:
            lr = train_input.global_batch(sharding, rows["lr"], recipe.data.batch)
        return hr, lr

    state = steps.init()
    fixed = place(next(feed))
    for _ in range(2):  # compile and warm up
        state, loss = steps.train(state, *fixed)
    jax.block_until_ready(loss)

    def step_alone(count: int) -> None:
        nonlocal state
        for _ in range(count):
            state, loss = steps.train(state, *fixed)
        jax.block_until_ready(loss)

    def together(count: int) -> None:
        nonlocal state
        for _ in range(count):
            state, loss = steps.train(state, *place(next(feed)))
        jax.block_until_ready(loss)

    try:
        result = {
            "recipe": recipe.name,
            "degradation": str(degradation),
            "host_degradation": not degradation.jittable,
            "batch": recipe.data.batch,
            "patch": recipe.data.patch,
            "workers": args.workers,
            "prefetch": recipe.data.prefetch,
            "map_s": median_seconds(map_batches, args.repeats, args.steps),
            "step_s": median_seconds(step_alone, args.repeats, args.steps),
            "together_s": median_seconds(together, args.repeats, args.steps),
        }
    finally:
        feed.close()
    # Fed by the pipeline, a step that takes over 10% longer than alone is waiting for data.
    slower = "pipeline" if result["together_s"] > 1.1 * result["step_s"] else "step"
    result["bottleneck"] = slower
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"{result['recipe']} with {result['degradation']}, batch {result['batch']} of "
        f"{result['patch']}x{result['patch']}, data.workers={args.workers}"
    )
    for key, label in (
        ("map_s", "map (one batch, serial)"),
        ("step_s", "train step alone"),
        ("together_s", "pipeline + step"),
    ):
        print(f"  {label:<26} {result[key]:.4f} s")
    print(f"  bottleneck: the {slower}")


if __name__ == "__main__":
    main()
