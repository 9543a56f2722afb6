"""Train-step throughput: zoo's production step (JAX, CPU) against the same network in PyTorch.

    python benchmarks/train_step.py                          # the DLI network, batch 16 of 64 px
    python benchmarks/train_step.py --batch 10 --size 256    # the course's own training shape
    python benchmarks/train_step.py --network ae_x2          # recipes/ae_x2.yaml's, batch 8 of 64

Both sides run the same network, loss and optimizer on the same batch, alternating within each
repeat; the report gives each side's seconds per step, their ratio, and the GFLOP/s each reaches
(XLA's count of the step's floating-point operations over its time, the same count for both)
next to a float32 matrix multiply timed in the same run, the machine's practical peak.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import torch
import torch_dli
import torch_resnet
from flax import nnx
from torch import nn

from zoo import assemble, train
from zoo import model as model_lib
from zoo import recipe as recipe_lib
from zoo.registry import get_registry

REPO = Path(__file__).resolve().parents[1]
SCALE = 2
ACTIVITY_L1 = 1e-9  # the course's activity regulariser, the dli plugins' default
MATMUL_SIZE = 2048
# network: (recipe, parameters, default batch, default HR size, description)
NETWORKS = {
    # REFERENCE.md: the whole DLI model
    "dli": ("dli.yaml", 1_110_403, 16, 64, "DLI network, upsampled input"),
    "ae_x2": ("ae_x2.yaml", 161_580, 8, 64, "ae_x2 network, lr input + bicubic residual"),
}
WARMUP_STEPS = 2  # the first compiles (JAX) or allocates (PyTorch); neither is timed
Step = Callable[[np.ndarray], Any]


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The options; unknown ones are reported and ignored.

    `nox -s bench -- ARGS` passes the same ARGS to every benchmark script.
    """
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--network", choices=sorted(NETWORKS), default="dli", help="the network (dli)"
    )
    parser.add_argument("--batch", type=positive, help="images per step (dli 16, ae_x2 8)")
    parser.add_argument("--size", type=positive, help="HR patch side, 4 | size (64)")
    parser.add_argument("--steps", type=positive, default=3, help="timed steps per repeat (3)")
    parser.add_argument("--repeats", type=positive, default=5, help="timed repeats (5)")
    parser.add_argument(
        "--threads", type=positive, help="CPU threads for both (default: every CPU JAX may use)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        print(f"train_step.py: ignoring {' '.join(unknown)}", file=sys.stderr)
    _, _, batch, size, _ = NETWORKS[args.network]
    args.batch, args.size = args.batch or batch, args.size or size
    if args.size % 4:
        parser.error(f"--size must be a multiple of 4 (x2 degradation, two poolings): {args.size}")
    return args


def usable_cpus() -> list[int]:
    if hasattr(os, "sched_getaffinity"):
        return sorted(os.sched_getaffinity(0))
    return list(range(os.cpu_count() or 1))


def match_threads(requested: int | None) -> int:
    """Give JAX and PyTorch the same number of CPU threads, and return it.

    XLA's CPU client runs a computation on a pool of one thread per CPU the process may use (its
    affinity mask) and ignores OMP_NUM_THREADS, so JAX gets fewer threads only by pinning the
    process to fewer CPUs, which must happen before its first computation creates that client.
    PyTorch then gets the same count through torch.set_num_threads.
    """
    cpus = usable_cpus()
    threads = requested or len(cpus)
    if threads > len(cpus):
        raise SystemExit(f"--threads {threads}: this process may use only {len(cpus)} CPUs.")
    if threads < len(cpus):
        if not hasattr(os, "sched_setaffinity"):
            raise SystemExit("--threads below the CPU count needs os.sched_setaffinity (Linux).")
        os.sched_setaffinity(0, cpus[:threads])
    torch.set_num_threads(threads)
    return threads


def random_batch(batch: int, size: int) -> np.ndarray:
    """A uint8 NHWC batch, as zoo.data.PatchSampler gives the train step."""
    return np.random.default_rng(0).integers(0, 256, (batch, size, size, 3), dtype=np.uint8)


# ---------------------------------------------------------------------------------------------
# zoo


def adds_penalty(
    model: model_lib.SuperResolver, loss: train.LossFn, degrade: Callable, hr: np.ndarray
) -> bool:
    """Whether zoo.train.loss_fn adds the model's sown penalty (DLI: activity L1) to the loss."""
    graphdef, params, rest = nnx.split(model, nnx.Param, ...)
    key = jax.random.key(1)
    target = jnp.asarray(hr, jnp.float32) / 255.0
    lr = degrade(target, key)
    value = train.loss_fn(params, graphdef, rest, lr, target, key, loss)
    prediction, penalty = model.forward(lr, key=key)
    plain = loss(prediction, target)
    return bool(abs(value - plain - penalty) < abs(value - plain))


def zoo_step(network: str, steps: int, hr: np.ndarray) -> tuple[Step, int, bool, float]:
    """The production step from zoo.train.compile_steps: state donated, degradation inside.

    Returns the step as a function of the host batch, the model's parameter count, whether the
    production loss includes the model's activity penalty, and XLA's FLOP count of one step.
    """
    batch, size = hr.shape[0], hr.shape[1]
    recipe = recipe_lib.load(
        REPO / "recipes" / NETWORKS[network][0],
        [f"data.batch={batch}", f"data.patch={size}", f"train.steps={steps}"],
    )
    parts = assemble.assemble(recipe, get_registry(), devices=jax.devices()[:1])
    model, optimizer, loss = parts.model, parts.optimizer, parts.loss
    degrade = parts.degradation.fn
    penalty = adds_penalty(model, loss, degrade, hr)
    compiled = train.compile_steps(model, optimizer, loss, degrade, seed=0, mesh=parts.mesh)
    holder = {"state": compiled.init()}
    cost = compiled.train.lower(holder["state"], jax.device_put(hr)).compile().cost_analysis()
    flops = float((cost[0] if isinstance(cost, list) else cost).get("flops", 0.0))

    def step(batch: np.ndarray) -> Any:
        holder["state"], value = compiled.train(holder["state"], jax.device_put(batch))
        return holder["state"], value

    return step, model_lib.count_parameters(model), penalty, flops


# ---------------------------------------------------------------------------------------------
# PyTorch


def torch_step(network: str, activity_l1: float) -> tuple[Step, int]:
    """The PyTorch peer's train step as a function of the host NCHW batch; its parameter count."""
    torch.manual_seed(0)
    if network == "dli":
        peer: Any = torch_dli
        model: nn.Module = torch_dli.DLI(activity_l1=activity_l1).train()
    else:
        peer, model = torch_resnet, torch_resnet.ResNetSR(scale=SCALE).train()
    optimizer = peer.make_optimizer(model)
    loss = nn.MSELoss()

    def step(batch: np.ndarray) -> Any:
        return peer.train_step(model, optimizer, loss, torch.from_numpy(batch), SCALE)

    return step, torch_dli.count_parameters(model)


def matmul_gflops(repeats: int) -> float:
    """A float32 matrix multiply's GFLOP/s under XLA on this machine, best of ``repeats``."""
    a = jnp.ones((MATMUL_SIZE, MATMUL_SIZE), jnp.float32)
    product = jax.jit(jnp.matmul)
    jax.block_until_ready(product(a, a))
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(product(a, a))
        best = min(best, time.perf_counter() - start)
    return 2 * MATMUL_SIZE**3 / best / 1e9


# ---------------------------------------------------------------------------------------------
# Timing and reporting


def time_sides(sides: list[tuple[Step, np.ndarray]], steps: int, repeats: int) -> list[list[float]]:
    """Seconds for ``steps`` steps of each side, ``repeats`` times, after the warm-up steps.

    The sides alternate within each repeat, so a change in the machine's load hits both alike.
    """
    for step, batch in sides:
        for _ in range(WARMUP_STEPS):
            jax.block_until_ready(step(batch))
    seconds: list[list[float]] = [[] for _ in sides]
    for _ in range(repeats):
        for (step, batch), record in zip(sides, seconds, strict=True):
            start = time.perf_counter()
            for _ in range(steps):
                out = step(batch)
            jax.block_until_ready(out)  # JAX dispatches asynchronously; PyTorch on CPU does not
            record.append(time.perf_counter() - start)
    return seconds


def summary(
    name: str, parameters: int, seconds: list[float], flops: float, args: argparse.Namespace
) -> dict:
    median = statistics.median(seconds)
    return {
        "name": name,
        "parameters": parameters,
        "seconds_per_repeat": [round(s, 4) for s in seconds],
        "seconds_per_step": median / args.steps,
        "images_per_second": args.batch * args.steps / median,
        "gflops": flops * args.steps / median / 1e9,
    }


def check_parameters(network: str, counts: dict[str, int]) -> None:
    """Both sides must be the same network: stop before timing anything else."""
    expected = NETWORKS[network][1]
    wrong = [f"{name} has {count:,}" for name, count in counts.items() if count != expected]
    if wrong:
        raise SystemExit(
            f"the {network} network has {expected:,} parameters, but {'; '.join(wrong)}."
        )


def report(result: dict) -> str:
    lines = [
        f"{NETWORKS[result['network']][4]} train step (x{SCALE}): batch {result['batch']} of "
        f"{result['size']}x{result['size']} RGB, {result['threads']} CPU thread(s), "
        f"median of {result['repeats']} x {result['steps']} steps, "
        f"{result['flops_per_step'] / 1e9:,.1f} GFLOP a step",
        "  activity L1 penalty in the loss: "
        + ("yes, in both" if result["activity_l1_in_loss"] else "no (not in zoo.train's loss)"),
    ]
    for side in (result["zoo"], result["torch"]):
        lines.append(
            f"  {side['name']:<24} {side['parameters']:>10,} parameters "
            f"{side['images_per_second']:>9.2f} images/s {side['seconds_per_step']:>8.3f} s/step"
            f" {side['gflops']:>7.1f} GFLOP/s"
        )
    lines.append(f"  ratio zoo/torch {result['ratio']:.2f} (above 1: zoo is faster)")
    lines.append(
        f"  float32 matmul {MATMUL_SIZE}x{MATMUL_SIZE} under XLA: {result['matmul_gflops']:.1f}"
        " GFLOP/s (the machine's practical peak, same run)"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    jax.config.update("jax_platforms", "cpu")  # the peer is PyTorch on the CPU
    threads = match_threads(args.threads)
    batch = random_batch(args.batch, args.size)
    zoo, zoo_parameters, penalty, flops = zoo_step(args.network, args.steps, batch)
    peer, torch_parameters = torch_step(args.network, ACTIVITY_L1 if penalty else 0.0)
    check_parameters(args.network, {"zoo": zoo_parameters, "torch": torch_parameters})
    nchw = np.ascontiguousarray(batch.transpose(0, 3, 1, 2))
    zoo_seconds, torch_seconds = time_sides([(zoo, batch), (peer, nchw)], args.steps, args.repeats)
    zoo_name, torch_name = f"zoo (jax {jax.__version__})", f"torch {torch.__version__}"
    result = {
        "benchmark": f"{args.network}_train_step",
        "network": args.network,
        **{k: getattr(args, k) for k in ("batch", "size", "steps", "repeats")},
        "threads": threads,
        "activity_l1_in_loss": penalty,
        "flops_per_step": flops,
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "zoo": summary(zoo_name, zoo_parameters, zoo_seconds, flops, args),
        "torch": summary(torch_name, torch_parameters, torch_seconds, flops, args),
        "matmul_gflops": matmul_gflops(args.repeats),
    }
    result["ratio"] = result["zoo"]["images_per_second"] / result["torch"]["images_per_second"]
    print(json.dumps(result, indent=2) if args.json else report(result))


if __name__ == "__main__":
    main()
