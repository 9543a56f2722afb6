"""Plugin options that pass their type check but that the plugin rejects fail at validation.

`zoo recipes validate` and `zoo run --dry-run` build every part (the model as shapes only), so a
negative sigma or a data_range of -1 is a one-line message naming the file, the field and the
plugin, with exit code 2 and no traceback, before any compute.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jax.numpy as jnp
import pytest
from click.testing import CliRunner
from tiny import set_field, tiny_dict, write_recipe

from zoo import hookimpl
from zoo.cli import cli


def tiny_with(tmp_path: Path, path: str, value: Any, **more: Any) -> Path:
    """The tiny recipe file with the field at dotted ``path`` set to ``value`` (and each
    ``more`` key, ``__`` for dots, likewise)."""
    raw = tiny_dict()
    for dotted, new in {path: value, **{k.replace("__", "."): v for k, v in more.items()}}.items():
        set_field(raw, dotted, new)
    return write_recipe(tmp_path / "bad.yaml", raw)


BAD_OPTIONS = [
    pytest.param(
        "degradation",
        {"name": "blur_noise_jpeg", "blur_kernel_size": 4},
        ("degradation:", "'blur_noise_jpeg'", "plugin degradations", "odd integer"),
        id="degradation-even-kernel",
    ),
    pytest.param(
        "degradation",
        {"name": "blur_noise_jpeg", "noise_sigma": [-1.0, 5.0]},
        ("degradation:", "'blur_noise_jpeg'", "noise_sigma"),
        id="degradation-negative-sigma",
    ),
    pytest.param(
        "loss",
        {"psnr": {"weight": 1.0, "data_range": -1}},
        ("loss.psnr:", "'psnr'", "plugin metrics", "data_range must be positive"),
        id="loss-metric-negative-range",
    ),
    pytest.param(
        "loss",
        {"mse": 1.0, "ssim": {"weight": 0.5, "data_range": 0}},
        ("loss.ssim:", "'ssim'", "data_range must be positive"),
        id="loss-second-term",
    ),
    pytest.param(
        "model.encoder",
        {"name": "resnet", "width": 0},
        ("model:", "encoder 'resnet'", "plugin autoencoder", "width must be >= 1"),
        id="encoder-zero-width",
    ),
    pytest.param(
        "model.encoder",
        {"name": "dli", "dropout": 1.5},
        ("model:", "encoder 'dli'", "dropout is a rate"),
        id="encoder-dropout-out-of-range",
    ),
    pytest.param(
        "data.train",
        {"name": "folder", "path": "/nonexistent/zoo-test-folder"},
        ("data.train:", "/nonexistent/zoo-test-folder"),
        id="dataset-missing-folder",
    ),
]


@pytest.mark.parametrize(("path", "value", "expected"), BAD_OPTIONS)
def test_validate_reports_a_rejected_option(tmp_path, path, value, expected):
    assert_validate_fails(tiny_with(tmp_path, path, value), expected)


def test_a_decoder_that_does_not_fit_its_encoder_is_named(tmp_path):
    recipe = tiny_with(
        tmp_path,
        "model.encoder",
        {"name": "dli", "width": 8},
        model__decoder={"name": "dli", "width": 16},
        model__input="upsampled",
        model__residual=False,
    )
    assert_validate_fails(recipe, ("model:", "decoder 'dli'", "decoder width 16 needs skips"))


def test_a_metric_that_cannot_take_the_training_patch_fails_when_probed(tmp_path):
    # ssim's 11x11 window does not fit a 4-pixel patch: only calling the metric can tell.
    recipe = tiny_with(tmp_path, "loss", {"ssim": 1.0}, data__patch=4)
    assert_validate_fails(recipe, ("loss.ssim:", "ssim needs images of at least 11x11"))


def assert_validate_fails(recipe: Path, expected: tuple[str, ...]) -> None:
    result = CliRunner().invoke(cli, ["recipes", "validate", str(recipe)])
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    message = result.output.strip()
    assert message.startswith(f"Error: {recipe}: "), message
    assert len(message.splitlines()) <= 2, message
    for part in expected:
        assert part in message, (part, message)


def test_dry_run_reports_a_rejected_option_the_same_way(tmp_path):
    recipe = tiny_with(tmp_path, "loss", {"psnr": {"weight": 1.0, "data_range": -1}})
    result = CliRunner().invoke(cli, ["run", str(recipe), "--dry-run"])
    assert result.exit_code == 2, result.output
    assert f"{recipe}: loss.psnr:" in result.output
    assert "data_range must be positive" in result.output


class CountingMetric:
    """A temporary plugin: a metric that counts exact pixels, so it has no useful gradient."""

    @hookimpl
    def register_metrics(self, register):
        def exact(pred, target):
            return jnp.mean((pred == target).astype(jnp.float32), axis=(1, 2, 3))

        register("exact_pixels", lambda: exact, higher_is_better=True, differentiable=False)


def test_a_non_differentiable_loss_is_refused_at_validation(tmp_path, register_plugin):
    register_plugin(CountingMetric(), name="counting")
    recipe = tiny_with(tmp_path, "loss", {"exact_pixels": 1.0})
    result = CliRunner().invoke(cli, ["recipes", "validate", str(recipe)])
    assert result.exit_code == 2, result.output
    assert "loss.exact_pixels: metric 'exact_pixels' is not differentiable" in result.output
    assert "Differentiable: hfen, " in result.output


def test_the_tiny_recipe_itself_validates(tmp_path):
    result = CliRunner().invoke(
        cli, ["recipes", "validate", str(write_recipe(tmp_path / "t.yaml"))]
    )
    assert result.exit_code == 0, result.output
