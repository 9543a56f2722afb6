"""Built-in upscalers: shapes, nearest = repeat, MATLAB bicubic, PIL, Set5 bicubic PSNR."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from PIL import Image

from zoo_degradations import bicubic as bicubic_degradation
from zoo_upscalers import bicubic, bilinear, lanczos, nearest

RNG = np.random.default_rng(11)
SET5 = ("baby", "bird", "butterfly", "head", "woman")
# Published Set5 bicubic PSNR (Y, shave s, R = 255), EDSR paper Table 4.
PUBLISHED_SET5_BICUBIC = {2: 33.66, 3: 30.39, 4: 28.42}


@pytest.fixture
def registry(monkeypatch):
    """A registry with only this plugin loaded, so work in progress elsewhere cannot break it."""
    from zoo import plugins
    from zoo.registry import get_registry

    monkeypatch.setenv("ZOO_LOAD_PLUGINS", "upscalers")
    plugins.reset()
    yield get_registry()
    plugins.reset()


def channel(image: np.ndarray) -> np.ndarray:
    return image[None, :, :, None].astype(np.float32)


def pil_resize(image: np.ndarray, scale: int, method: int) -> np.ndarray:
    height, width = image.shape
    resized = Image.fromarray(image.astype(np.float32), "F").resize(
        (width * scale, height * scale), method
    )
    return np.asarray(resized)


@pytest.mark.parametrize("name", ["nearest", "bilinear", "bicubic", "lanczos"])
def test_registered_and_exact_output_shape(registry, name):
    upscale = registry.build("upscalers", name)
    lr = RNG.random((2, 5, 7, 3)).astype(np.float32)
    for scale in (2, 3, 4):
        out = upscale(lr, scale)
        assert out.shape == (2, 5 * scale, 7 * scale, 3)
        assert out.dtype == np.float32


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_nearest_equals_repeat(scale):
    lr = RNG.random((2, 6, 5, 3)).astype(np.float32)
    expected = np.repeat(np.repeat(lr, scale, axis=1), scale, axis=2)
    np.testing.assert_array_equal(np.asarray(nearest.factory()(lr, scale)), expected)


@pytest.mark.parametrize("module", [bilinear, bicubic, lanczos])
def test_constant_image_is_preserved(module):
    lr = np.full((1, 6, 6, 3), 0.625, np.float32)
    np.testing.assert_allclose(np.asarray(module.factory()(lr, 3)), 0.625, atol=1e-6)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_bicubic_reproduces_linear_ramps_in_the_interior(scale):
    rows, cols = np.mgrid[0:12, 0:10]
    lr = 0.02 * rows + 0.03 * cols + 0.1
    out = np.asarray(bicubic.factory()(channel(lr), scale))[0, :, :, 0]
    # Output pixel centres sit at (i + 0.5) / scale - 0.5 in LR pixel coordinates.
    centres_r = (np.arange(12 * scale) + 0.5) / scale - 0.5
    centres_c = (np.arange(10 * scale) + 0.5) / scale - 0.5
    expected = 0.02 * centres_r[:, None] + 0.03 * centres_c[None, :] + 0.1
    inner = slice(2 * scale, -2 * scale)
    np.testing.assert_allclose(out[inner, inner], expected[inner, inner], atol=1e-6)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_bicubic_interior_equals_pil_and_borders_are_symmetric(scale):
    # PIL uses the same a = -0.5 kernel and pixel centres; only the border rule differs.
    lr = RNG.random((11, 13))
    out = np.asarray(bicubic.factory()(channel(lr), scale))[0, :, :, 0]
    expected = pil_resize(lr, scale, Image.BICUBIC)
    inner = slice(2 * scale, -2 * scale)
    np.testing.assert_allclose(out[inner, inner], expected[inner, inner], atol=1e-6)
    padded = np.pad(lr, 2, mode="symmetric")
    mirrored = np.asarray(bicubic.factory()(channel(padded), scale))[0, :, :, 0]
    np.testing.assert_allclose(
        out, mirrored[2 * scale : -2 * scale, 2 * scale : -2 * scale], atol=1e-6
    )


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_bilinear_edge_equals_pil(scale):
    lr = RNG.random((9, 7))
    out = np.asarray(bilinear.factory()(channel(lr), scale))[0, :, :, 0]
    np.testing.assert_allclose(out, pil_resize(lr, scale, Image.BILINEAR), atol=1e-6)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_lanczos_agrees_with_pil(scale):
    lr = RNG.random((14, 12))
    expected = pil_resize(lr, scale, Image.LANCZOS)
    pil_like = lanczos.factory(border="renormalize")(channel(lr), scale)
    np.testing.assert_allclose(np.asarray(pil_like)[0, :, :, 0], expected, atol=1e-6)
    # MATLAB's symmetric border changes only outputs whose 6-tap support leaves the image.
    matlab_like = np.asarray(lanczos.factory()(channel(lr), scale))[0, :, :, 0]
    inner = slice(3 * scale, -3 * scale)
    np.testing.assert_allclose(matlab_like[inner, inner], expected[inner, inner], atol=1e-6)


def test_upscalers_are_not_clipped():
    lr = np.zeros((1, 8, 8, 1), np.float32)
    lr[0, :, 4:] = 1.0  # a step overshoots with cubic and Lanczos kernels
    for module in (bicubic, lanczos):
        out = np.asarray(module.factory()(lr, 2))
        assert out.min() < 0.0 and out.max() > 1.0


def test_jittable_with_static_scale():
    lr = RNG.random((1, 6, 6, 3)).astype(np.float32)
    upscale = bicubic.factory()
    jitted = jax.jit(upscale, static_argnums=1)
    np.testing.assert_allclose(np.asarray(jitted(lr, 3)), np.asarray(upscale(lr, 3)), atol=1e-7)


@pytest.mark.parametrize("bad", [0, 2.0, -1])
def test_scale_must_be_a_positive_int(bad):
    with pytest.raises(ValueError, match="scale"):
        nearest.factory()(np.zeros((1, 4, 4, 3), np.float32), bad)


@pytest.mark.parametrize(("module", "border"), [(bilinear, "symmetric"), (lanczos, "zero")])
def test_unknown_border_is_refused(module, border):
    with pytest.raises(ValueError, match="border"):
        module.factory(border=border)


def y_channel(rgb_uint8: np.ndarray) -> np.ndarray:
    """ITU-R BT.601 luma on the 16-235 scale, from RGB in [0, 1], kept as float."""
    rgb = rgb_uint8.astype(np.float64) / 255.0
    return 16.0 + 65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]


def set5_bicubic_psnr(shared_data, scale: int) -> float:
    """The benchmark protocol: MATLAB bicubic LR (8 bit), bicubic SR, Y, shave, PSNR at R = 255."""
    degrade = bicubic_degradation.factory(scale=scale, matlab_uint8=True)
    upscale = bicubic.factory()
    values = []
    for name in SET5:
        hr = np.asarray(Image.open(shared_data / "Set5" / "HR" / f"{name}.png").convert("RGB"))
        hr = hr[: hr.shape[0] - hr.shape[0] % scale, : hr.shape[1] - hr.shape[1] % scale]
        lr = degrade(hr[None].astype(np.float32) / 255, jax.random.key(0))
        sr = np.asarray(upscale(lr, scale))[0]
        sr = np.round(np.clip(sr, 0.0, 1.0) * 255).astype(np.uint8)
        shave = (slice(scale, -scale), slice(scale, -scale))
        error = y_channel(sr)[shave] - y_channel(hr)[shave]
        values.append(10 * np.log10(255.0**2 / np.mean(error**2)))
    return float(np.mean(values))


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_set5_bicubic_matches_published_psnr(shared_data, scale):
    # Measured: 33.678 (x2), 30.404 (x3), 28.431 (x4).
    assert set5_bicubic_psnr(shared_data, scale) == pytest.approx(
        PUBLISHED_SET5_BICUBIC[scale], abs=0.03
    )
