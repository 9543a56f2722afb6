"""Measure a shipped model on Set5 and Set14 (Y protocol) and record the numbers in its catalog.

    python tools/record_metrics.py resnet_x2            # plugins/zoo_models/models.json
    python tools/record_metrics.py mine_x2 --catalog my_models/models.json

Runs, for each set, exactly the command it records (``zoo eval --model NAME --data
../shared/data/SET/HR --convention y --json``, from the repository root, with ../shared/data
beside it) and writes PSNR, SSIM, bicubic's PSNR and SSIM and the command into the model's
``metrics``, so every number in the catalog is one rerunnable command; tests/test_shipped_models.py
reproduces the Set5 ones within 0.01 dB. Other entries of ``metrics`` are kept.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

from zoo import atomic

REPO = Path(__file__).resolve().parents[1]
SETS = ("Set5", "Set14")


def command_for(name: str, dataset: str) -> str:
    return f"zoo eval --model {name} --data ../shared/data/{dataset}/HR --convention y --json"


def measure(command: str) -> dict:
    """The command's JSON results, run where its relative data path holds, by this Python (so
    the zoo it runs is the one this environment has, activated or not)."""
    zoo, *args = shlex.split(command)
    done = subprocess.run(
        [sys.executable, "-m", zoo, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "JAX_PLATFORMS": os.environ.get("JAX_PLATFORMS", "cpu")},
    )
    if done.returncode != 0:
        sys.exit(f"{command} failed (exit {done.returncode}):\n{done.stderr or done.stdout}")
    return json.loads(done.stdout[done.stdout.index("{") :])


def record(name: str, catalog: Path) -> dict:
    entries = json.loads(catalog.read_text(encoding="utf-8"))
    if name not in entries:
        sys.exit(f"{catalog} has no model {name!r}; it has: {', '.join(sorted(entries))}.")
    metrics = entries[name].setdefault("metrics", {})
    for dataset in SETS:
        command = command_for(name, dataset)
        results = measure(command)["results"]
        model, bicubic = results["model"], results["bicubic"]
        metrics[dataset] = {
            "psnr": round(model["psnr"], 4),
            "ssim": round(model["ssim"], 4),
            "bicubic_psnr": round(bicubic["psnr"], 4),
            "bicubic_ssim": round(bicubic["ssim"], 4),
            "convention": "y",
            "command": command,
        }
        print(
            f"{name} {dataset}: {model['psnr']:.4f} dB / {model['ssim']:.4f} "
            f"(bicubic {bicubic['psnr']:.4f} / {bicubic['ssim']:.4f})"
        )
    atomic.write_text(catalog, json.dumps(entries, indent=2) + "\n")
    return metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", help="the model's registered name")
    parser.add_argument(
        "--catalog", type=Path, default=REPO / "plugins" / "zoo_models" / "models.json"
    )
    args = parser.parse_args()
    record(args.name, args.catalog)


if __name__ == "__main__":
    main()
