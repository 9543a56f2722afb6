"""Every benchmark in one table: zoo's time, the peer's time in the same run, their ratio, GFLOP/s.

    python benchmarks/table.py                    # all of them (about 25 min on 2 cores)
    python benchmarks/table.py --only train_step_ae_x2 --only metrics
    python benchmarks/table.py --json bench.json  # the table, and every benchmark's own JSON

Runs each benchmark script in its own process with ``--json`` (so one's threads, compile cache
and memory cannot touch the next), one after the other, and turns what each printed into rows.
The ratio is always the peer's time over zoo's: above 1, zoo is faster. GFLOP/s is XLA's count
of a train step's floating-point operations over the measured time, the same count for both
sides; the float32 matrix multiply timed in the same run is the machine's practical peak. The
script measures and prints; it asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
Row = dict[str, Any]

# name: (script, its arguments[, its environment on top of this one's])
BENCHMARKS: dict[str, tuple[Any, ...]] = {
    "metrics": ("metrics.py", []),
    "train_step_dli": ("train_step.py", ["--network", "dli"]),
    "train_step_dli_course": (
        "train_step.py",
        ["--network", "dli", "--batch", "10", "--size", "256", "--repeats", "3", "--steps", "1"],
    ),
    "train_step_ae_x2": ("train_step.py", ["--network", "ae_x2", "--steps", "10"]),
    "conv_layers_course": ("conv_layers.py", ["--batch", "10", "--size", "256", "--repeats", "3"]),
    # lax's own VJP, which zoo_autoencoder.cpu_conv replaces on the CPU
    "conv_layers_course_lax": (
        "conv_layers.py",
        ["--batch", "10", "--size", "256", "--repeats", "3", "--lax"],
    ),
    "precision": ("precision.py", ["--repeats", "3"]),
    "pipeline": ("pipeline.py", []),
    "upscale_memory": ("upscale_memory.py", ["--against", "a08e18b"]),
    "startup": ("startup.py", []),
}


def metrics_rows(result: dict) -> list[Row]:
    shape = "x".join(str(side) for side in result["images"])
    return [
        {
            "benchmark": f"metric {row['metric']} ({shape})",
            "zoo_s": row["zoo_seconds"],
            "peer": row["peer"],
            "peer_s": row["peer_seconds"],
        }
        for row in result["rows"]
    ]


def train_step_rows(result: dict) -> list[Row]:
    zoo, peer = result["zoo"], result["torch"]
    return [
        {
            "benchmark": f"{result['network']} train step, batch {result['batch']} of "
            f"{result['size']} px",
            "zoo_s": zoo["seconds_per_step"],
            "peer": peer["name"],
            "peer_s": peer["seconds_per_step"],
            "zoo_gflops": zoo["gflops"],
            "peer_gflops": peer["gflops"],
            "note": f"matmul {result['matmul_gflops']:.0f} GFLOP/s",
        }
    ]


def conv_layers_rows(result: dict) -> list[Row]:
    totals = result["totals"]
    flops = 3e9 * sum(row["forward_gflop"] for row in result["rows"])  # forward + 2x backward
    zoo_s = totals["jax_forward_s"] + totals["jax_backward_s"]
    peer_s = totals["torch_forward_s"] + totals["torch_backward_s"]
    return [
        {
            "benchmark": f"DLI's 10 convolutions, forward + backward, batch {result['batch']} of "
            f"{result['size']} px (jax: {result['jax_convolution']})",
            "zoo_s": zoo_s,
            "peer": "torch F.conv2d",
            "peer_s": peer_s,
            "zoo_gflops": flops / zoo_s / 1e9,
            "peer_gflops": flops / peer_s / 1e9,
            "note": "per layer: benchmarks/conv_layers.py",
        }
    ]


def precision_rows(result: dict) -> list[Row]:
    seconds = result["seconds_per_step"]
    recipe = Path(result["recipe"]).stem
    return [
        {
            "benchmark": f"{recipe} train step, bf16 (batch {result['batch']} of {result['size']})",
            "zoo_s": seconds["bf16"],
            "peer": "zoo float32",
            "peer_s": seconds["float32"],
        }
    ]


def pipeline_rows(result: dict) -> list[Row]:
    return [
        {
            "benchmark": f"input pipeline, {result['degradation']} (a batch)",
            "zoo_s": result["pipeline_s"],
            "peer": "the train step it feeds",
            "peer_s": result["step_s"],
            "note": f"bottleneck: {result['bottleneck']}",
        }
    ]


def upscale_rows(result: dict) -> list[Row]:
    runs = {run["setting"]: run for run in result["runs"]}
    ours = runs.pop(next(iter(runs)))
    rows = []
    for setting, run in runs.items():
        rows.append(
            {
                "benchmark": f"zoo upscale {result['size']} x2 ({result['model']})",
                "zoo_s": ours["seconds"],
                "peer": setting,
                "peer_s": run["seconds"],
                "note": f"peak {ours['peak_gb']:.2f} GB vs {run['peak_gb']:.2f} GB",
            }
        )
    return rows


def startup_rows(result: dict) -> list[Row]:
    rows: list[Row] = [
        {
            "benchmark": f"zoo.load({load['model']!r}), fresh process",
            "zoo_s": load["load_s"],
            "peer": "-",
            "peer_s": None,
            "note": f"after import zoo {load['import_s']:.1f} s; "
            f"{load['programs_compiled']} programs compiled",
        }
        for load in result["loads"]
    ]
    first = result["first_step"]
    rows.append(
        {
            "benchmark": f"zoo run {first['recipe']}: first step starts (cold cache)",
            "zoo_s": first["seconds_to_first_step"],
            "peer": "-",
            "peer_s": None,
            "note": "from the command's start",
        }
    )
    return rows


ROWS: dict[str, Callable[[dict], list[Row]]] = {
    "metrics.py": metrics_rows,
    "train_step.py": train_step_rows,
    "conv_layers.py": conv_layers_rows,
    "precision.py": precision_rows,
    "pipeline.py": pipeline_rows,
    "upscale_memory.py": upscale_rows,
    "startup.py": startup_rows,
}


def run_benchmark(script: str, arguments: list[str], env: dict[str, str] | None = None) -> dict:
    command = [sys.executable, str(HERE / script), *arguments, "--json"]
    shown = " ".join(f"{key}={value}" for key, value in (env or {}).items())
    print(f"$ {shown} {' '.join(command[1:])}".replace("$  ", "$ "), file=sys.stderr, flush=True)
    done = subprocess.run(
        command, capture_output=True, text=True, cwd=HERE.parent, env={**os.environ, **(env or {})}
    )
    if done.returncode != 0:
        raise SystemExit(f"{script} failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
    return json.loads(done.stdout[done.stdout.index("{") :])


def machine() -> str:
    name = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        models = re.findall(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.M)
        name = models[0].strip() if models else name
    return f"{os.cpu_count()} CPUs, {name}"


def cell(value: Any, spec: str) -> str:
    return format(value, spec) if isinstance(value, int | float) else "-"


def format_table(rows: list[Row]) -> str:
    lines = [
        "| benchmark | zoo s | peer | peer s | ratio (peer / zoo) | GFLOP/s zoo / peer | note |",
        "| --- | ---: | --- | ---: | ---: | ---: | --- |",
    ]
    for row in rows:
        ratio = row["peer_s"] / row["zoo_s"] if row["zoo_s"] and row["peer_s"] else None
        gflops = (
            f"{row['zoo_gflops']:.1f} / {row['peer_gflops']:.1f}" if "zoo_gflops" in row else "-"
        )
        lines.append(
            f"| {row['benchmark']} | {cell(row['zoo_s'], '.4g')} | {row['peer']} | "
            f"{cell(row['peer_s'], '.4g')} | {cell(ratio, '.2f')} | {gflops} | "
            f"{row.get('note', '')} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only", action="append", choices=sorted(BENCHMARKS), help="run just these (repeatable)"
    )
    parser.add_argument("--json", type=Path, help="also write the table and the raw results here")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    rows: list[Row] = []
    raw = {}
    for name in args.only or BENCHMARKS:
        script, arguments, *env = BENCHMARKS[name]
        raw[name] = run_benchmark(script, arguments, *env)
        rows += ROWS[script](raw[name])
    print(f"Machine: {machine()}; ratio above 1: zoo is faster.")
    print(format_table(rows))
    if args.json:
        payload = {"machine": machine(), "rows": rows, "results": raw}
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        print(f"Wrote {args.json}")


if __name__ == "__main__":
    main()
