"""Inference from a run directory: zoo.load, any image size, seamless tiles, `zoo upscale`.

The models are trained for one step only (inference does not care how good they are), with the
smallest evaluation the recipe allows, so the module stays fast.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image
from tiny import train_tiny

import zoo
from zoo.cli import cli
from zoo.errors import ZooError

# Overrides of the shared tiny recipe (tests/tiny.py); its own model is the resnet.
MODELS: dict[str, tuple[str, ...]] = {
    "resnet": (),
    # The DLI network sees the bicubic-upsampled image: two poolings and ten 3x3 convolutions
    # at full size, a receptive field of about 12 low-resolution pixels each side.
    "dli_upsampled": (
        "model={encoder: {name: dli, width: 4}, decoder: dli, input: upsampled, upsample: bicubic}",
    ),
    # The same network on the LR image itself: its receptive field is 19 LR pixels each side.
    "dli_lr": ("model={encoder: {name: dli, width: 4}, decoder: dli, input: lr}",),
}
DEFAULT_OVERLAP = None  # `zoo upscale` and TrainedModel.upscale: measured from the model


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest):
    """Run directories trained on first use, one per model; tests only read them.

    The resnet is the tiny recipe itself, so it is the session's ``trained_tiny`` (conftest.py).
    """
    root = tmp_path_factory.mktemp("upscale")
    made: dict[str, Path] = {}

    def get(model: str) -> Path:
        if model not in made:
            if not MODELS[model]:
                made[model] = request.getfixturevalue("trained_tiny")
            else:
                made[model] = train_tiny(root / model, f"name=tiny_{model}", *MODELS[model])
        return made[model]

    return get


@pytest.fixture(scope="module")
def loaded(runs):
    """zoo.load of each run, once: every load compiles its own predict function."""
    made: dict[str, zoo.upscale.TrainedModel] = {}

    def get(model: str) -> zoo.upscale.TrainedModel:
        if model not in made:
            made[model] = zoo.load(runs(model))
        return made[model]

    return get


@pytest.fixture(scope="module")
def resnet_run(runs) -> Path:
    return runs("resnet")


@pytest.fixture(scope="module")
def resnet(loaded):
    return loaded("resnet")


def random_image(height: int, width: int, seed: int = 0, *, grey: bool = False) -> np.ndarray:
    rng = np.random.default_rng(seed)
    # Smooth-ish content, so the model's output is not saturated everywhere.
    base = rng.random((height // 4 + 2, width // 4 + 2, 1 if grey else 3))
    image = np.kron(base, np.ones((4, 4, 1)))[:height, :width] * 0.8 + 0.1
    image = image + 0.05 * rng.random(image.shape)
    return image[..., 0].astype(np.float32) if grey else image.astype(np.float32)


def to_uint8(image: np.ndarray) -> np.ndarray:
    return np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)


def png_bit_depth(path: Path) -> int:
    return path.read_bytes()[24]  # IHDR: 8-byte signature, length, type, width, height, depth


# ---------------------------------------------------------------------------------------------
# zoo.load and TrainedModel.upscale


def test_load_needs_only_the_checkpoints(resnet_run, resnet, tmp_path, caplog):
    # Copy the checkpoints alone somewhere else: recipe.json, metrics.json and the report stay.
    elsewhere = tmp_path / "moved"
    shutil.copytree(resnet_run / "checkpoints", elsewhere / "checkpoints")
    with caplog.at_level(logging.INFO):
        model = zoo.load(elsewhere)
    # Quietly: no warnings from Orbax about opening a directory read-only.
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text
    assert model.scale == 2
    assert model.step == 1
    assert model.recipe.model.encoder.name == "resnet"
    image = random_image(20, 24)
    np.testing.assert_array_equal(model.upscale(image), resnet.upscale(image))


def test_load_errors_name_the_directory(tmp_path):
    with pytest.raises(ZooError, match="no such run directory"):
        zoo.load(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ZooError, match="empty"):
        zoo.load(tmp_path / "empty")


@pytest.mark.parametrize("size", [(37, 23), (23, 37), (5, 9)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_upscale_uint8_any_size(resnet, size):
    model = resnet
    height, width = size
    image = to_uint8(random_image(height, width))
    out = model.upscale(image)
    assert out.dtype == np.uint8
    assert out.shape == (2 * height, 2 * width, 3)
    # The uint8 path is the float path, rounded.
    as_float = model.upscale(image.astype(np.float32) / 255.0)
    assert as_float.dtype == np.float32 and as_float.shape == out.shape
    assert np.abs(out.astype(int) - to_uint8(as_float).astype(int)).max() <= 1
    # Not an empty canvas: close to the input, upscaled (the net learns a residual over bicubic).
    nearest = np.kron(image.astype(float), np.ones((2, 2, 1)))
    assert np.abs(out - nearest).mean() < 30


def test_upscale_grey_two_dimensional_input(resnet):
    model = resnet
    grey = to_uint8(random_image(23, 37, grey=True))
    out = model.upscale(grey)
    assert out.dtype == np.uint8
    assert out.shape == (46, 74, 3)
    np.testing.assert_array_equal(out, model.upscale(np.repeat(grey[:, :, None], 3, axis=2)))


def test_upscale_rejects_other_channel_counts(resnet):
    model = resnet
    with pytest.raises(ValueError, match=r"\(H, W, 3\)"):
        model.upscale(np.zeros((8, 8, 4), np.uint8))


# ---------------------------------------------------------------------------------------------
# Tiles
#
# Each tile shape compiles the network once, so the images are small and the settings few. A
# 37x23 image pads to 40x24: tile 8 cuts 5 x 3 tiles, tile 16 cuts 3 x 2, edge tiles included.


def max_difference(
    model, image: np.ndarray, tile: int, overlap: int | None = DEFAULT_OVERLAP
) -> float:
    return float(
        np.abs(model.upscale(image, tile=tile, overlap=overlap) - model.upscale(image)).max()
    )


@pytest.mark.parametrize(
    ("model_name", "tile", "overlap"),
    [
        # the resnet's 5 convolutions see 5 px each side: 8 on the 4-px grid
        ("resnet", 8, 8),
        ("resnet", 16, DEFAULT_OVERLAP),
        ("dli_upsampled", 8, 12),
        ("dli_upsampled", 16, DEFAULT_OVERLAP),
    ],
)
def test_tiled_equals_untiled(loaded, model_name, tile, overlap):
    model = loaded(model_name)
    image = random_image(37, 23, seed=1)  # odd sizes: padding and partial edge tiles
    assert model.upscale(image).shape == (74, 46, 3)
    assert max_difference(model, image, tile, overlap) < 1e-5


@pytest.mark.parametrize(("model_name", "overlap"), [("resnet", 4), ("dli_upsampled", 8)])
def test_too_little_overlap_shows_seams(loaded, model_name, overlap):
    """The check above can fail: tiles are really cut, and a short margin shows."""
    assert max_difference(loaded(model_name), random_image(37, 23, seed=1), 16, overlap) > 1e-4


@pytest.mark.slow  # a third model to train
def test_default_overlap_covers_the_dli_lr_receptive_field(loaded):
    """The DLI encoder on the LR image (model.input: lr) sees 19 LR pixels each side."""
    model = loaded("dli_lr")
    # larger than the windows of tile 16 + 2 x 16 margin, which are never cut short
    image = random_image(101, 67, seed=3)
    assert max_difference(model, image, 16, overlap=16) > 1e-4  # too short a margin shows
    assert max_difference(model, image, 16) < 1e-5  # the default overlap


# ---------------------------------------------------------------------------------------------
# zoo upscale


def write_png(path: Path, image: np.ndarray) -> Path:
    Image.fromarray(image).save(path)
    return path


def upscale_cli(*args: str | Path):
    return CliRunner().invoke(cli, ["upscale", *map(str, args)])


def test_cli_writes_8bit_pngs_of_the_right_size(resnet_run, resnet, tmp_path):
    rgb = write_png(tmp_path / "rgb.png", to_uint8(random_image(23, 37)))
    grey = write_png(tmp_path / "grey.png", to_uint8(random_image(17, 20, grey=True)))
    out = tmp_path / "out"
    result = upscale_cli("--checkpoint", resnet_run, rgb, grey, "-o", out)
    assert result.exit_code == 0, result.output
    assert "Wrote 2 image(s)" in result.output
    for name, size in (("rgb.png", (74, 46)), ("grey.png", (40, 34))):
        with Image.open(out / name) as image:
            assert image.format == "PNG" and image.mode == "RGB" and image.size == size
        assert png_bit_depth(out / name) == 8
    assert sorted(p.name for p in out.iterdir()) == ["grey.png", "rgb.png"]  # no leftovers
    # The file is what the Python API gives.
    expected = resnet.upscale(np.asarray(Image.open(rgb)))
    np.testing.assert_array_equal(np.asarray(Image.open(out / "rgb.png")), expected)


def test_cli_skips_existing_outputs_unless_forced(resnet_run, tmp_path):
    # An existing output is complete (written atomically), so a rerun skips it and says so;
    # it used to refuse with exit 2 and demand --force (tests/reliability/ has the batch cases).
    image = write_png(tmp_path / "photo.png", to_uint8(random_image(12, 16)))
    out = tmp_path / "out"
    out.mkdir()
    (out / "photo.png").write_bytes(b"precious")
    result = upscale_cli("--checkpoint", resnet_run, image, "-o", out)
    assert result.exit_code == 0, result.output
    assert "Skipped 1 output" in result.output and "--force" in result.output
    assert "Traceback" not in result.output
    assert (out / "photo.png").read_bytes() == b"precious"

    result = upscale_cli("--checkpoint", resnet_run, image, "-o", out, "--force")
    assert result.exit_code == 0, result.output
    with Image.open(out / "photo.png") as written:
        assert written.size == (32, 24)


def test_cli_reads_a_folder(resnet_run, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    write_png(folder / "a.png", to_uint8(random_image(12, 16, seed=1)))
    Image.fromarray(to_uint8(random_image(10, 14, seed=2))).save(folder / "b.jpg", quality=95)
    (folder / "notes.txt").write_text("not an image")
    out = tmp_path / "out"
    result = upscale_cli("--checkpoint", resnet_run, folder, "-o", out)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.png"]
    with Image.open(out / "b.png") as image:
        assert image.size == (28, 20)


@pytest.mark.parametrize("damage", ["not-an-image", "truncated"])
def test_cli_names_an_unreadable_file(resnet_run, tmp_path, damage):
    bad = tmp_path / "bad.png"
    if damage == "not-an-image":
        bad.write_text("this is text with an image's name")
    else:
        write_png(bad, to_uint8(random_image(40, 40)))
        bad.write_bytes(bad.read_bytes()[:-60])
    result = upscale_cli("--checkpoint", resnet_run, bad, "-o", tmp_path / "out")
    assert result.exit_code == 1, result.output  # 1: some inputs failed (2: could not start)
    assert str(bad) in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out" / "bad.png").exists()


def test_cli_missing_input_and_missing_run(resnet_run, tmp_path):
    result = upscale_cli("--checkpoint", resnet_run, tmp_path / "nope.png", "-o", tmp_path / "o")
    assert result.exit_code == 2 and "nope.png" in result.output, result.output
    image = write_png(tmp_path / "x.png", to_uint8(random_image(8, 8)))
    result = upscale_cli("--checkpoint", tmp_path / "no_run", image, "-o", tmp_path / "o")
    assert result.exit_code == 2 and "no_run" in result.output, result.output
    assert "Traceback" not in result.output


def test_cli_default_overlap_is_seamless_for_dli_upsampled(runs, tmp_path):
    run_dir = runs("dli_upsampled")
    image = write_png(tmp_path / "photo.png", to_uint8(random_image(37, 23, seed=4)))
    whole, tiled = tmp_path / "whole", tmp_path / "tiled"
    assert upscale_cli("--checkpoint", run_dir, image, "-o", whole).exit_code == 0
    result = upscale_cli("--checkpoint", run_dir, image, "-o", tiled, "--tile", "16")
    assert result.exit_code == 0, result.output
    a = np.asarray(Image.open(whole / "photo.png")).astype(int)
    b = np.asarray(Image.open(tiled / "photo.png")).astype(int)
    assert a.shape == (74, 46, 3)
    assert np.abs(a - b).max() <= 1  # equal up to a float rounding at a .5 boundary
    assert np.mean(a != b) < 0.001


@pytest.mark.parametrize(
    ("model_name", "low", "high"), [("resnet", 3, 8), ("dli_upsampled", 8, 16)]
)
def test_receptive_radius_is_measured_and_sets_the_default_overlap(loaded, model_name, low, high):
    model = loaded(model_name)
    assert low <= model.receptive_radius <= high
    assert model.default_overlap() >= max(24, model.receptive_radius + 1)


@pytest.mark.slow  # a third model to train
def test_measured_radius_of_the_dli_net_on_lr_images(loaded):
    model = loaded("dli_lr")
    assert 17 <= model.receptive_radius <= 24
    assert max_difference(model, random_image(37, 23, seed=5), 16) < 1e-5
