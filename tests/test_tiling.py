"""zoo.tiling with a stand-in network: one window shape, seamless stitching, uint8 end to end."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from zoo.pixels import float_to_uint8
from zoo.tiling import ALIGN, DEFAULT_TILE, upscale_array

SCALE = 2
RADIUS = 3  # the stand-in's receptive field, in LR pixels each side


class StandIn:
    """A local network: a (2 RADIUS + 1)-wide box blur (zero padding, as SAME convolutions pad),
    then nearest x2; it records the shape of every window it is given."""

    def __init__(self) -> None:
        self.shapes: list[tuple[int, ...]] = []

    def __call__(self, lr: np.ndarray) -> np.ndarray:
        assert lr.dtype == np.float32
        self.shapes.append(lr.shape)
        size = (2 * RADIUS + 1, 2 * RADIUS + 1, 1)
        blurred = ndimage.uniform_filter(lr, size=size, mode="constant")
        return blurred.repeat(SCALE, axis=0).repeat(SCALE, axis=1)


def photo(height: int, width: int) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)


def whole(image: np.ndarray) -> np.ndarray:
    return upscale_array(StandIn(), image, SCALE, tile=None, overlap=0, out_dtype=np.uint8)


@pytest.mark.parametrize(("height", "width", "tile"), [(37, 23, 8), (50, 61, 16), (64, 64, 16)])
def test_tiles_stitch_to_the_untiled_image_through_windows_of_one_shape(height, width, tile):
    image = photo(height, width)
    network = StandIn()
    tiled = upscale_array(network, image, SCALE, tile=tile, overlap=RADIUS, out_dtype=np.uint8)
    assert tiled.dtype == np.uint8 and tiled.shape == (height * SCALE, width * SCALE, 3)
    np.testing.assert_array_equal(tiled, whole(image))
    assert len(network.shapes) > 1
    assert len(set(network.shapes)) == 1  # one shape: the network compiles once
    assert all(side % ALIGN == 0 for side in network.shapes[0][:2])


def test_a_short_margin_shows_so_the_check_above_can_fail():
    image = photo(37, 23)
    tiled = upscale_array(StandIn(), image, SCALE, tile=8, overlap=0, out_dtype=np.uint8)
    assert np.abs(tiled.astype(int) - whole(image).astype(int)).max() > 0


def test_uint8_output_is_the_float_output_rounded():
    image = photo(30, 42)
    as_float = upscale_array(StandIn(), image.astype(np.float32) / 255, SCALE, tile=8, overlap=4)
    assert as_float.dtype == np.float32
    as_uint8 = upscale_array(StandIn(), image, SCALE, tile=8, overlap=4, out_dtype=np.uint8)
    np.testing.assert_array_equal(as_uint8, float_to_uint8(as_float))


def test_an_image_within_one_tile_goes_through_whole_once():
    network = StandIn()
    upscale_array(network, photo(37, 23), SCALE, tile=DEFAULT_TILE, overlap=RADIUS)
    assert network.shapes == [(40, 24, 3)]  # edge-padded to the alignment grid


def test_the_cli_default_tile_is_the_library_default():
    from zoo.cli import cli

    option = next(p for p in cli.commands["upscale"].params if p.name == "tile")
    assert option.default == DEFAULT_TILE
