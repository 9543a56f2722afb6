"""`zoo upscale` of one big photograph: peak memory and wall time of the whole command.

    python benchmarks/upscale_memory.py                         # 6000x4000 at x2, ae_x2
    python benchmarks/upscale_memory.py --photo 3000x2000 --tile 256 --tile 1024
    python benchmarks/upscale_memory.py --tile 0                # the whole image at once (~17 GB)
    python benchmarks/upscale_memory.py --against a08e18b --repeats 3   # against that commit's
                                                                        # --tile 512

Writes a smooth random RGB photograph of ``--photo`` (PNG) to a temporary folder and runs
``python -m zoo upscale --model MODEL PHOTO -o OUT.png`` once per setting (the default tile,
then each ``--tile``), each in a fresh process, reading that process's peak resident memory from
the kernel (``wait4``) and its wall time. Memory is a property of the code, not of the machine's
load; the times are only comparable within one run, with nothing else running.

``--against REV`` also runs the same command with ``--tile 512`` in the code of the commit REV
(its files from ``git archive``, first on the path, so the installed entry points resolve to
that commit's plugins): a08e18b is the last commit before tiling became the default, whose
``--tile 512`` cut edge tiles short and copied the whole image to float. With ``--repeats N``
the settings alternate N times and each reports its median time and its largest peak.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
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
    parser.add_argument("--against", help="also run a commit's --tile 512 (e.g. a08e18b)")
    parser.add_argument("--repeats", type=int, default=1, help="alternating runs of each (1)")
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


def run(command: list[str], env: dict[str, str] | None = None) -> dict:
    """Wall seconds and peak resident memory (GB) of one command in a fresh process."""
    start = time.monotonic()
    if env is None:
        pid = os.spawnvp(os.P_NOWAIT, command[0], command)
    else:
        pid = os.spawnvpe(os.P_NOWAIT, command[0], command, env)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.monotonic() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(command)} failed (exit {os.waitstatus_to_exitcode(status)})")
    return {"seconds": round(seconds, 1), "peak_gb": round(usage.ru_maxrss / 2**20, 2)}


def checkout(revision: str, folder: Path) -> dict[str, str]:
    """The commit's files in ``folder``; the environment that imports zoo from them."""
    repo = Path(__file__).resolve().parents[1]
    archive = subprocess.run(
        ["git", "-C", str(repo), "archive", "--format=tar", revision],
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        raise SystemExit(f"git archive {revision} failed: {archive.stderr.decode().strip()}")
    tar_path = folder / "source.tar"
    tar_path.write_bytes(archive.stdout)
    with tarfile.open(tar_path) as tar:
        tar.extractall(folder / "source", filter="data")
    source = folder / "source"
    path = os.pathsep.join([str(source), str(source / "plugins"), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path.rstrip(os.pathsep)}


def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    width, height = (int(side) for side in args.photo.lower().split("x"))
    with tempfile.TemporaryDirectory() as folder:
        photo = photograph(Path(folder) / "photo.png", width, height)
        settings: list[tuple[str, list[str], dict[str, str] | None]] = [
            ("default (--tile 512)", [], None)
        ]
        settings += [(f"--tile {tile}", ["--tile", str(tile)], None) for tile in args.tile]
        if args.against:
            old = checkout(args.against, Path(folder))
            settings.append((f"{args.against} --tile 512", ["--tile", "512"], old))
        measured: dict[str, list[dict]] = {label: [] for label, _, _ in settings}
        outputs = {}
        for _ in range(args.repeats):
            for label, extra, env in settings:
                out = Path(folder) / "out.png"
                command = [sys.executable, "-m", "zoo", "upscale", "--model", args.model]
                command += [str(photo), "-o", str(out), "--force", *extra]
                measured[label].append(run(command, env))
                with Image.open(out) as written:
                    outputs[label] = f"{written.width}x{written.height}"
                out.unlink()
    results = [
        {
            "setting": label,
            "seconds": statistics.median(r["seconds"] for r in runs),
            "peak_gb": max(r["peak_gb"] for r in runs),
            "all_seconds": [r["seconds"] for r in runs],
            "output": outputs[label],
        }
        for label, runs in measured.items()
    ]
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
