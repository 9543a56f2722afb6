"""``embedded``: the real photographs that ship inside scikit-image, so training works offline."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
from functools import partial

import numpy as np

from zoo.plugin import to_rgb8
from zoo_datasets.cache import open_cached
from zoo_datasets.images import ImageDataset, check_split, split_view

# Every photograph in skimage.data that loads without a download, by its skimage.data name.
# Left out: synthetic or binary images (horse, logo, colorwheel, checkerboard, phantom, blobs),
# the phase-contrast reconstruction `cell`, the deliberately motion-blurred `clock` (a blurred
# target teaches blur), and the 102-pixel crop `microaneurysms` (smaller than common patches).
COLOUR = (
    "astronaut",
    "chelsea",
    "coffee",
    "hubble_deep_field",
    "immunohistochemistry",
    "motorcycle_left",
    "motorcycle_right",
    "retina",
    "rocket",
)
GREY = ("brick", "camera", "coins", "grass", "gravel", "moon", "page", "text")
PHOTOS = tuple(sorted(COLOUR + GREY))

# Four varied colour photographs: a portrait, an animal, a still life and an outdoor scene. The
# stereo pair stays together in train so that no holdout image has a near twin in training.
HOLDOUT = frozenset({"astronaut", "chelsea", "coffee", "rocket"})

# Bump when the stored pixels would change (the conversion, the list), to invalidate caches.
_FORMAT = 1


def embedded_dataset(*, split: str) -> ImageDataset:
    """The 17 real photographs inside scikit-image (13 train, 4 holdout); no download."""
    check_split("embedded", split)
    records, names, entry = open_cached(
        "embedded",
        _cache_key(),
        lambda: [(name, partial(load_photo, name)) for name in PHOTOS],
        description="The real photographs that ship inside scikit-image, as uint8 RGB.",
    )
    return split_view(
        records,
        names,
        split=split,
        in_holdout=HOLDOUT.__contains__,
        label="embedded",
        location=entry,
        is_single_channel=frozenset(GREY).__contains__,
    )


def load_photo(name: str) -> np.ndarray:
    """One photograph from skimage.data as uint8 RGB; grey ones replicated into RGB."""
    import skimage.data  # only needed to prepare the cache

    if name.startswith("motorcycle_"):
        left, right, _ = skimage.data.stereo_motorcycle()
        return to_rgb8(left if name == "motorcycle_left" else right)
    return to_rgb8(getattr(skimage.data, name)())


def _cache_key() -> str:
    # The photographs come with scikit-image, so its version stands in for their content.
    identity = {
        "format": _FORMAT,
        "photos": PHOTOS,
        "scikit-image": importlib.metadata.version("scikit-image"),
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]
