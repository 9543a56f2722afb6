"""`zoo models --gallery`: each registered model beside bicubic on side-by-side crops."""

from __future__ import annotations

import re

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import zoo
from zoo import hookimpl, weights
from zoo.cli import cli


@pytest.fixture
def tiny_model(trained_tiny, tmp_path, register_plugin):
    file = tmp_path / "tiny_x2.zoo"
    zoo.load(trained_tiny).export(file)

    class Models:
        @hookimpl
        def register_models(self, register):
            register(
                "tiny_x2",
                weights=file,
                scale=2,
                sha256=weights.file_sha256(file),
                description="the tiny test model",
                metrics={"Set5": {"psnr": 26.8612, "ssim": 0.81234, "convention": "y"}},
            )

    register_plugin(Models(), name="tiny_models")
    return file


@pytest.fixture
def photographs(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name in ("leaf", "wall"):
        smooth = rng.random((12, 16, 3)).repeat(4, axis=0).repeat(4, axis=1)
        Image.fromarray((smooth * 255).astype(np.uint8)).save(folder / f"{name}.png")
    return folder


def test_the_gallery_page_shows_each_image_as_the_report_does(tiny_model, photographs, tmp_path):
    page = tmp_path / "models.html"
    result = CliRunner().invoke(
        cli, ["models", "tiny_x2", "--gallery", str(page), "--data", str(photographs)]
    )
    assert result.exit_code == 0, result.output
    assert f"Wrote {page}: 1 model beside bicubic on {photographs}." in result.output
    text = page.read_text(encoding="utf-8")
    assert "<section id='tiny_x2'>" in text and "the tiny test model" in text
    assert "Set5: PSNR 26.86 dB SSIM 0.8123 (y convention)" in text
    # one row per image, each with LR, bicubic, the model and HR panels
    assert text.count("<div class='sample'>") == 2
    for label in ("LR ×2", "bicubic", "model", "HR"):
        assert f"<span class='name'>{label}</span>" in text
    assert re.search(r"<span class='score'>[\d.]+ dB", text)
    assert "src='data:image/png;base64," in text  # self-contained: nothing beside the file


def test_only_the_named_models_are_listed_and_a_wrong_name_lists_the_valid_ones(tiny_model):
    listed = CliRunner().invoke(cli, ["models", "tiny_x2"])
    assert listed.exit_code == 0, listed.output
    assert listed.output.startswith("tiny_x2  x2")
    assert "ae_x2" not in listed.output
    assert "zoo models --gallery models.html" in listed.output
    wrong = CliRunner().invoke(cli, ["models", "tiny_x3"])
    assert wrong.exit_code == 2
    assert "no model named tiny_x3; registered:" in wrong.output and "tiny_x2" in wrong.output


def test_gallery_options_are_refused_when_they_cannot_work(tiny_model, tmp_path):
    both = CliRunner().invoke(cli, ["models", "--table", "--gallery", str(tmp_path / "g.html")])
    assert both.exit_code == 2 and "give one of --json, --table and --gallery" in both.output
    alone = CliRunner().invoke(cli, ["models", "--data", str(tmp_path)])
    assert alone.exit_code == 2 and "give --gallery FILE too" in alone.output
    missing = CliRunner().invoke(
        cli, ["models", "tiny_x2", "--gallery", str(tmp_path / "g.html"), "--data", "no_such"]
    )
    assert missing.exit_code != 0
    assert "no_such" in missing.output
    assert not (tmp_path / "g.html").exists()
