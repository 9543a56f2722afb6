"""tools/record_metrics.py: what it records for a shipped model, and that it keeps the rest."""

from __future__ import annotations

import importlib.util
import json
import shlex
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parents[1] / "tools" / "record_metrics.py"


@pytest.fixture
def tool():
    spec = importlib.util.spec_from_file_location("record_metrics", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fake_results(psnr: float) -> dict:
    return {
        "results": {
            "model": {"psnr": psnr, "ssim": 0.95432},
            "bicubic": {"psnr": 33.68181, "ssim": 0.93049},
        }
    }


def test_it_records_each_set_with_the_command_that_measured_it(tool, tmp_path, monkeypatch):
    catalog = tmp_path / "models.json"
    kept = {"embedded holdout": {"psnr": 31.9, "command": "zoo eval ..."}}
    catalog.write_text(json.dumps({"mine_x2": {"scale": 2, "metrics": kept}}))
    ran = []

    def measure(command):
        ran.append(command)
        return fake_results(37.123456 if "Set5" in command else 32.5)

    monkeypatch.setattr(tool, "measure", measure)
    tool.record("mine_x2", catalog)
    metrics = json.loads(catalog.read_text())["mine_x2"]["metrics"]
    assert metrics["embedded holdout"] == kept["embedded holdout"]
    assert metrics["Set5"] == {
        "psnr": 37.1235,
        "ssim": 0.9543,
        "bicubic_psnr": 33.6818,
        "bicubic_ssim": 0.9305,
        "convention": "y",
        "command": "zoo eval --model mine_x2 --data ../shared/data/Set5/HR --convention y --json",
    }
    assert metrics["Set14"]["psnr"] == 32.5
    assert ran == [metrics["Set5"]["command"], metrics["Set14"]["command"]]
    # the recorded command is the one tests/test_shipped_models.py reruns
    assert shlex.split(ran[0])[:2] == ["zoo", "eval"] and "--json" in ran[0]


def test_an_unknown_model_names_the_catalog_and_its_models(tool, tmp_path):
    catalog = tmp_path / "models.json"
    catalog.write_text(json.dumps({"a_x2": {}, "b_x4": {}}))
    with pytest.raises(SystemExit, match="has no model 'c_x3'; it has: a_x2, b_x4"):
        tool.record("c_x3", catalog)
