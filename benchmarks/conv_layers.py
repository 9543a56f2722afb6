"""Where a DLI train step's time goes: each convolution, forward and backward, JAX against PyTorch.

    python benchmarks/conv_layers.py                        # batch 4 of 128 px
    python benchmarks/conv_layers.py --batch 10 --size 256  # the course's training shape
    python benchmarks/conv_layers.py --lax                  # XLA's own gradients, for comparison
    XLA_FLAGS=--xla_cpu_experimental_ynn_fusion_type=+individual_convolution \
        python benchmarks/conv_layers.py                    # YNNPACK convolutions (jaxlib 0.10)

Every 3x3 convolution of the DLI network (REFERENCE.md) at the resolution it runs at, timed
alone: the forward pass, and the backward pass (the gradients with respect to the input and the
kernel, what a train step needs). JAX runs the convolution zoo's designs use
(``zoo_autoencoder.cpu_conv``: lax's forward pass, tap products for the kernel gradient; with
``--lax``, plain ``jax.lax.conv_general_dilated``) in NHWC under ``jax.jit`` with the
environment's XLA_FLAGS (printed); PyTorch runs
``torch.nn.functional.conv2d`` in NCHW eagerly. The two sides alternate within each repeat and
the median is reported, with GFLOP/s (2 x multiply-adds, the same count for both; the backward
pass is twice the forward's).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import torch
import torch.nn.functional as F

from zoo_autoencoder import cpu_conv

# name, input channels, output channels, resolution divisor (REFERENCE.md's DLI layers, width 64)
LAYERS = [
    ("l1", 3, 64, 1),
    ("l2", 64, 64, 1),
    ("l4", 64, 128, 2),
    ("l5", 128, 128, 2),
    ("l7", 128, 256, 4),
    ("l9", 256, 128, 2),
    ("l10", 128, 128, 2),
    ("l13", 128, 64, 1),
    ("l14", 64, 64, 1),
    ("out", 64, 3, 1),
]
Timed = Callable[[], Any]


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=4, help="images (4)")
    parser.add_argument("--size", type=int, default=128, help="the network's input side (128)")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats (5)")
    parser.add_argument("--lax", action="store_true", help="time lax.conv_general_dilated's VJP")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        print(f"conv_layers.py: ignoring {' '.join(unknown)}", file=sys.stderr)
    if args.size % 4:
        parser.error(f"--size must be a multiple of 4 (the DLI network pools twice): {args.size}")
    return args


def jax_sides(x: np.ndarray, kernel: np.ndarray, use_lax: bool) -> tuple[Timed, Timed]:
    dims = ("NHWC", "HWIO", "NHWC")
    convolution = jax.lax.conv_general_dilated if use_lax else cpu_conv.conv_general_dilated

    def conv(inputs, weights):
        return convolution(inputs, weights, (1, 1), "SAME", dimension_numbers=dims)

    forward = jax.jit(conv)
    backward = jax.jit(
        lambda inputs, weights, cotangent: jax.vjp(conv, inputs, weights)[1](cotangent)
    )
    xs, ks = jnp.asarray(x), jnp.asarray(kernel)
    cotangent = jnp.ones(forward(xs, ks).shape, jnp.float32)
    return (
        lambda: jax.block_until_ready(forward(xs, ks)),
        lambda: jax.block_until_ready(backward(xs, ks, cotangent)),
    )


def torch_sides(x: np.ndarray, kernel: np.ndarray) -> tuple[Timed, Timed]:
    xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2))).requires_grad_(True)
    kt = torch.from_numpy(np.ascontiguousarray(kernel.transpose(3, 2, 0, 1))).requires_grad_(True)
    cotangent = torch.ones_like(F.conv2d(xt, kt, padding=1))

    def forward() -> Any:
        with torch.no_grad():
            return F.conv2d(xt, kt, padding=1)

    out = F.conv2d(xt, kt, padding=1)

    def backward() -> Any:
        return torch.autograd.grad(out, (xt, kt), cotangent, retain_graph=True)

    return forward, backward


def median_seconds(sides: list[Timed], repeats: int) -> list[float]:
    for side in sides:
        side()  # compile / allocate
    seconds: list[list[float]] = [[] for _ in sides]
    for _ in range(repeats):
        for side, record in zip(sides, seconds, strict=True):
            start = time.perf_counter()
            side()
            record.append(time.perf_counter() - start)
    return [statistics.median(record) for record in seconds]


def measure(args: argparse.Namespace) -> list[dict]:
    rng = np.random.default_rng(0)
    rows = []
    for name, cin, cout, divisor in LAYERS:
        side = args.size // divisor
        x = rng.standard_normal((args.batch, side, side, cin)).astype(np.float32)
        kernel = (rng.standard_normal((3, 3, cin, cout)) * 0.05).astype(np.float32)
        jax_forward, jax_backward = jax_sides(x, kernel, args.lax)
        torch_forward, torch_backward = torch_sides(x, kernel)
        jf, tf, jb, tb = median_seconds(
            [jax_forward, torch_forward, jax_backward, torch_backward], args.repeats
        )
        flops = 2.0 * args.batch * side * side * 9 * cin * cout
        rows.append(
            {
                "layer": name,
                "shape": f"{side}x{side}, {cin}->{cout}",
                "forward_gflop": flops / 1e9,
                "jax_forward_s": jf,
                "torch_forward_s": tf,
                "jax_backward_s": jb,
                "torch_backward_s": tb,
            }
        )
    return rows


def report(result: dict) -> str:
    lines = [
        f"DLI convolutions, batch {result['batch']} of {result['size']} px, "
        f"median of {result['repeats']}; jax: {result['jax_convolution']}, "
        f"XLA_FLAGS={result['xla_flags']!r}",
        "| layer | shape | jax fwd ms | torch fwd ms | jax bwd ms | torch bwd ms | "
        "jax GFLOP/s f / b | torch GFLOP/s f / b |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in result["rows"]:
        gf = row["forward_gflop"]
        lines.append(
            f"| {row['layer']} | {row['shape']} | {row['jax_forward_s'] * 1e3:.1f} | "
            f"{row['torch_forward_s'] * 1e3:.1f} | {row['jax_backward_s'] * 1e3:.1f} | "
            f"{row['torch_backward_s'] * 1e3:.1f} | "
            f"{gf / row['jax_forward_s']:.0f} / {2 * gf / row['jax_backward_s']:.0f} | "
            f"{gf / row['torch_forward_s']:.0f} / {2 * gf / row['torch_backward_s']:.0f} |"
        )
    totals = result["totals"]
    lines.append(
        f"| all | | {totals['jax_forward_s'] * 1e3:.1f} | {totals['torch_forward_s'] * 1e3:.1f} "
        f"| {totals['jax_backward_s'] * 1e3:.1f} | {totals['torch_backward_s'] * 1e3:.1f} | | |"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    torch.set_num_threads(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 2)
    rows = measure(args)
    keys = ("jax_forward_s", "torch_forward_s", "jax_backward_s", "torch_backward_s")
    result = {
        "benchmark": "conv_layers",
        "batch": args.batch,
        "size": args.size,
        "repeats": args.repeats,
        "xla_flags": os.environ.get("XLA_FLAGS", ""),
        "jax_convolution": "lax" if args.lax else "zoo_autoencoder.cpu_conv",
        "rows": rows,
        "totals": {key: sum(row[key] for row in rows) for key in keys},
    }
    print(json.dumps(result, indent=2) if args.json else report(result))


if __name__ == "__main__":
    main()
