"""``folder``: any directory of images, prepared once into a TFDS dataset cached by content."""

from __future__ import annotations

import hashlib
from functools import partial
from pathlib import Path

from zoo.plugin import DataError, is_single_channel, read_image
from zoo_datasets.cache import open_cached
from zoo_datasets.images import ImageDataset, check_split, split_view
from zoo_datasets.listing import IMAGE_EXTENSIONS, content_key, find_images, image_names


def folder_dataset(
    *, split: str, path: str, recursive: bool = False, holdout_percent: int = 10
) -> ImageDataset:
    """Any directory of PNG, JPEG, TIFF or BMP images, converted to RGB and cached by content."""
    check_split("folder", split)
    if not 0 <= holdout_percent <= 100:
        raise DataError(f"folder option holdout_percent must be 0 to 100, got {holdout_percent}.")
    root = _directory(path)
    files = find_images(root, recursive)
    if not files:
        raise DataError(_no_images_message(root, recursive))
    names = image_names(root, files)
    records, stored_names, entry = open_cached(
        "folder",
        content_key(root, files),
        lambda: [(n, partial(read_image, f)) for n, f in zip(names, files, strict=True)],
        description=f"Images from {root}, as uint8 RGB.",
    )
    return split_view(
        records,
        stored_names,
        split=split,
        in_holdout=partial(in_holdout, percent=holdout_percent),
        label=f"folder {root}",
        location=entry,
        empty_hint="Change holdout_percent, or use split 'all'.",
        is_single_channel=dict(zip(names, map(is_single_channel, files), strict=True)).__getitem__,
    )


def in_holdout(name: str, percent: int) -> bool:
    """Whether ``name`` is in the holdout: a hash of the name, so membership is fixed per image.

    Adding or removing other images never moves an image between train and holdout, unlike
    rules by position such as "every tenth file".
    """
    bucket = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big") % 100
    return bucket < percent


def _directory(path: str) -> Path:
    root = Path(path).expanduser().resolve()
    if not root.exists():
        raise DataError(
            f"folder {root} does not exist. Set the dataset's path to a directory of images."
        )
    if not root.is_dir():
        raise DataError(
            f"folder path {root} is a file, not a directory. Set path to the "
            "directory that holds the images."
        )
    return root


def _no_images_message(root: Path, recursive: bool) -> str:
    kinds = ", ".join(sorted(IMAGE_EXTENSIONS))
    where = "in it or its subfolders" if recursive else "directly in it"
    hint = (
        "Add images"
        if recursive
        else "Add images, or set recursive: true if they are in subfolders"
    )
    return f"folder {root} has no images {where} (looked for {kinds}). {hint}."
