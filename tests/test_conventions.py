"""Evaluation conventions: rgb as-is, y as the published SR protocol computed directly in numpy."""

from __future__ import annotations

from functools import partial

import jax
import numpy as np
import pytest
from PIL import Image
from skimage.metrics import structural_similarity

from zoo import conventions

RNG = np.random.default_rng(3)
SET5 = ("baby", "bird", "butterfly", "head", "woman")


@pytest.fixture(scope="module")
def metrics():
    """psnr and ssim from a registry with only the metrics plugin loaded."""
    from zoo import plugins
    from zoo.registry import get_registry

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ZOO_LOAD_PLUGINS", "metrics")
        plugins.reset()
        registry = get_registry()
        yield registry.build("metrics", "psnr"), registry.build("metrics", "ssim")
    plugins.reset()


# ----- the protocol of ../shared/data/README.md, step by step in float64 numpy ----------------


def to_uint8(image: np.ndarray) -> np.ndarray:
    """Clip to [0, 255] and round halves up, as MATLAB's uint8() does for non-negative values."""
    return (np.clip(image * 255.0, 0.0, 255.0) + 0.5).astype(np.uint8)


def y_channel(image_uint8: np.ndarray) -> np.ndarray:
    """MATLAB rgb2ycbcr's Y on the 0..255 scale, kept as float."""
    r, g, b = (image_uint8[..., c] / 255.0 for c in range(3))
    return 16.0 + 65.481 * r + 128.553 * g + 24.966 * b


def protocol(pred: np.ndarray, target: np.ndarray, scale: int) -> tuple[float, float]:
    """(PSNR, SSIM) of one HWC pair: 8-bit, Y, shave ``scale``, R = L = 255."""
    shave = (slice(scale, -scale), slice(scale, -scale))
    y_pred = y_channel(to_uint8(pred))[shave]
    y_target = y_channel(to_uint8(target))[shave]
    psnr = 10.0 * np.log10(255.0**2 / np.mean((y_pred - y_target) ** 2))
    ssim = structural_similarity(
        y_pred, y_target, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
        data_range=255.0,
    )  # fmt: skip
    return float(psnr), float(ssim)


def matlab_cubic(x: np.ndarray) -> np.ndarray:
    ax = np.abs(x)
    near = (1.5 * ax**3 - 2.5 * ax**2 + 1.0) * (ax <= 1)
    far = (-0.5 * ax**3 + 2.5 * ax**2 - 4.0 * ax + 2.0) * ((ax > 1) & (ax <= 2))
    return near + far


def matlab_upscale_matrix(size: int, scale: int) -> np.ndarray:
    """MATLAB imresize(..., scale, 'bicubic') along one axis as a matrix (upscaling: no
    antialiasing; symmetric borders)."""
    out = np.arange(1, size * scale + 1) / scale + 0.5 * (1.0 - 1.0 / scale)
    index = np.floor(out - 2.0)[:, None] + np.arange(6)[None, :]
    weights = matlab_cubic(out[:, None] - index)
    weights /= weights.sum(axis=1, keepdims=True)
    mirror = np.concatenate([np.arange(size), np.arange(size)[::-1]])
    columns = mirror[np.mod(index.astype(int) - 1, 2 * size)]
    rows = np.repeat(np.arange(size * scale)[:, None], 6, axis=1)
    matrix = np.zeros((size * scale, size))
    np.add.at(matrix, (rows, columns), weights)
    return matrix


def load(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), dtype=np.float64) / 255.0


# ----- names ----------------------------------------------------------------------------------


def test_names_and_descriptions():
    assert conventions.CONVENTIONS == ("rgb", "y")
    for name in conventions.CONVENTIONS:
        assert conventions.describe(name)
    with pytest.raises(ValueError, match="valid: rgb, y"):
        conventions.describe("Y")
    with pytest.raises(ValueError, match=r"'ycbcr'.*valid: rgb, y"):
        conventions.apply("ycbcr", np.zeros((1, 8, 8, 3)), np.zeros((1, 8, 8, 3)), 2)


# ----- rgb ------------------------------------------------------------------------------------


def test_rgb_keeps_images_and_clips_to_the_unit_range():
    target = RNG.random((2, 9, 7, 3)).astype(np.float32)
    pred = (target + RNG.normal(0.0, 0.3, target.shape)).astype(np.float32)
    scored_pred, scored_target = conventions.apply("rgb", pred, target, 4)
    np.testing.assert_array_equal(np.asarray(scored_target), target)
    np.testing.assert_array_equal(np.asarray(scored_pred), np.clip(pred, 0.0, 1.0))


# ----- y --------------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [1, 2, 3, 4])
def test_y_is_8_bit_luma_over_255_shaved_by_scale(scale):
    target = RNG.random((2, 20, 17, 3)).astype(np.float32)
    pred = (target + RNG.normal(0.0, 0.2, target.shape)).astype(np.float32)
    apply = jax.jit(partial(conventions.apply, "y", scale=scale))
    scored_pred, scored_target = apply(pred, target)
    assert scored_pred.shape == (2, 20 - 2 * scale, 17 - 2 * scale, 1)
    shave = (slice(None), slice(scale, -scale), slice(scale, -scale))
    for scored, image in ((scored_pred, pred), (scored_target, target)):
        expected = y_channel(to_uint8(image.astype(np.float64)))[shave] / 255.0
        np.testing.assert_allclose(np.asarray(scored)[..., 0], expected, atol=1e-6)


def test_y_quantizes_to_the_nearest_of_256_levels_after_clipping():
    image = RNG.uniform(-0.2, 1.2, (1, 16, 16, 3)).astype(np.float32)
    levels = np.asarray(conventions.quantize_8bit(image)) * 255.0
    np.testing.assert_allclose(levels, np.round(levels), atol=1e-4)
    assert np.abs(levels - np.clip(image, 0.0, 1.0) * 255.0).max() <= 0.5 + 1e-4


def test_y_refuses_bad_scale_and_non_rgb():
    images = np.zeros((1, 8, 8, 3), np.float32)
    with pytest.raises(ValueError, match="positive int"):
        conventions.apply("y", images, images, 0)
    with pytest.raises(ValueError, match="cannot shave 4"):
        conventions.apply("y", images, images, 4)
    with pytest.raises(ValueError, match="3 channels"):
        conventions.apply("y", images[..., :1], images[..., :1], 2)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_y_with_default_metrics_equals_the_published_protocol(metrics, scale):
    psnr, ssim = metrics
    target = RNG.random((2, 40, 36, 3)).astype(np.float32)
    pred = (target + RNG.normal(0.0, 0.08, target.shape)).astype(np.float32)
    scored = conventions.apply("y", pred, target, scale)
    expected = [protocol(p, t, scale) for p, t in zip(pred, target, strict=True)]
    np.testing.assert_allclose(np.asarray(psnr(*scored)), [e[0] for e in expected], atol=1e-4)
    np.testing.assert_allclose(np.asarray(ssim(*scored)), [e[1] for e in expected], atol=1e-5)


@pytest.mark.shared_data
def test_y_reproduces_published_set5_bicubic_x2(metrics, shared_data):
    """MATLAB bicubic x2 from the MATLAB-made LR files: the EDSR paper's 33.66 dB / 0.9299."""
    psnr, ssim = metrics
    values = []
    for name in SET5:
        hr = load(shared_data / "Set5" / "HR" / f"{name}.png")
        lr = load(shared_data / "Set5" / "LR_bicubic" / "X2" / f"{name}x2.png")
        hr = hr[: lr.shape[0] * 2, : lr.shape[1] * 2]
        rows, cols = matlab_upscale_matrix(lr.shape[0], 2), matlab_upscale_matrix(lr.shape[1], 2)
        sr = np.einsum("ij,jkc,lk->ilc", rows, lr, cols, optimize=True)
        scored = conventions.apply("y", sr[None].astype(np.float32), hr[None].astype(np.float32), 2)
        ours = (float(psnr(*scored)[0]), float(ssim(*scored)[0]))
        expected = protocol(sr, hr, 2)
        assert abs(ours[0] - expected[0]) < 1e-4, (name, ours, expected)
        assert abs(ours[1] - expected[1]) < 1e-5, (name, ours, expected)
        values.append(ours)
    mean_psnr, mean_ssim = np.mean(values, axis=0)
    # The data README: a faithful implementation lands within about 0.02 dB and 0.001.
    assert abs(mean_psnr - 33.66) < 0.025, mean_psnr
    assert abs(mean_ssim - 0.9299) < 0.001, mean_ssim


def test_y_scores_single_channel_sources_on_their_grey_level():
    grey = RNG.random((2, 12, 12, 1)).astype(np.float32)
    target = np.repeat(grey, 3, axis=3)
    pred = np.clip(target + RNG.normal(0, 0.02, target.shape), 0, 1).astype(np.float32)
    flags = np.array([True, False])
    scored_pred, scored_target = conventions.apply("y", pred, target, 2, flags)
    level = lambda x: np.floor(np.clip(x, 0, 1) * 255 + 0.5) / 255
    np.testing.assert_allclose(scored_target[0, ..., 0], level(grey[0, 2:-2, 2:-2, 0]), atol=1e-6)
    luma = (16 + 219 * level(grey[1, 2:-2, 2:-2, 0])) / 255
    np.testing.assert_allclose(scored_target[1, ..., 0], luma, atol=1e-6)
    error_grey = np.mean((scored_pred[0] - scored_target[0]) ** 2)
    error_luma = np.mean(((scored_pred[0] - scored_target[0]) * 219 / 255) ** 2)
    assert error_grey > error_luma  # grey-level scoring is the stricter one
