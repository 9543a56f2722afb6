"""Reusing weights: self-describing checkpoints, weights files, init_from and registered models."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from tiny import tiny_recipe, train_tiny

import zoo
from zoo import checkpoint, hookimpl, reuse, weights
from zoo.cli import cli
from zoo.errors import RecipeError, ZooError
from zoo.registry import get_registry

IMAGE = (np.random.default_rng(0).random((20, 24, 3)) * 255).astype(np.uint8)


def encoder_plugin(default_width: int, extra_width: int = 0) -> object:
    """An encoder ``widthy`` whose option ``width`` defaults to ``default_width``; with
    ``extra_width`` the same options build wider layers (a plugin whose code changed)."""
    resnet = get_registry().get("encoders", "resnet").factory

    class Widthy:
        @hookimpl
        def register_encoders(self, register):
            def widthy(*, in_channels: int, rngs, width: int = default_width):
                return resnet(
                    in_channels=in_channels, rngs=rngs, width=width + extra_width, blocks=1
                )

            register("widthy", widthy)

    return Widthy()


def swap(register_plugin, old: object, new: object) -> None:
    from zoo import plugins

    plugins.get_plugin_manager().unregister(old)
    register_plugin(new, name="widthy")


def test_a_checkpoint_holds_the_resolved_recipe_the_plugins_and_the_shapes(trained_tiny):
    payload = checkpoint.read_recipe(trained_tiny)
    assert payload["format"] == 2
    assert payload["resolved"]["model"]["encoder"] == {
        "name": "resnet",
        "width": 8,
        "blocks": 1,
        "res_scale": 1.0,
    }
    assert "res_scale" not in payload["recipe"]["model"]["encoder"]
    assert payload["parts"]["model.encoder"]["distribution"] == "zoo-sr"
    assert payload["params"]["encoder.head.kernel"] == {"shape": [3, 3, 3, 8], "dtype": "float32"}
    assert json.loads((trained_tiny / "recipe.json").read_text())["resolved"] == payload["resolved"]


def test_load_rebuilds_from_the_saved_options_not_todays_defaults(tmp_path, register_plugin):
    first = register_plugin(encoder_plugin(default_width=8), name="widthy")
    run = tmp_path / "run"
    train_tiny(run, "model.encoder=widthy")
    before = zoo.load(run).upscale(IMAGE)

    swap(register_plugin, first, second := encoder_plugin(default_width=12))
    model = zoo.load(run)
    assert model.recipe.model.encoder.options["width"] == 8
    np.testing.assert_array_equal(model.upscale(IMAGE), before)

    swap(register_plugin, second, encoder_plugin(default_width=8, extra_width=4))
    with pytest.raises(reuse.ShapeMismatch) as caught:
        zoo.load(run)
    message = str(caught.value)
    assert "encoder.blocks.0.conv1.bias: saved (8,) vs now (12,)" in message
    assert "and " in message and "more" in message  # the first few, then a count
    assert "\n" not in message


def test_a_changed_plugin_version_is_one_warning_line(trained_tiny, capsys):
    payload = checkpoint.read_recipe(trained_tiny)
    payload["parts"]["model.encoder"]["version"] = "0.0.1"
    reuse.warn_changes(payload, "runs/x", get_registry())
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1
    assert "model.encoder 'resnet' was saved with zoo-sr 0.0.1, installed is zoo-sr" in lines[0]


def test_an_old_payload_says_it_is_rebuilt_with_todays_defaults(trained_tiny, capsys):
    payload = checkpoint.read_recipe(trained_tiny)
    old = {"recipe": payload["recipe"], "zoo_version": "0.1.0"}
    reuse.warn_changes(old, "runs/x", get_registry())
    assert "without its resolved options" in capsys.readouterr().err


def test_export_writes_one_file_that_loads_everywhere_a_run_does(trained_tiny, tmp_path):
    target = tmp_path / "tiny.zoo"
    result = CliRunner().invoke(cli, ["export", str(trained_tiny), "-o", str(target)])
    assert result.exit_code == 0, result.output
    file_digest = hashlib.sha256(target.read_bytes()).hexdigest()
    assert f"file sha256       {file_digest}" in result.output
    from_run, from_file = zoo.load(trained_tiny), zoo.load(target)
    assert from_file.source == str(target)
    np.testing.assert_array_equal(from_file.upscale(IMAGE), from_run.upscale(IMAGE))
    assert weights.read(target).digest == weights.digest_of(from_run.state["params"])
    assert f"parameters sha256 {weights.read(target).digest}" in result.output


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda data: data[: len(data) // 2], "not a zoo weights file, or a truncated one"),
        (lambda data: data[:-40] + bytes([data[-40] ^ 1]) + data[-39:], "parameters do not match"),
        (lambda data: data.replace(b'"width": 8', b'"width": 9'), "recipe inside does not match"),
        (lambda data: b"", "not a zoo weights file"),
    ],
    ids=["truncated", "a flipped weight", "an edited recipe", "empty"],
)
def test_a_damaged_weights_file_is_a_clear_error(trained_tiny, tmp_path, damage, message):
    good = tmp_path / "good.zoo"
    zoo.load(trained_tiny).export(good)
    bad = tmp_path / "bad.zoo"
    bad.write_bytes(damage(good.read_bytes()))
    with pytest.raises(weights.WeightsError, match=message) as caught:
        zoo.load(bad)
    assert str(bad) in str(caught.value)


def test_step_is_for_run_directories_and_names_the_choice(trained_tiny, tmp_path):
    file = tmp_path / "tiny.zoo"
    zoo.load(trained_tiny).export(file)
    with pytest.raises(checkpoint.CheckpointError, match="run directories only"):
        zoo.load(file, step=3)
    model = zoo.load(trained_tiny, step=1)
    assert (model.step, model.selected) == (1, "step 1")
    assert model.describe() == f"{trained_tiny} step 1 (step 1)"
    with pytest.raises(checkpoint.CheckpointError, match="saved steps: 1"):
        zoo.load(trained_tiny, step=7)


def test_an_unknown_source_lists_the_models(tmp_path):
    with pytest.raises(
        checkpoint.CheckpointError, match="no such run directory, weights file or model"
    ):
        zoo.load(tmp_path / "nothing")


# ---------------------------------------------------------------------------------------------
# init_from


def test_an_x2_encoder_starts_an_x4_model(trained_tiny, tmp_path):
    run = tmp_path / "x4"
    train_tiny(run, "scale=4", f"init_from={{source: {trained_tiny}, parts: [encoder]}}")
    assert json.loads((run / "metrics.json").read_text())["steps"] == 1
    record = json.loads((run / "recipe.json").read_text())["init_from"]
    source = zoo.load(trained_tiny).state["params"]
    encoder = {
        name: array
        for name, array in weights.flat_arrays(source).items()
        if name.startswith("encoder.")
    }
    assert record["digest"] == weights.digest_of(encoder)
    assert (record["kind"], record["step"], record["parts"]) == ("run", 1, ["encoder"])
    assert record["copied"] == len(encoder) and record["skipped"] == []


def test_parts_that_do_not_fit_are_named_before_any_compute(trained_tiny):
    with pytest.raises(reuse.ShapeMismatch) as caught:
        reuse.check_init_from(
            tiny_recipe("scale=4", f"init_from={{source: {trained_tiny}}}"),
            get_registry(),
            _abstract_model("scale=4"),
        )
    assert "decoder.out.kernel: saved (3, 3, 8, 12) vs now (3, 3, 8, 48)" in str(caught.value)


def test_a_wrong_width_is_refused_with_both_shapes(trained_tiny):
    from zoo import assemble

    recipe = tiny_recipe(
        "model.encoder.width=16", f"init_from={{source: {trained_tiny}, parts: [encoder]}}"
    )
    with pytest.raises(RecipeError) as caught:
        assemble.validate(recipe, get_registry(), source="x4.yaml")
    message = str(caught.value)
    assert message.startswith("x4.yaml: init_from: ")
    assert "encoder.blocks.0.conv1.bias: saved (8,) vs now (16,)" in message
    assert "init_from.strict: false" in message


def test_not_strict_copies_what_fits_and_names_the_rest(trained_tiny, tmp_path, capsys):
    run = tmp_path / "x4"
    train_tiny(run, "scale=4", f"init_from={{source: {trained_tiny}, strict: false}}")
    record = json.loads((run / "recipe.json").read_text())["init_from"]
    assert record["skipped"] == ["decoder.out.bias", "decoder.out.kernel"]
    assert "2 parameter(s) did not fit" in capsys.readouterr().err


def test_init_from_then_resume_continues_the_new_run(trained_tiny, tmp_path, capsys):
    run = tmp_path / "tuned"
    train_tiny(run, f"init_from={{source: {trained_tiny}}}")
    capsys.readouterr()
    tuned = zoo.load(run).state["params"]
    from zoo.train import train_and_evaluate

    recipe = tiny_recipe("train.steps=2", f"init_from={{source: {trained_tiny}}}")
    train_and_evaluate(recipe, run, resume=True, progress=False)
    assert "Initialised" not in capsys.readouterr().err
    assert checkpoint.latest_step(run) == 2
    assert json.loads((run / "recipe.json").read_text())["init_from"]["step"] == 1
    assert weights.digest_of(zoo.load(run, step=1).state["params"]) == weights.digest_of(tuned)


def _abstract_model(*overrides):
    from zoo import assemble

    return assemble.build_model(tiny_recipe(*overrides), get_registry(), abstract=True)


# ---------------------------------------------------------------------------------------------
# Registered models


def model_plugin(file: Path, sha256: str, **meta) -> object:
    class Models:
        @hookimpl
        def register_models(self, register):
            register("tiny_x2", weights=file, scale=2, sha256=sha256, **meta)

    return Models()


@pytest.fixture
def registered_tiny(trained_tiny, tmp_path, register_plugin):
    file = tmp_path / "tiny_x2.zoo"
    zoo.load(trained_tiny).export(file)
    register_plugin(
        model_plugin(
            file,
            weights.file_sha256(file),
            parameters=2852,
            metrics={"embedded holdout": {"psnr": 26.86, "convention": "y"}},
            description="the tiny test model",
        ),
        name="tiny_models",
    )
    return file


def test_a_registered_model_loads_by_name_and_is_listed(registered_tiny, trained_tiny):
    model = zoo.load("tiny_x2")
    assert model.describe() == "model 'tiny_x2'"
    np.testing.assert_array_equal(model.upscale(IMAGE), zoo.load(trained_tiny).upscale(IMAGE))
    listed = CliRunner().invoke(cli, ["models", "--json"])
    record = next(r for r in json.loads(listed.output) if r["name"] == "tiny_x2")
    assert (record["scale"], record["parameters"], record["plugin"]) == (2, 2852, "tiny_models")
    table = CliRunner().invoke(cli, ["models"]).output
    assert "tiny_x2" in table and "PSNR 26.86 dB" in table


def test_a_registered_model_whose_file_changed_is_refused(trained_tiny, tmp_path, register_plugin):
    file = tmp_path / "tiny_x2.zoo"
    zoo.load(trained_tiny).export(file)
    register_plugin(model_plugin(file, "0" * 64), name="tiny_models")
    with pytest.raises(weights.WeightsError, match="is not the registered 0000"):
        zoo.load("tiny_x2")


def test_a_registration_without_weights_is_a_plugin_problem(register_plugin):
    class NoWeights:
        @hookimpl
        def register_models(self, register):
            register("ghost", scale=2, sha256="0" * 64)

    register_plugin(NoWeights(), name="no_weights")
    with pytest.raises(ZooError, match="registers model 'ghost' without weights="):
        get_registry()


def test_init_from_a_model_name_fine_tunes_it(registered_tiny, tmp_path):
    run = tmp_path / "tuned"
    train_tiny(run, "init_from={source: tiny_x2}")
    record = json.loads((run / "recipe.json").read_text())["init_from"]
    assert (record["source"], record["kind"], record["step"]) == ("tiny_x2", "model", None)
    assert record["digest"] == weights.read(registered_tiny).digest


# ---------------------------------------------------------------------------------------------
# One step, named the same everywhere


def test_report_metrics_load_eval_and_upscale_agree_on_the_step(tmp_path):
    run = tmp_path / "run"
    train_tiny(
        run,
        "data.val={images: 1}",
        "checkpoint.best=psnr",
        "train.steps=3",
        "train.eval_every=1",
        "train.checkpoint_every=1",
        "checkpoint.keep=3",
    )
    metrics = json.loads((run / "metrics.json").read_text())
    step, selected = metrics["step"], metrics["selected"]
    assert selected == "best by val_psnr"
    model = zoo.load(run)
    assert (model.step, model.selected) == (step, selected)
    assert f"{step} ({selected})" in (run / "report.html").read_text()
    table = CliRunner().invoke(
        cli,
        [
            "eval",
            "--data",
            "embedded",
            "--split",
            "holdout",
            "--limit",
            "1",
            "--upscalers",
            "bicubic",
            "--checkpoint",
            str(run),
        ],
    )
    assert f"model: {run} step {step} ({selected})" in table.output
    image = tmp_path / "in.png"
    from zoo.images import write_png

    write_png(image, IMAGE)
    upscaled = CliRunner().invoke(
        cli, ["upscale", "--checkpoint", str(run), str(image), "-o", str(tmp_path / "out")]
    )
    assert upscaled.exit_code == 0, upscaled.output
    assert f"{run} step {step} ({selected}), x2" in upscaled.output


def test_the_report_names_the_init_from_source(trained_tiny, tmp_path):
    run = tmp_path / "tuned"
    train_tiny(run, f"init_from={{source: {trained_tiny}}}")
    record = json.loads((run / "recipe.json").read_text())["init_from"]
    page = (run / "report.html").read_text()
    assert "initialised from" in page and record["digest"][:12] in page
