"""The example plugin's shipped model: its file is the registered one, and through the installed
`zoo` command it upscales by name and reproduces the numbers its catalog records."""

import hashlib
import json
import shlex
import shutil
import subprocess
import sys
from importlib.metadata import entry_points
from importlib.resources import files
from pathlib import Path

import numpy as np
import pytest

import zoo_example
from zoo.plugin import read_image, write_png

# The shipped model. Its registration is zoo_example/models.json, read here as the plugin reads
# it. A plugin and its tests use zoo only through zoo.plugin and zoo.testing, so the model is
# exercised through the installed `zoo` command, in a fresh process that finds the plugin by its
# entry point, exactly as a user runs it.
SHIPPED = json.loads((files(zoo_example) / "models.json").read_text(encoding="utf-8"))
MODEL = "tiny_charbonnier_x2"
installed = pytest.mark.skipif(
    "example" not in entry_points(group="zoo").names,
    reason="the shipped model is used through the `zoo` command: pip install the example first",
)


def zoo_command(command: list[str], cwd: Path | None = None) -> str:
    """Run ``zoo ARGS...`` (the command next to this Python, else the one on PATH); its stdout."""
    script = Path(sys.executable).with_name("zoo")
    executable = str(script) if script.is_file() else shutil.which("zoo") or "zoo"
    done = subprocess.run([executable, *command], capture_output=True, text=True, cwd=cwd)
    assert done.returncode == 0, f"zoo {shlex.join(command)}:\n{done.stdout}{done.stderr}"
    return done.stdout


def test_the_shipped_model_file_is_the_registered_one():
    entry = SHIPPED[MODEL]
    data = (files(zoo_example) / f"{MODEL}.zoo").read_bytes()
    assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    assert len(data) < 200_000
    assert entry["scale"] == 2 and entry["recipe"]["name"] == MODEL


@installed
def test_the_shipped_model_upscales_a_photo_by_name(tmp_path):
    image = (np.random.default_rng(0).random((20, 24, 3)) * 255).astype(np.uint8)
    write_png(tmp_path / "small.png", image)
    zoo_command(["upscale", "--model", MODEL, "small.png", "-o", "small_x2.png"], cwd=tmp_path)
    high = read_image(tmp_path / "small_x2.png")
    assert high.shape == (40, 48, 3) and high.dtype == np.uint8


@installed
def test_the_shipped_model_reproduces_its_embedded_holdout_numbers():
    """The command recorded with the numbers gives those numbers."""
    values = SHIPPED[MODEL]["metrics"]["embedded holdout"]
    command = shlex.split(values["command"])
    assert command[:2] == ["zoo", "eval"] and "--json" in command
    got = json.loads(zoo_command(command[1:]))["results"]["model"]
    assert got["psnr"] == pytest.approx(values["psnr"], abs=0.01)
    assert got["ssim"] == pytest.approx(values["ssim"], abs=1e-4)
