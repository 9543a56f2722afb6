"""`zoo upscale` of one big photograph: peak memory and wall time of the whole command.

    python benchmarks/upscale_memory.py                         # 6000x4000 at x2, ae_x2
    python benchmarks/upscale_memory.py --photo 3000x2000 --tile 256 --tile 1024
    python benchmarks/upscale_memory.py --tile 0                # the whole image at once (~17 GB)

Writes a smooth random RGB photograph of ``--photo`` (PNG) to a temporary folder and runs
``python -m zoo upscale --model MODEL PHOTO -o OUT.png`` once per setting (the default tile,
then each ``--tile``), each in a fresh process, reading that process's peak resident memory from
the kernel (``wait4``) and its wall time. Memory is a property of the code, not of the machine's
load; the times are only comparable within one run, with nothing else running.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

Image.MAX_IMAGE_PIXELS = None  # the benchmark's own output (12000x8000) is read back, trusted


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photo", default="6000x4000", help="W x H of the photograph (6000x4000)")
    parser.add_argument("--model", default="ae_x2", help="a registered model (ae_x2)")
    parser.add_argument(
        "--tile", type=int, action="append", default=[], help="also run with this --tile"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        print(f"upscale_memory.py: ignoring {' '.join(unknown)}", file=sys.stderr)
    return args


def photograph(path: Path, width: int, height: int) -> Path:
    """Smooth noise (bilinear from a coarse grid), so the PNG decodes like a photograph."""
    coarse = np.random.default_rng(0).integers(0, 256, (height // 16 + 1, width // 16 + 1, 3))
    picture = Image.fromarray(coarse.astype(np.uint8)).resize((width, height), Image.BILINEAR)
    picture.save(path)
    return path


def run(command: list[str]) -> dict:
    """Wall seconds and peak resident memory (GB) of one command in a fresh process."""
    start = time.monotonic()
    pid = os.spawnvp(os.P_NOWAIT, command[0], command)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.monotonic() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed (exit {os.waitstatus_to_exitcode(status)})")
    return {"seconds": round(seconds, 1), "peak_gb": round(usage.ru_maxrss / 2**20, 2)}


def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    width, height = (int(side) for side in args.photo.lower().split("x"))
    results = []
    with tempfile.TemporaryDirectory() as folder:
        photo = photograph(Path(folder) / "photo.png", width, height)
        for tile in [None, *args.tile]:
            out = Path(folder) / f"out_{tile}.png"
            command = [sys.executable, "-m", "zoo", "upscale", "--model", args.model]
            command += [str(photo), "-o", str(out), "--force"]
            command += [] if tile is None else ["--tile", str(tile)]
            measured = run(command)
            with Image.open(out) as written:
                measured["output"] = f"{written.width}x{written.height}"
            label = "default (--tile 512)" if tile is None else f"--tile {tile}"
            results.append({"setting": label, **measured})
    if args.json:
        print(json.dumps({"size": args.photo, "model": args.model, "runs": results}, indent=2))
        return
    print(f"zoo upscale --model {args.model} of a {args.photo} photograph:")
    for result in results:
        print(
            f"  {result['setting']:<22} {result['seconds']:>7.1f} s   peak {result['peak_gb']:.2f} "
            f"GB   -> {result['output']}"
        )


if __name__ == "__main__":
    main()
