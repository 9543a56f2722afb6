"""Bad recipes and bad overrides: each gives one clear message naming file and field, exit 2."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner
from PIL import Image
from tiny import set_field, tiny_dict, write_recipe

from zoo.cli import cli

# The shared tiny recipe (tests/tiny.py) with the DLI encoder and decoder, whose options
# (width, ...) the option tests misspell and override.
VALID = tiny_dict("model={encoder: {name: dli}, decoder: {name: dli}, input: upsampled}")


def write(tmp_path: Path, content: object, name: str = "recipe.yaml") -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content)
        return path
    return write_recipe(path, content)


def with_change(dotted: str, value: object) -> dict:
    return set_field(tiny_dict(base=VALID), dotted, value)


def validate(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["recipes", "validate", *args])
    return result.exit_code, result.output


def show(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["recipes", "show", *args])
    return result.exit_code, result.output


def assert_error(code: int, output: str, *fragments: str) -> None:
    assert code == 2, output
    assert "Traceback" not in output
    assert len(output.strip().splitlines()) <= 2, output
    for fragment in fragments:
        assert fragment in output, f"{fragment!r} not in {output!r}"


def test_the_valid_recipe_validates(tmp_path):
    code, output = validate(str(write(tmp_path, VALID)))
    assert code == 0, output
    assert "ok" in output


def test_unknown_key(tmp_path):
    path = write(tmp_path, with_change("train.stpes", 3))
    assert_error(
        *validate(str(path)),
        str(path),
        "train.stpes",
        "unknown field",
        'Did you mean "steps"?',
        "eval_every",
    )


def test_wrong_type(tmp_path):
    path = write(tmp_path, with_change("data.batch", "sixteen"))
    assert_error(*validate(str(path)), str(path), "data.batch", "integer", "'sixteen'")


def test_unknown_plugin_name_suggests_the_closest(tmp_path):
    path = write(tmp_path, with_change("degradation", {"name": "bicubik"}))
    assert_error(
        *validate(str(path)),
        str(path),
        "degradation",
        "unknown degradation 'bicubik'",
        'Did you mean "bicubic"?',
        "dli_bilinear",
    )


def test_unknown_metric_in_a_list(tmp_path):
    path = write(tmp_path, with_change("eval.metrics", ["psnr", "ssin"]))
    assert_error(
        *validate(str(path)), "eval.metrics[1]", "unknown metric 'ssin'", 'Did you mean "ssim"?'
    )


@pytest.mark.parametrize("steps", [0, -5])
def test_zero_or_negative_steps(tmp_path, steps):
    path = write(tmp_path, with_change("train.steps", steps))
    assert_error(*validate(str(path)), str(path), "train.steps", "greater than or equal to 1")


def test_non_integer_scale(tmp_path):
    path = write(tmp_path, with_change("scale", 2.5))
    assert_error(*validate(str(path)), str(path), "scale", "integer", "2.5")


def test_missing_file(tmp_path):
    missing = tmp_path / "nope.yaml"
    assert_error(*validate(str(missing)), str(missing), "no such recipe file")


def test_yaml_syntax_error(tmp_path):
    path = write(tmp_path, "name: tiny\nscale: [2\ntrain: {steps: 2}\n")
    assert_error(*validate(str(path)), str(path), "YAML syntax error", "line")


def test_a_list_instead_of_a_mapping(tmp_path):
    path = write(tmp_path, "- name: tiny\n- scale: 2\n")
    assert_error(*validate(str(path)), str(path), "must be a YAML mapping", "not a list")


def test_empty_file(tmp_path):
    path = write(tmp_path, "")
    assert_error(*validate(str(path)), str(path), "the recipe is empty")


def test_missing_required_field(tmp_path):
    recipe = tiny_dict(base=VALID)
    del recipe["model"]
    path = write(tmp_path, recipe)
    assert_error(*validate(str(path)), str(path), "model", "required")


def test_override_of_an_unknown_path(tmp_path):
    path = write(tmp_path, VALID)
    assert_error(
        *show(str(path), "train.stepz=3"),
        "train.stepz=3",
        "train has no field 'stepz'",
        'Did you mean "steps"?',
    )


def test_override_with_a_bad_value(tmp_path):
    path = write(tmp_path, VALID)
    assert_error(
        *show(str(path), "data.patch=-48"),
        str(path),
        "data.patch",
        "from override 'data.patch=-48'",
        "greater than or equal to 1",
    )


def test_override_with_an_empty_value(tmp_path):
    path = write(tmp_path, VALID)
    assert_error(*show(str(path), "train.steps="), "has no value", "null")


def test_override_can_clear_an_optional_field(tmp_path):
    path = write(tmp_path, with_change("train.eval_every", 5))
    code, output = show(str(path), "train.eval_every=null")
    assert code == 0, output
    assert yaml.safe_load(output)["train"]["eval_every"] is None


def test_override_without_equals_sign(tmp_path):
    path = write(tmp_path, VALID)
    assert_error(*show(str(path), "train.steps"), "must look like field.path=value")


def test_plugin_option_the_plugin_does_not_accept(tmp_path):
    path = write(tmp_path, with_change("model.decoder", {"name": "dli", "widht": 32}))
    assert_error(
        *validate(str(path)),
        str(path),
        "model.decoder",
        "decoder 'dli'",
        "has no option 'widht'",
        'Did you mean "width"?',
    )


def test_plugin_option_of_the_wrong_type(tmp_path):
    path = write(tmp_path, with_change("model.decoder", {"name": "dli", "width": "wide"}))
    assert_error(*validate(str(path)), str(path), "model.decoder", "width")


def test_non_differentiable_metric_as_loss(tmp_path, register_plugin):
    from zoo import hookimpl

    class CountingMetric:
        @hookimpl
        def register_metrics(self, register):
            register("count_equal", lambda: None, higher_is_better=True, differentiable=False)

    register_plugin(CountingMetric(), name="counting")
    path = write(tmp_path, with_change("loss", {"mse": 1.0, "count_equal": 1.0}))
    assert_error(*validate(str(path)), "loss.count_equal", "not differentiable", "mse")


def test_patch_not_a_multiple_of_scale(tmp_path):
    path = write(tmp_path, with_change("data.patch", 15))
    assert_error(*validate(str(path)), str(path), "data.patch (15) must be a multiple of scale")


def test_unknown_optimizer_argument(tmp_path):
    path = write(tmp_path, with_change("optimizer", {"name": "adam", "beta1": 0.9}))
    assert_error(
        *validate(str(path)),
        "optimizer.beta1",
        "optax.adam has no argument 'beta1'",
        'Did you mean "b1"?',
    )


def test_best_checkpoint_metric_must_be_evaluated(tmp_path):
    path = write(tmp_path, with_change("checkpoint.best", "ssim"))
    assert_error(*validate(str(path)), "checkpoint.best", "not among eval.metrics")


def test_choosing_the_best_checkpoint_on_the_eval_set_is_refused(tmp_path):
    path = write(tmp_path, with_change("checkpoint.best", "psnr"))
    assert_error(
        *validate(str(path)),
        str(path),
        "checkpoint.best: choosing the checkpoint by psnr on data.eval would inflate",
        "data.val: {images: N} holds out the last N images of data.train",
        "data.val: {name: folder, path: DIR}",
        "or set checkpoint.best: null",
    )
    result = CliRunner().invoke(cli, ["run", str(path), "--workdir", str(tmp_path / "run")])
    assert_error(result.exit_code, result.output, "checkpoint.best", "data.val")
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("val", [{"images": 2}, "folder_of_its_own"], ids=["held-out", "dataset"])
def test_a_validation_set_lets_the_best_checkpoint_be_chosen(tmp_path, val):
    if val == "folder_of_its_own":
        folder = tmp_path / "val"
        folder.mkdir()
        Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(folder / "grey.png")
        val = {"name": "folder", "path": str(folder)}
    recipe = set_field(with_change("checkpoint.best", "psnr"), "data.val", val)
    code, output = validate(str(write(tmp_path, recipe)))
    assert code == 0, output


@pytest.mark.parametrize(
    ("val", "fragments"),
    [
        ({"images": 0}, ("data.val.images", "greater than or equal to 1", "(got 0)")),
        ({"images": "two"}, ("data.val.images", "integer")),
        ({"images": 2, "name": "folder"}, ("data.val", "takes no other key (got name)")),
        ({"path": "images/"}, ("data.val", "expected {images: N}", "{name: folder, path: DIR}")),
        (3, ("data.val", "expected {images: N}")),
        (
            {"name": "embeded"},
            ("data.val", "unknown dataset 'embeded'", 'Did you mean "embedded"?'),
        ),
        (
            {"images": 13},
            (
                "data.val",
                "{images: 13} holds out every one of the 13 images of data.train",
                "hold out at most 12",
            ),
        ),
        ({"images": 99}, ("data.val", "more than the 13 images", "leaving none to train on")),
        # embedded's `all`: the holdout too, so the numbers reported there would be inflated
        ("embedded", ("data.val", "4 of its 17 images are also in data.eval", "astronaut")),
        (
            {"name": "embedded", "split": "train"},
            ("data.val", "also in data.train", "fitting"),
        ),
    ],
    ids=lambda value: str(value) if not isinstance(value, tuple) else "",
)
def test_a_bad_validation_set_is_one_line(tmp_path, val, fragments):
    recipe = set_field(with_change("checkpoint.best", "psnr"), "data.val", val)
    path = write(tmp_path, recipe)
    assert_error(*validate(str(path)), str(path), *fragments)


def test_run_rejects_a_bad_recipe_before_compute(tmp_path):
    path = write(tmp_path, with_change("train.steps", 0))
    result = CliRunner().invoke(cli, ["run", str(path), "--workdir", str(tmp_path / "run")])
    assert_error(result.exit_code, result.output, "train.steps")
    assert not (tmp_path / "run").exists()


def test_show_applies_overrides(tmp_path):
    path = write(tmp_path, VALID)
    code, output = show(str(path), "train.steps=200", "data.patch=48", "model.decoder.width=32")
    assert code == 0, output
    shown = yaml.safe_load(output)
    assert shown["train"]["steps"] == 200
    assert shown["data"]["patch"] == 48
    assert shown["model"]["decoder"] == {"name": "dli", "width": 32}
    assert shown["optimizer"]["schedule"]["name"] == "constant"  # defaults are filled in
