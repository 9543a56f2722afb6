"""tools/measure_recipe.py: the Time and Reach lines it writes into a recipe, and nothing else."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

TOOLS = Path(__file__).resolve().parents[1] / "tools"
RECIPE = """# The zoo's x3 design.
# Run:   zoo run recipes/mine_x3.yaml --workdir runs/mine_x3   (from the repository root,
#        with ../shared/data beside it)
# Time:  about an hour (a guess)
# Reach: 33 dB, hopefully
#          model     33.00
name: mine_x3
scale: 3
data:
  eval: {name: folder, path: ../shared/data/Set5/HR, split: all}
train: {steps: 9000, seed: 7}
"""


@pytest.fixture
def tool(monkeypatch):
    monkeypatch.syspath_prepend(str(TOOLS))
    spec = importlib.util.spec_from_file_location("measure_recipe", TOOLS / "measure_recipe.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("record_metrics", None)


FakeRecipe = SimpleNamespace(
    name="mine_x3",
    scale=3,
    train=SimpleNamespace(seed=7),
    data=SimpleNamespace(
        eval=SimpleNamespace(name="folder", options={"path": "../shared/data/Set5/HR"})
    ),
)


NUMBERS = {
    "Set5": {"model": {"psnr": 33.2345, "ssim": 0.91567}, "bicubic": {"psnr": 30.4, "ssim": 0.87}},
    "Set14": {"model": {"psnr": 29.6, "ssim": 0.8301}, "bicubic": {"psnr": 27.55, "ssim": 0.7742}},
}


def test_the_time_and_reach_blocks_are_replaced_and_the_rest_kept(tool):
    lines = tool.header_lines(
        FakeRecipe, Path("runs/mine_x3"), 57.5, [(3000, 32.51), (9000, 33.2345)], NUMBERS
    )
    text = tool.rewrite_header(RECIPE, lines)
    assert "a guess" not in text and "hopefully" not in text and "33.00" not in text
    assert "# Time:  57:30 wall-clock on a " in text
    assert "# Reach: seed 7; Set5 x3, Y protocol, during the run: 32.51, 33.23" in text
    assert "#        dB at steps 3,000, 9,000; after it:" in text
    assert "#          bicubic   30.40 / 0.8700     27.55 / 0.7742" in text
    assert "#          model     33.23 / 0.9157     29.60 / 0.8301" in text
    # the lines before and after the replaced blocks, and the YAML, are untouched
    head = text.splitlines()
    assert head[:3] == RECIPE.splitlines()[:3]
    assert head[3].startswith("# Time:")
    assert yaml.safe_load(text) == yaml.safe_load(RECIPE)


def test_a_recipe_without_the_lines_gets_them_at_the_end_of_its_header(tool):
    bare = "# One line.\nname: x\n"
    text = tool.rewrite_header(bare, ["# Time:  1:00", "# Reach: 30 dB"])
    assert text == "# One line.\n# Time:  1:00\n# Reach: 30 dB\nname: x\n"


def test_rewriting_twice_gives_the_same_file(tool):
    lines = tool.header_lines(FakeRecipe, Path("runs/mine_x3"), 10.0, [(100, 30.0)], NUMBERS)
    once = tool.rewrite_header(RECIPE, lines)
    assert tool.rewrite_header(once, lines) == once


def resolved(design: str, scale: int) -> dict:
    return {
        "name": f"{design}_x{scale}",
        "scale": scale,
        "model": {
            "encoder": {"name": design},
            "decoder": {"name": design},
            "input": "lr",
            "residual": False,
        },
        "data": {"train": {"name": "folder", "path": "../shared/data/Sun80"}},
        "train": {"steps": 3000, "seed": 0},
    }


def numbers(set5: float) -> dict:
    return {
        "Set5": {"model": {"psnr": set5, "ssim": 0.95}, "bicubic": {"psnr": 33.68, "ssim": 0.93}},
        "Set14": {"model": {"psnr": 32.1, "ssim": 0.9}, "bicubic": {"psnr": 30.24, "ssim": 0.87}},
    }


def test_the_recorded_row_carries_the_paper_and_says_why_when_below_it(tool):
    entry = tool.result_entry(
        Path("recipes/fsrcnn_x2.yaml"),
        resolved("fsrcnn", 2),
        12.34,
        numbers(36.5),
        24_683,
        Path("runs/fsrcnn_x2"),
    )
    assert entry["label"] == "recipes/fsrcnn_x2.yaml (not shipped)"
    assert entry["network"] == "fsrcnn, lr input" and entry["parameters"] == 24_683
    assert entry["training_minutes"] == 12.3
    assert entry["metrics"]["Set5"]["psnr"] == 36.5
    assert entry["metrics"]["Set14"]["command"] == (
        "zoo eval --checkpoint runs/fsrcnn_x2 --data ../shared/data/Set14/HR --convention y --json"
    )
    assert entry["paper"]["method"] == "FSRCNN" and entry["paper"]["Set5"]["psnr"] == 37.0
    assert (
        "12 min on a 2-core CPU with the photographs in ../shared/data/Sun80"
        in (entry["why_below"])
    )
    above = tool.result_entry(
        Path("recipes/fsrcnn_x2.yaml"), resolved("fsrcnn", 2), 60, numbers(37.2), 1, Path("r")
    )
    assert "why_below" not in above
    # no published figure for ESPCN in the references: none is invented
    espcn = tool.result_entry(
        Path("recipes/espcn_x3.yaml"), resolved("espcn", 3), 9, numbers(32.0), 1, Path("r")
    )
    assert "paper" not in espcn and "why_below" not in espcn


def test_recording_adds_or_replaces_one_entry_and_keeps_the_others(tool, tmp_path):
    path = tmp_path / "measured.json"
    tool.record_result({"name": "vdsr_x2", "n": 1}, path)
    tool.record_result({"name": "espcn_x2", "n": 1}, path)
    tool.record_result({"name": "vdsr_x2", "n": 2}, path)
    entries = json.loads(path.read_text(encoding="utf-8"))
    assert list(entries) == ["espcn_x2", "vdsr_x2"] and entries["vdsr_x2"]["n"] == 2


def test_the_paper_row_joins_the_reach_table(tool):
    paper = {"method": "FSRCNN", "Set5": {"psnr": 33.16}}
    lines = tool.header_lines(FakeRecipe, Path("runs/mine_x3"), 10.0, [(100, 30.0)], NUMBERS, paper)
    assert "#          FSRCNN    33.16 / -          -   (published)" in lines
