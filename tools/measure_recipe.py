"""Train a recipe, measure it on Set5 and Set14 (Y protocol), and write its Time and Reach lines.

    python tools/measure_recipe.py recipes/fsrcnn_x3.yaml     # from the repository root
    python tools/measure_recipe.py recipes/fsrcnn_x3.yaml --workdir runs/fsrcnn_x3 --no-train

Runs ``zoo run RECIPE --workdir DIR`` (unless ``--no-train``: an existing run is measured), times
it on the wall clock, then, for each set, ``zoo eval --checkpoint DIR --data
../shared/data/SET/HR --convention y --json``, and rewrites the recipe's ``# Time:`` and ``#
Reach:`` header lines from what they printed: the machine, the minutes, the Set5 numbers seen
during the run and the final table beside bicubic and the paper (tools/published.py). Nothing
else in the file changes, and it is replaced atomically. The same numbers, with the parameter
count and the commands, go into ``recipes/measured.json`` under the recipe's name, which
``python docs/gen_models.py`` turns into docs/models.md's rows for recipes that are not shipped.
Run it with nothing else on the machine: the minutes are the claim.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from published import published, why_below
from record_metrics import REPO, SETS, measure

from zoo import atomic
from zoo.models import network_text

CONTINUATION = re.compile(r"#\s{3,}\S")
MEASURED = REPO / "recipes" / "measured.json"


def machine() -> str:
    name = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        models = re.findall(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.M)
        name = models[0].strip() if models else name
    return f"{os.cpu_count()}-core {name}"


def train(recipe: Path, workdir: Path) -> float:
    """Minutes of wall clock for the whole ``zoo run``, compilation and evaluations included."""
    command = [sys.executable, "-m", "zoo", "run", str(recipe), "--workdir", str(workdir)]
    start = time.monotonic()
    done = subprocess.run(command, cwd=REPO)
    if done.returncode != 0:
        sys.exit(f"{shlex.join(command)} failed (exit {done.returncode}); the recipe is unchanged.")
    return (time.monotonic() - start) / 60


def during_run(workdir: Path) -> list[tuple[int, float]]:
    """(step, PSNR) of each evaluation the run logged, from its metrics.json history."""
    history = json.loads((workdir / "metrics.json").read_text(encoding="utf-8"))["history"]
    seen = []
    for entry in history:
        for key in ("val_psnr", "eval_psnr"):
            if key in entry:
                seen.append((int(entry["step"]), float(entry[key])))
                break
    return seen


def final_numbers(workdir: Path) -> dict[str, dict]:
    numbers = {}
    for dataset in SETS:
        command = (
            f"zoo eval --checkpoint {workdir} --data ../shared/data/{dataset}/HR "
            "--convention y --json"
        )
        numbers[dataset] = measure(command)["results"]
        print(f"{dataset}: {numbers[dataset]['model']['psnr']:.4f} dB")
    return numbers


def eval_label(recipe: Any) -> str:
    """What the run evaluated on: ``Set5`` for ``../shared/data/Set5/HR``, else the dataset."""
    path = recipe.data.eval.options.get("path")
    if path is None:
        return recipe.data.eval.name
    folder = Path(path)
    return folder.parent.name if folder.name == "HR" else folder.name


def paper_cell(values: dict | None) -> str:
    if not values:
        return "-"
    ssim = values.get("ssim")
    return f"{values['psnr']:.2f} / " + (f"{ssim:.4f}" if ssim is not None else "-")


def header_lines(
    recipe: Any,
    workdir: Path,
    minutes: float,
    seen: list[tuple[int, float]],
    numbers: dict,
    paper: dict | None = None,
) -> list[str]:
    scale, seed = recipe.scale, recipe.train.seed
    wall = f"{int(minutes)}:{round(minutes % 1 * 60):02d}"
    lines = [
        f"# Time:  {wall} wall-clock on a {machine()} CPU with nothing else running",
        "#        (python tools/measure_recipe.py; compilation and evaluations included).",
    ]
    during = ", ".join(f"{psnr:.2f}" for _, psnr in seen)
    steps = ", ".join(f"{step:,}" for step, _ in seen)
    watched = eval_label(recipe)
    lines.append(f"# Reach: seed {seed}; {watched} x{scale}, Y protocol, during the run: {during}")
    lines.append(f"#        dB at steps {steps}; after it:")
    lines.append(
        "#          system    " + "".join(f"{s + ' PSNR / SSIM':<19}" for s in SETS).rstrip()
    )
    for system in ("bicubic", "model"):
        cells = "".join(
            f"{numbers[s][system]['psnr']:.2f} / {numbers[s][system]['ssim']:.4f}".ljust(19)
            for s in SETS
        )
        lines.append(f"#          {system:<10}{cells}".rstrip())
    if paper:
        cells = "".join(paper_cell(paper.get(s)).ljust(19) for s in SETS)
        lines.append(f"#          {paper['method']:<10}{cells}".rstrip() + "   (published)")
    lines.append(
        f"#        (zoo eval --checkpoint {workdir} --data ../shared/data/SET/HR --convention y)"
    )
    return lines


def result_entry(
    recipe_file: Path,
    resolved: dict,
    minutes: float,
    numbers: dict,
    parameters: int,
    workdir: Path,
) -> dict[str, Any]:
    """The recipe's row of docs/models.md: what was trained, how long, and what it measured."""
    design = resolved["model"]["encoder"]["name"]
    scale = int(resolved["scale"])
    metrics = {}
    for dataset in SETS:
        model, bicubic = numbers[dataset]["model"], numbers[dataset]["bicubic"]
        metrics[dataset] = {
            "psnr": round(model["psnr"], 4),
            "ssim": round(model["ssim"], 4),
            "bicubic_psnr": round(bicubic["psnr"], 4),
            "bicubic_ssim": round(bicubic["ssim"], 4),
            "convention": "y",
            "command": f"zoo eval --checkpoint {workdir} --data ../shared/data/{dataset}/HR "
            "--convention y --json",
        }
    entry: dict[str, Any] = {
        "name": resolved["name"],
        "label": f"{recipe_file.as_posix()} (not shipped)",
        "network": network_text(resolved),
        "scale": scale,
        "parameters": parameters,
        "training_minutes": round(minutes, 1),
        "training": f"{resolved['train']['steps']:,} steps, seed {resolved['train']['seed']}, "
        f"on a {machine()} CPU with nothing else running",
        "command": f"python tools/measure_recipe.py {recipe_file.as_posix()}",
        "metrics": metrics,
    }
    paper = published(design, scale)
    if paper:
        entry["paper"] = paper
        if metrics["Set5"]["psnr"] < paper["Set5"]["psnr"]:
            entry["why_below"] = why_below(design, minutes, training_data(resolved))
    return entry


def training_data(resolved: dict) -> str:
    train = resolved["data"]["train"]
    path = train.get("path")
    if path is None:
        return f"the {train['name']} dataset"
    return f"the photographs in {path}"


def record_result(entry: dict[str, Any], path: Path = MEASURED) -> None:
    """Add or replace the recipe's entry in ``path``, atomically, the others kept in name order."""
    entries = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    entries[entry["name"]] = entry
    ordered = dict(sorted(entries.items()))
    atomic.write_text(path, json.dumps(ordered, indent=2) + "\n")


def parameter_count(workdir: Path) -> int:
    """Every trainable scalar of the run's model, from the shapes its checkpoint records."""
    import math

    import zoo

    shapes = zoo.load(REPO / workdir).payload["params"]
    return sum(math.prod(leaf["shape"]) for leaf in shapes.values())


def rewrite_header(text: str, new: list[str]) -> str:
    """``text`` with its Time and Reach blocks (each tag line and its indented continuation
    lines) replaced by ``new``, placed where the Time block was, else after the header."""
    lines = text.splitlines()
    header_end = next((i for i, line in enumerate(lines) if not line.startswith("#")), len(lines))
    kept: list[str] = []
    insert_at = None
    skipping = False
    for line in lines[:header_end]:
        if line.startswith(("# Time:", "# Reach:")):
            insert_at = len(kept) if insert_at is None else insert_at
            skipping = True
            continue
        if skipping and CONTINUATION.match(line):
            continue
        skipping = False
        kept.append(line)
    if insert_at is None:
        insert_at = len(kept)
    kept[insert_at:insert_at] = new
    return "\n".join(kept + lines[header_end:]) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recipe", type=Path, help="the recipe file to train and rewrite")
    parser.add_argument("--workdir", type=Path, default=None, help="default: runs/<name>")
    parser.add_argument(
        "--no-train", action="store_true", help="measure an existing run; --minutes gives its time"
    )
    parser.add_argument("--minutes", type=float, default=None, help="with --no-train")
    args = parser.parse_args()
    from zoo import recipe as recipe_lib

    recipe = recipe_lib.load(args.recipe)
    workdir = args.workdir or Path("runs") / recipe.name
    if args.no_train:
        if args.minutes is None:
            sys.exit("--no-train needs --minutes: the wall-clock time the run took.")
        minutes = args.minutes
    else:
        minutes = train(args.recipe, workdir)
    seen = during_run(REPO / workdir)
    numbers = final_numbers(workdir)
    resolved = json.loads((REPO / workdir / "recipe.json").read_text(encoding="utf-8"))["resolved"]
    paper = published(resolved["model"]["encoder"]["name"], recipe.scale)
    lines = header_lines(recipe, workdir, minutes, seen, numbers, paper)
    path = REPO / args.recipe
    atomic.write_text(path, rewrite_header(path.read_text(encoding="utf-8"), lines))
    entry = result_entry(args.recipe, resolved, minutes, numbers, parameter_count(workdir), workdir)
    record_result(entry)
    print("\n".join(lines))
    print(f"Rewrote the Time and Reach lines of {args.recipe}; recorded it in {MEASURED}.")


if __name__ == "__main__":
    main()
