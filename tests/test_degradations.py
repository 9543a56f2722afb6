"""Built-in degradations: DLI bilinear vs scikit-image, MATLAB bicubic vs Set5, blur/noise/JPEG."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from PIL import Image
from skimage.transform import rescale

from zoo_degradations import bicubic, blur, blur_noise_jpeg, dli_bilinear, jpeg, noise
from zoo_upscalers import bilinear

RNG = np.random.default_rng(7)
SET5 = ("baby", "bird", "butterfly", "head", "woman")
SKIMAGE_DLI = {"order": 1, "mode": "constant", "anti_aliasing": False, "channel_axis": -1}


def load_rgb(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))


def mod_crop(image: np.ndarray, scale: int) -> np.ndarray:
    height, width = image.shape[:2]
    return image[: height - height % scale, : width - width % scale]


def psnr_uint8(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


@pytest.fixture
def registry(monkeypatch):
    """A registry with only this plugin loaded, so work in progress elsewhere cannot break it."""
    from zoo import plugins
    from zoo.registry import get_registry

    monkeypatch.setenv("ZOO_LOAD_PLUGINS", "degradations")
    plugins.reset()
    yield get_registry()
    plugins.reset()


def test_registered_with_meta(registry):
    assert set(registry.names("degradations")) >= {"dli_bilinear", "bicubic", "blur_noise_jpeg"}
    assert registry.get("degradations", "dli_bilinear").meta["jittable"] is True
    assert registry.get("degradations", "bicubic").meta["jittable"] is True
    assert registry.get("degradations", "blur_noise_jpeg").meta["jittable"] is False
    degrade = registry.build("degradations", "blur_noise_jpeg", {"jpeg_quality": [40, 60]}, scale=2)
    assert degrade(np.zeros((1, 8, 8, 3), np.float32), jax.random.key(0)).shape == (1, 4, 4, 3)


def dli_course_image(height: int, width: int) -> np.ndarray:
    """Random pixels with one black and one white 2x2 block, so the LR image spans [0, 1]."""
    image = RNG.random((height, width, 3))
    image[:2, :2] = 0.0
    image[-2:, -2:] = 1.0
    return image


def test_dli_round_trip_equals_the_course_skimage_calls():
    image = dli_course_image(24, 32)
    expected = rescale(rescale(image, 0.5, **SKIMAGE_DLI), 2, **SKIMAGE_DLI)
    lr = dli_bilinear.factory(scale=2)(image[None].astype(np.float32), jax.random.key(0))
    restored = bilinear.factory(border="zero")(lr, 2)
    np.testing.assert_allclose(np.asarray(restored)[0], expected, atol=1e-5)


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_dli_downscale_equals_skimage_for_any_image(scale):
    image = RNG.random((24, 36, 3))
    expected = rescale(image, 1 / scale, **SKIMAGE_DLI)
    got = dli_bilinear.factory(scale=scale)(image[None].astype(np.float32), jax.random.key(0))
    np.testing.assert_allclose(np.asarray(got)[0], expected, atol=1e-6)


def test_skimage_clips_to_the_input_range_and_clip_to_input_reproduces_it():
    # A narrow-range image: the zero border pulls the outermost pixels below the input minimum.
    image = 0.25 + 0.5 * RNG.random((24, 32, 3))
    lr = dli_bilinear.factory(scale=2)(image[None].astype(np.float32), jax.random.key(0))
    expected = rescale(np.asarray(lr)[0].astype(np.float64), 2, **SKIMAGE_DLI)
    clipped = np.asarray(bilinear.factory(border="zero", clip_to_input=True)(lr, 2))[0]
    np.testing.assert_allclose(clipped, expected, atol=1e-6)
    unclipped = np.asarray(bilinear.factory(border="zero")(lr, 2))[0]
    differs = np.abs(unclipped - expected) > 1e-6
    assert differs.any()
    assert not differs[1:-1, 1:-1].any()


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_bicubic_reproduces_matlab_lr_files(shared_data, scale):
    worst_psnr = float("inf")
    for name in SET5:
        hr = mod_crop(load_rgb(shared_data / "Set5" / "HR" / f"{name}.png"), scale)
        reference = load_rgb(
            shared_data / "Set5" / "LR_bicubic" / f"X{scale}" / f"{name}x{scale}.png"
        )
        batch = hr[None].astype(np.float32) / 255
        lr = np.asarray(bicubic.factory(scale=scale)(batch, jax.random.key(0)))[0]
        worst_psnr = min(worst_psnr, psnr_uint8(np.round(lr * 255), reference))
        exact = bicubic.factory(scale=scale, matlab_uint8=True)(batch, jax.random.key(0))
        np.testing.assert_array_equal(np.round(np.asarray(exact)[0] * 255), reference)
    assert worst_psnr >= 50.0


def test_bicubic_output_is_in_range_and_rejects_odd_sizes():
    hr = RNG.random((1, 12, 12, 3)).astype(np.float32)
    hr[0, ::2] = 1.0  # stripes make the cubic kernel overshoot before the clip
    lr = np.asarray(bicubic.factory(scale=3)(hr, jax.random.key(0)))
    assert lr.shape == (1, 4, 4, 3)
    assert lr.min() >= 0.0 and lr.max() <= 1.0
    with pytest.raises(ValueError, match="divisible by scale 3"):
        bicubic.factory(scale=3)(np.zeros((1, 10, 12, 3), np.float32), jax.random.key(0))


def test_deterministic_degradations_are_jittable():
    hr = RNG.random((2, 12, 12, 3)).astype(np.float32)
    for module in (bicubic, dli_bilinear):
        degrade = module.factory(scale=2)
        jitted = jax.jit(degrade)(hr, jax.random.key(0))
        np.testing.assert_allclose(jitted, degrade(hr, jax.random.key(1)), atol=1e-7)


@pytest.fixture
def hr_batch() -> np.ndarray:
    return RNG.random((3, 32, 32, 3)).astype(np.float32)


def test_blur_noise_jpeg_same_key_same_output(hr_batch):
    degrade = blur_noise_jpeg.factory(scale=4)
    first = np.asarray(degrade(hr_batch, jax.random.key(3)))
    again = np.asarray(blur_noise_jpeg.factory(scale=4)(hr_batch, jax.random.key(3)))
    assert first.shape == (3, 8, 8, 3)
    np.testing.assert_array_equal(first, again)


def test_blur_noise_jpeg_different_keys_differ(hr_batch):
    degrade = blur_noise_jpeg.factory(scale=2)
    first = np.asarray(degrade(hr_batch, jax.random.key(0)))
    second = np.asarray(degrade(hr_batch, jax.random.key(1)))
    assert np.abs(first - second).mean() > 1e-3


def test_blur_noise_jpeg_output_is_8_bit_in_range(hr_batch):
    lr = np.asarray(blur_noise_jpeg.factory(scale=2)(hr_batch, jax.random.key(5)))
    assert lr.dtype == np.float32
    assert lr.min() >= 0.0 and lr.max() <= 1.0
    np.testing.assert_allclose(lr * 255, np.round(lr * 255), atol=1e-4)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"blur_sigma": (3.0, 0.2)}, "blur_sigma"),
        ({"blur_sigma": (0.0, 1.0)}, "blur_sigma"),
        ({"noise_sigma": (-1.0, 5.0)}, "noise_sigma"),
        ({"jpeg_quality": (0, 90)}, "jpeg_quality"),
        ({"jpeg_quality": (30, 101)}, "jpeg_quality"),
        ({"blur_kernel_size": 8}, "blur_kernel_size"),
        ({"anisotropic_prob": 1.5}, "anisotropic_prob"),
        ({"gray_noise_prob": -0.1}, "gray_noise_prob"),
    ],
)
def test_blur_noise_jpeg_validates_options(options, message):
    with pytest.raises(ValueError, match=message):
        blur_noise_jpeg.factory(scale=2, **options)


def test_scale_must_be_a_positive_integer():
    for bad in (0, 2.5, True):
        with pytest.raises(ValueError, match="scale"):
            dli_bilinear.factory(scale=bad)


def test_gaussian_kernels_are_normalised_and_oriented():
    isotropic = np.asarray(blur.gaussian_kernel(11, 1.5, 1.5, 0.0))
    assert isotropic.sum() == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(isotropic, isotropic.T, atol=1e-8)
    horizontal = np.asarray(blur.gaussian_kernel(11, 3.0, 0.5, 0.0))
    vertical = np.asarray(blur.gaussian_kernel(11, 3.0, 0.5, np.pi / 2))
    assert horizontal[5].sum() > horizontal[:, 5].sum()  # long along the rows
    np.testing.assert_allclose(vertical, horizontal.T, atol=1e-6)


def test_random_kernels_differ_per_image():
    kernels = np.asarray(blur.random_kernels(jax.random.key(0), 4, 7, (0.2, 3.0), 0.5))
    assert kernels.shape == (4, 7, 7)
    np.testing.assert_allclose(kernels.sum(axis=(1, 2)), 1.0, atol=1e-6)
    assert len({kernel.tobytes() for kernel in kernels}) == 4


def test_blur_with_a_delta_kernel_is_the_identity():
    images = RNG.random((2, 9, 9, 3)).astype(np.float32)
    delta = np.zeros((2, 5, 5), np.float32)
    delta[:, 2, 2] = 1.0
    np.testing.assert_allclose(np.asarray(blur.blur(images, delta)), images, atol=1e-7)


def test_noise_strength_is_on_the_255_scale():
    images = np.full((2, 64, 64, 3), 0.5, np.float32)
    noisy = np.asarray(noise.add_gaussian_noise(images, jax.random.key(0), (10.0, 10.0), 0.0))
    assert np.std(noisy - 0.5) * 255 == pytest.approx(10.0, rel=0.05)
    grey = np.asarray(noise.add_gaussian_noise(images, jax.random.key(0), (10.0, 10.0), 1.0))
    np.testing.assert_array_equal(grey[..., 0], grey[..., 2])


def test_jpeg_quality_controls_the_error():
    image = np.asarray(dli_course_image(32, 32), np.float32)[None]
    low = np.asarray(jpeg.compress(image, np.array([10])))
    high = np.asarray(jpeg.compress(image, np.array([95])))
    assert np.abs(low - image).mean() > np.abs(high - image).mean()
    qualities = jpeg.random_qualities(jax.random.key(0), 100, (30, 32))
    assert set(qualities.tolist()) == {30, 31, 32}
