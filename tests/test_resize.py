"""zoo.resize: MATLAB imresize weights, kernels, borders, PIL agreement and jit."""

from __future__ import annotations

import math

import jax
import numpy as np
import pytest
from PIL import Image

from zoo import resize

RNG = np.random.default_rng(20240501)


def matlab_imresize_1d(signal: np.ndarray, scale: float, kernel: str, antialias: bool):
    """A line-by-line transcription of MATLAB's imresize contributions (1-based) on one axis."""
    function, width = resize.KERNELS[kernel]
    in_length = len(signal)
    out_length = math.ceil(in_length * scale - 1e-9)
    if scale < 1 and antialias:
        h = lambda x: scale * function(scale * x)
        width = width / scale
    else:
        h = function
    aux = list(range(1, in_length + 1)) + list(range(in_length, 0, -1))
    out = np.zeros(out_length)
    for x in range(1, out_length + 1):
        u = x / scale + 0.5 * (1 - 1 / scale)
        left = math.floor(u - width / 2)
        taps = [left + j for j in range(math.ceil(width) + 2)]
        weights = np.array([float(h(np.array(u - ind))) for ind in taps])
        weights /= weights.sum()
        for ind, weight in zip(taps, weights, strict=True):
            out[x - 1] += weight * signal[aux[(ind - 1) % len(aux)] - 1]
    return out


def matlab_imresize(image: np.ndarray, scale: float, kernel: str, antialias: bool = True):
    rows = np.stack(
        [matlab_imresize_1d(image[:, j], scale, kernel, antialias) for j in range(image.shape[1])],
        axis=1,
    )
    return np.stack(
        [matlab_imresize_1d(rows[i], scale, kernel, antialias) for i in range(rows.shape[0])]
    )


def as_batch(image: np.ndarray) -> np.ndarray:
    return image[None, :, :, None].astype(np.float32)


def test_cubic_kernel_values():
    x = np.array([0.0, 0.5, 1.0, 1.5, 2.0, 2.5, -0.5])
    np.testing.assert_allclose(resize.cubic(x), [1, 0.5625, 0, -0.0625, 0, 0, 0.5625])


def test_lanczos3_kernel_values():
    assert resize.lanczos3(np.array(0.0)) == pytest.approx(1.0)
    np.testing.assert_allclose(resize.lanczos3(np.array([1.0, 2.0, 3.0, 3.5])), 0, atol=1e-15)


@pytest.mark.parametrize("kernel", ["cubic", "linear", "lanczos3"])
@pytest.mark.parametrize("scale", [3, 1 / 3, 2, 1 / 4])
def test_matches_matlab_transcription(kernel, scale):
    image = RNG.random((12, 12))
    expected = matlab_imresize(image, scale, kernel)
    got = np.asarray(resize.imresize_scale(as_batch(image), scale, kernel))[0, :, :, 0]
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, atol=2e-6)


def test_nearest_downscale_picks_matlab_pixels():
    image = np.arange(36.0).reshape(6, 6)
    expected = matlab_imresize(image, 1 / 2, "nearest", antialias=False)
    got = np.asarray(resize.imresize_scale(as_batch(image), 1 / 2, "nearest"))[0, :, :, 0]
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(got, image[1::2, 1::2])


@pytest.mark.parametrize(
    ("kernel", "pil"),
    [("cubic", Image.BICUBIC), ("linear", Image.BILINEAR), ("lanczos3", Image.LANCZOS)],
)
@pytest.mark.parametrize("size", [(51, 69), (34, 46), (6, 8), (5, 23)])
def test_renormalize_border_equals_pil(kernel, pil, size):
    # PIL drops taps outside the image and rescales the rest; everything else is as MATLAB.
    image = RNG.random((17, 23)).astype(np.float32)
    expected = np.asarray(Image.fromarray(image, "F").resize(size[::-1], pil))
    got = np.asarray(resize.resize(as_batch(image), size, kernel, border="renormalize"))
    np.testing.assert_allclose(got[0, :, :, 0], expected, atol=1e-6)


@pytest.mark.parametrize("border", ["symmetric", "edge", "renormalize"])
@pytest.mark.parametrize("kernel", ["cubic", "linear", "nearest", "lanczos3"])
def test_rows_sum_to_one(kernel, border):
    for in_size, out_size in [(10, 30), (30, 10), (9, 4)]:
        matrix = resize.weight_matrix(in_size, out_size, kernel, True, border)
        np.testing.assert_allclose(matrix.sum(axis=1), 1.0, atol=1e-12)


def test_zero_border_loses_weight_only_at_the_edges():
    matrix = resize.weight_matrix(8, 16, "linear", False, "zero")
    sums = matrix.sum(axis=1)
    np.testing.assert_allclose(sums[[0, -1]], 0.75)
    np.testing.assert_allclose(sums[1:-1], 1.0)


def test_weight_matrix_is_cached_and_read_only():
    first = resize.weight_matrix(20, 10, "cubic", True, "symmetric")
    assert resize.weight_matrix(20, 10, "cubic", True, "symmetric") is first
    assert not first.flags.writeable


@pytest.mark.parametrize("kernel", ["cubic", "linear", "nearest", "lanczos3"])
@pytest.mark.parametrize("size", [(30, 21), (5, 4)])
def test_constant_image_is_preserved(kernel, size):
    image = np.full((1, 10, 7, 3), 0.375, np.float32)
    out = np.asarray(resize.resize(image, size, kernel))
    assert out.shape == (1, *size, 3)
    np.testing.assert_allclose(out, 0.375, atol=1e-6)


def test_symmetric_border_mirrors_with_the_edge_pixel_repeated():
    # A cubic upscale of [0, 1] draws on the padded [1, 0, 0, 1, 1, 0]: the ends stay in range.
    out = np.asarray(resize.resize(np.array([[[[0.0], [1.0]]]]), (1, 4), "cubic"))[0, 0, :, 0]
    expected = matlab_imresize_1d(np.array([0.0, 1.0]), 2, "cubic", True)
    np.testing.assert_allclose(out, expected, atol=1e-7)


def test_size_of_a_scale_factor_rounds_up_like_matlab():
    assert resize.scaled_size(255, 1 / 3) == 85
    assert resize.scaled_size(10, 0.25) == 3
    assert resize.scaled_size(7, 3) == 21


def test_accepts_hwc_and_nhwc_and_integer_images():
    image = (RNG.random((2, 8, 6, 3)) * 255).astype(np.uint8)
    batch = resize.resize(image, (4, 3))
    single = resize.resize(image[1], (4, 3))
    assert batch.dtype == np.float32
    np.testing.assert_allclose(np.asarray(batch[1]), np.asarray(single), rtol=1e-6)


def test_jit_matches_eager():
    image = RNG.random((2, 12, 10, 3)).astype(np.float32)
    jitted = jax.jit(lambda x: resize.imresize_scale(x, 1 / 2, "cubic"))
    np.testing.assert_allclose(
        np.asarray(jitted(image)), np.asarray(resize.imresize_scale(image, 1 / 2)), atol=1e-7
    )


def test_uint8_mode_rounds_each_pass_half_away_from_zero():
    image = RNG.integers(0, 256, (1, 12, 12, 3)).astype(np.float32) / 255
    out = np.asarray(resize.imresize_scale(image, 1 / 2, uint8=True)) * 255
    np.testing.assert_allclose(out, np.round(out), atol=1e-4)
    float_out = np.asarray(resize.imresize_scale(image, 1 / 2)) * 255
    assert np.abs(out - float_out).max() < 1.5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"kernel": "spline"}, "unknown kernel"), ({"border": "wrap"}, "unknown border")],
)
def test_bad_choices_list_the_valid_ones(kwargs, message):
    with pytest.raises(ValueError, match=message):
        resize.resize(np.zeros((1, 4, 4, 1)), (2, 2), **kwargs)
