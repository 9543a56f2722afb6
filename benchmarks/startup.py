"""How fast zoo starts: ``zoo.load`` of shipped models, and the first step of ``zoo run``.

    python benchmarks/startup.py                    # ae_x2 and dli_x2, recipes/dli.yaml
    python benchmarks/startup.py --models ae_x2 --repeats 5 --json

Every figure is taken in a fresh process, so nothing is warm but the operating system's file
cache (and JAX's persistent compilation cache where the row says so):

- ``import zoo`` then ``zoo.load(NAME)``: the seconds of each, the median of ``--repeats``
  processes after one that is not counted. Loading compiles nothing (tests/test_compile_once.py),
  so a compile cache does not change it; the row says how many programs it compiled.
- ``zoo run RECIPE`` on a cold compilation cache (a new, empty one): the seconds from starting
  the command to the end of the train step's compilation, when the first step starts, read from
  the ``Finished XLA compilation of jit(train_step)`` line JAX logs with ``JAX_LOG_COMPILES=1``.
  The process is stopped there; nothing is written outside a temporary folder.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LOAD = """
import json, logging, time
start = time.perf_counter()
import zoo
imported = time.perf_counter()
import jax
compiled = []
class Count(logging.Handler):
    def emit(self, record):
        if record.getMessage().startswith("Finished XLA compilation of"):
            compiled.append(record.getMessage())
logging.getLogger("jax").addHandler(Count())
logging.getLogger("jax").setLevel(logging.DEBUG)
with jax.log_compiles(True):
    zoo.load({name!r})
loaded = time.perf_counter()
print(json.dumps({{"import_s": imported - start, "load_s": loaded - imported,
                  "programs_compiled": len(compiled)}}))
"""
FIRST_STEP_MARK = "Finished XLA compilation of jit(train_step)"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="ae_x2,dli_x2", help="shipped models (ae_x2,dli_x2)")
    parser.add_argument("--recipe", default="recipes/dli.yaml", help="(recipes/dli.yaml)")
    parser.add_argument("--repeats", type=int, default=3, help="counted processes each (3)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        print(f"startup.py: ignoring {' '.join(unknown)}", file=sys.stderr)
    return args


def time_load(name: str, repeats: int) -> dict:
    runs = []
    for _ in range(repeats + 1):  # the first warms the file cache and is not counted
        done = subprocess.run(
            [sys.executable, "-c", LOAD.format(name=name)],
            capture_output=True,
            text=True,
            cwd=REPO,
            check=False,
        )
        if done.returncode != 0:
            raise SystemExit(f"zoo.load({name!r}) failed:\n{done.stderr[-2000:]}")
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    counted = runs[1:]
    return {
        "model": name,
        "import_s": statistics.median(r["import_s"] for r in counted),
        "load_s": statistics.median(r["load_s"] for r in counted),
        "all_load_s": [round(r["load_s"], 3) for r in counted],
        "programs_compiled": max(r["programs_compiled"] for r in counted),
    }


def time_first_step(recipe: str) -> dict:
    """Seconds from the command's start to the end of the train step's compilation."""
    with tempfile.TemporaryDirectory() as folder:
        env = {
            **os.environ,
            "JAX_LOG_COMPILES": "1",
            "JAX_COMPILATION_CACHE_DIR": str(Path(folder) / "jax_cache"),
            "PYTHONUNBUFFERED": "1",
        }
        run_dir = str(Path(folder) / "run")
        command = [sys.executable, "-m", "zoo", "run", recipe, "--workdir", run_dir]
        start = time.monotonic()
        process = subprocess.Popen(
            command, cwd=REPO, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
        )
        assert process.stderr is not None
        seconds = None
        try:
            for line in process.stderr:
                if FIRST_STEP_MARK in line:
                    seconds = time.monotonic() - start
                    break
        finally:
            process.kill()
            process.wait()
    if seconds is None:
        raise SystemExit(f"{' '.join(command)} ended before compiling its train step")
    return {"recipe": recipe, "seconds_to_first_step": seconds}


def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    models = [name.strip() for name in args.models.split(",") if name.strip()]
    result = {
        "benchmark": "startup",
        "repeats": args.repeats,
        "loads": [time_load(name, args.repeats) for name in models],
        "first_step": time_first_step(args.recipe),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"fresh processes, median of {args.repeats}:")
    for load in result["loads"]:
        print(
            f"  import zoo {load['import_s']:.2f} s, then zoo.load({load['model']!r}) "
            f"{load['load_s']:.2f} s ({load['programs_compiled']} programs compiled)"
        )
    first = result["first_step"]
    print(
        f"  zoo run {first['recipe']}, cold compilation cache: the first train step starts "
        f"{first['seconds_to_first_step']:.1f} s after the command"
    )


if __name__ == "__main__":
    main()
