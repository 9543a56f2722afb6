"""train.precision: zoo's production train step in bf16 against the same step in float32.

    python benchmarks/precision.py                        # recipes/ae_x2.yaml's network and batch
    python benchmarks/precision.py --recipe recipes/dli.yaml --batch 4 --size 64 --json

Both steps come from zoo.train.compile_steps for one recipe (the same model, optimizer, loss and
batch); only ``precision`` differs. They alternate within each repeat, so a change in the
machine's load hits both alike; the median of the repeats is reported, with the ratio
bf16 / float32 (below 1: bf16 is faster) and the loss each reached after the same steps.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import jax
import numpy as np

from zoo import assemble, train
from zoo import recipe as recipe_lib
from zoo.registry import get_registry

REPO = Path(__file__).resolve().parents[1]
WARMUP_STEPS = 2  # the first compiles; not timed
PRECISIONS = ("float32", "bf16")


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", type=Path, default=REPO / "recipes" / "ae_x2.yaml")
    parser.add_argument("--batch", type=int, default=None, help="default: the recipe's")
    parser.add_argument("--size", type=int, default=None, help="HR patch side (the recipe's)")
    parser.add_argument("--steps", type=int, default=5, help="timed steps per repeat (5)")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats (5)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        print(f"precision.py: ignoring {' '.join(unknown)}", file=sys.stderr)
    return args


def make_step(recipe: recipe_lib.Recipe, precision: str):
    parts = assemble.assemble(recipe, get_registry(), devices=jax.devices()[:1])
    degrade = parts.degradation.fn if parts.degradation.jittable else None
    if degrade is None:
        raise SystemExit(f"{recipe.name}: the benchmark needs a jittable degradation.")
    compiled = train.compile_steps(
        parts.model, parts.optimizer, parts.loss, degrade, seed=0, precision=precision
    )
    holder = {"state": compiled.init()}

    def step(batch: jax.Array) -> jax.Array:
        holder["state"], loss = compiled.train(holder["state"], batch)
        return loss

    return step


def measure(args: argparse.Namespace) -> dict:
    overrides = [f"data.batch={args.batch}"] if args.batch else []
    overrides += [f"data.patch={args.size}"] if args.size else []
    recipe = recipe_lib.load(args.recipe, overrides)
    shape = (recipe.data.batch, recipe.data.patch, recipe.data.patch, 3)
    batch = jax.device_put(np.random.default_rng(0).integers(0, 256, shape, dtype=np.uint8))
    steps = {precision: make_step(recipe, precision) for precision in PRECISIONS}
    losses = {}
    for precision, step in steps.items():
        for _ in range(WARMUP_STEPS):
            losses[precision] = float(step(batch))
    seconds: dict[str, list[float]] = {precision: [] for precision in PRECISIONS}
    for _ in range(args.repeats):
        for precision, step in steps.items():
            start = time.perf_counter()
            for _ in range(args.steps):
                loss = step(batch)
            losses[precision] = float(loss)  # waits for the step
            seconds[precision].append((time.perf_counter() - start) / args.steps)
    median = {precision: statistics.median(values) for precision, values in seconds.items()}
    return {
        "recipe": str(args.recipe),
        "batch": recipe.data.batch,
        "size": recipe.data.patch,
        "device": jax.devices()[0].device_kind,
        "seconds_per_step": median,
        "repeats": seconds,
        "ratio_bf16_over_float32": median["bf16"] / median["float32"],
        "loss_after": losses,
    }


def report(result: dict) -> str:
    lines = [
        f"{result['recipe']}: train step, batch {result['batch']} of {result['size']}px, "
        f"{result['device']}",
    ]
    for precision in PRECISIONS:
        lines.append(
            f"  {precision:<8} {result['seconds_per_step'][precision]:.4f} s/step "
            f"(loss after the same steps {result['loss_after'][precision]:.6f})"
        )
    lines.append(f"  bf16 / float32: {result['ratio_bf16_over_float32']:.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    result = measure(args)
    print(json.dumps(result, indent=2) if args.json else report(result))


if __name__ == "__main__":
    main()
