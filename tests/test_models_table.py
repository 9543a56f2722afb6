"""`zoo models --table` and docs/models.md: one table from the catalog, kept current."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from click.testing import CliRunner

from zoo.cli import cli
from zoo.models import format_models_table

DOCS = Path(__file__).resolve().parents[1] / "docs"


def record(**extra):
    return {
        "name": "mine_x2",
        "scale": 2,
        "parameters": 309_548,
        "training_minutes": 47.6,
        "recipe": {
            "model": {
                "encoder": {"name": "resnet"},
                "decoder": {"name": "pixelshuffle"},
                "input": "lr",
                "residual": True,
            }
        },
        "metrics": {
            "Set5": {"psnr": 37.0512, "ssim": 0.95612, "bicubic_psnr": 33.6818},
            "Set14": {"psnr": 32.7049, "ssim": 0.9101, "bicubic_psnr": 30.2357},
        },
        **extra,
    }


def test_a_row_holds_every_column_with_the_papers_numbers_beside_ours():
    paper = {"method": "FSRCNN", "Set5": {"psnr": 37.0, "ssim": 0.9558}, "Set14": {"psnr": 32.63}}
    lines = format_models_table([record(paper=paper)]).splitlines()
    assert lines[0].startswith("| model | network | scale | parameters | training | Set5 PSNR")
    assert lines[2] == (
        "| `mine_x2` | resnet + pixelshuffle, lr input + residual | x2 | 309,548 | 47.6 min | "
        "37.05 / 0.9561 | 32.70 / 0.9101 | FSRCNN: Set5 37.00 / 0.9558, Set14 32.63 / - | "
        "33.68 / 30.24 |"
    )
    assert {len(line.split(" | ")) for line in lines} == {9}


def test_a_model_below_its_paper_gets_one_line_saying_why():
    text = format_models_table([record(why_below="an hour of CPU, 80 photographs")])
    assert text.splitlines()[-1] == "- `mine_x2` is below its paper: an hour of CPU, 80 photographs"
    assert "is below" not in format_models_table([record()])


def test_an_unmeasured_model_shows_dashes_not_zeros():
    bare = {"name": "new_x4", "scale": 4, "recipe": {}}
    assert "| `new_x4` |  | x4 |  |  | - / - | - / - |  | - / - |" in format_models_table([bare])


def test_the_cli_prints_the_table_and_refuses_two_formats():
    result = CliRunner().invoke(cli, ["models", "--table"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("| model | network |")
    assert "`ae_x2`" in result.output
    refused = CliRunner().invoke(cli, ["models", "--table", "--json"])
    assert refused.exit_code == 2 and "give one of --json, --table and --gallery" in refused.output


def test_docs_models_md_is_the_generated_page():
    spec = importlib.util.spec_from_file_location("gen_models", DOCS / "gen_models.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (DOCS / "models.md").read_text(encoding="utf-8") == module.page(), (
        "docs/models.md is stale: run python docs/gen_models.py"
    )


def test_the_gallery_shows_every_shipped_model_with_pictures_that_exist():
    from zoo.models import model_records
    from zoo.registry import get_registry

    page = (DOCS / "gallery.md").read_text(encoding="utf-8")
    for record in model_records(get_registry()):
        assert f"## `{record['name']}` (x{record['scale']})" in page, (
            f"docs/gallery.md lacks {record['name']}: run python docs/gen_gallery.py"
        )
    pictures = [
        line.split("](")[1].rstrip(")") for line in page.splitlines() if line.startswith("![")
    ]
    assert pictures and all((DOCS / picture).is_file() for picture in pictures)


def gen_models(monkeypatch, measured: Path):
    spec = importlib.util.spec_from_file_location("gen_models", DOCS / "gen_models.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "MEASURED", measured)
    return module


def test_measured_recipes_join_the_table_by_scale_and_a_shipped_one_only_once(
    monkeypatch, tmp_path
):
    measured = tmp_path / "measured.json"
    rows = {
        name: record(name=name, scale=scale, label=f"recipes/{name}.yaml (not shipped)")
        for name, scale in (("srcnn_x4", 4), ("vdsr_x2", 2), ("ae_x2", 2), ("espcn_x2", 2))
    }
    measured.write_text(json.dumps(rows), encoding="utf-8")
    page = gen_models(monkeypatch, measured).page()
    table = [line for line in page.splitlines() if line.startswith("| ")]
    labels = [line.split(" | ")[0][2:] for line in table[2:]]
    shipped = [label for label in labels if not label.startswith("recipes/")]
    assert labels[len(shipped) :] == [
        "recipes/espcn_x2.yaml (not shipped)",
        "recipes/vdsr_x2.yaml (not shipped)",
        "recipes/srcnn_x4.yaml (not shipped)",
    ]
    # ae_x2 is shipped: its row is the catalog's, never the measured copy
    assert shipped.count("`ae_x2`") == 1 and "recipes/ae_x2.yaml (not shipped)" not in labels


def test_without_measured_recipes_the_table_is_the_catalogs(monkeypatch, tmp_path):
    page = gen_models(monkeypatch, tmp_path / "absent.json").page()
    assert "(not shipped)" not in page and "`ae_x2`" in page
