"""Patch sampling and image loading: deterministic in (seed, step), errors name the image."""

from __future__ import annotations

import numpy as np
import pytest

from zoo import data
from zoo.errors import DataError


class Images(list):
    """A minimal dataset: a list of uint8 images with names."""

    def __init__(self, images, names):
        super().__init__(images)
        self.names = names


def images(*shapes):
    rng = np.random.default_rng(0)
    return Images(
        [rng.integers(0, 256, (*shape, 3), dtype=np.uint8) for shape in shapes],
        [f"img{i}" for i in range(len(shapes))],
    )


def test_batches_depend_only_on_seed_and_step():
    dataset = images((40, 50), (60, 30))
    first = data.PatchSampler(data.load_images(dataset, minimum=16), 16, 4, seed=3)
    again = data.PatchSampler(data.load_images(dataset, minimum=16), 16, 4, seed=3)
    np.testing.assert_array_equal(first.batch_at(7), again.batch_at(7))
    assert first.batch_at(7).shape == (4, 16, 16, 3)
    assert not np.array_equal(first.batch_at(7), first.batch_at(8))
    other_seed = data.PatchSampler(first.images, 16, 4, seed=4)
    assert not np.array_equal(first.batch_at(7), other_seed.batch_at(7))


def test_patches_are_cut_from_the_images():
    dataset = images((20, 20))
    sampler = data.PatchSampler(data.load_images(dataset), 20, 2, seed=0, augment=False)
    np.testing.assert_array_equal(sampler.batch_at(0)[0], dataset[0])


def test_an_image_smaller_than_the_patch_is_named():
    with pytest.raises(DataError, match=r"img1 is 30x20 pixels, smaller than the 24-pixel patch"):
        data.load_images(images((40, 40), (20, 30)), minimum=24, source="data.train")


def test_resize_makes_every_image_square_first():
    loaded = data.load_images(images((20, 30), (64, 48)), minimum=32, resize_to=32)
    assert [image.shape for image in loaded] == [(32, 32, 3), (32, 32, 3)]
    assert all(image.dtype == np.uint8 for image in loaded)
    flat = data.resize_square(np.full((10, 17, 3), 77, np.uint8), 8)
    assert (flat == 77).all()


def test_eval_images_are_mod_cropped_and_flags_default_to_false():
    dataset = images((33, 35), (40, 41))
    names, loaded = data.eval_images(dataset, 4)
    assert names == ["img0", "img1"]
    assert [image.shape[:2] for image in loaded] == [(32, 32), (40, 40)]
    assert data.single_channel_flags(dataset, 2) == [False, False]
