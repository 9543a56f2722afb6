"""The models that ship in the wheel (plugins/zoo_models): each loads by name, upscales, checks
its file, and reproduces the numbers it records, by the command it records."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import zoo
from zoo import weights
from zoo.cli import cli
from zoo.registry import get_registry

CATALOG = Path(__file__).resolve().parents[1] / "plugins" / "zoo_models" / "models.json"
SHIPPED = json.loads(CATALOG.read_text(encoding="utf-8"))
SHARED = "../shared/data"


# Reproduced on every test run: Set5 (the yardstick) and the embedded holdout (no
# download). The Set14 numbers take a minute more; their recorded command reproduces them.
REPRODUCED = ("Set5", "embedded holdout")


def measured(name: str) -> list[tuple[str, str, dict]]:
    metrics = SHIPPED[name].get("metrics", {})
    return [(name, label, metrics[label]) for label in REPRODUCED if label in metrics]


def test_at_least_one_model_ships():
    assert SHIPPED, f"{CATALOG} registers no model"


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_a_shipped_model_loads_by_name_and_upscales(name):
    entry = get_registry().get("models", name)
    assert entry.plugin == "models"
    model = zoo.load(name)
    assert model.scale == SHIPPED[name]["scale"]
    image = (np.random.default_rng(0).random((20, 24, 3)) * 255).astype(np.uint8)
    assert model.upscale(image).shape == (20 * model.scale, 24 * model.scale, 3)
    file = CATALOG.parent / f"{name}.zoo"
    assert weights.file_sha256(file) == SHIPPED[name]["sha256"]
    assert file.stat().st_size < 5 * 2**20


@pytest.mark.shared_data
@pytest.mark.parametrize(
    "name, label, values",
    [case for name in sorted(SHIPPED) for case in measured(name)],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_a_shipped_model_reproduces_its_recorded_numbers(name, label, values, shared_data):
    command = shlex.split(values["command"])
    assert command[:2] == ["zoo", "eval"] and "--json" in command
    args = [
        str(shared_data) + arg[len(SHARED) :] if arg.startswith(SHARED) else arg
        for arg in command[1:]
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    got = json.loads(result.output[result.output.index("{") :])["results"]["model"]
    assert got["psnr"] == pytest.approx(values["psnr"], abs=0.01)
    if "ssim" in values:
        assert got["ssim"] == pytest.approx(values["ssim"], abs=1e-4)
