"""Datasets -> HR patches -> batches; the low-resolution side is made later by the degradation.

Sampling is a pure function of (seed, step): the batch for step ``s`` is the same whether a run
went straight through or was resumed at ``s``, so the data position is just the step number.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np

from zoo.errors import DataError
from zoo.pixels import float_to_uint8, uint8_to_float
from zoo.types import Dataset


def image_name(dataset: Dataset, index: int) -> str:
    names: Sequence[str] | None = getattr(dataset, "names", None)
    return str(names[index]) if names is not None else f"image #{index}"


def single_channel_flags(dataset: Dataset, count: int) -> list[bool]:
    """Which of the first ``count`` images were grey at the source (False when not declared)."""
    flags: Sequence[bool] | None = getattr(dataset, "single_channel", None)
    return [bool(flags[i]) if flags is not None else False for i in range(count)]


class Subset:
    """Some images of a dataset, by index, with their names and grey flags: the training
    images a validation hold-out leaves, or the images it takes."""

    def __init__(self, dataset: Dataset, indices: Sequence[int]) -> None:
        self.dataset = dataset
        self.indices = tuple(indices)
        self.names = tuple(image_name(dataset, i) for i in self.indices)
        flags: Sequence[bool] | None = getattr(dataset, "single_channel", None)
        self.single_channel = tuple(
            bool(flags[i]) if flags is not None else False for i in self.indices
        )

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index: int) -> np.ndarray:
        return self.dataset[self.indices[index]]

    def __repr__(self) -> str:
        return f"<Subset of {self.dataset!r}: {len(self)} images>"


def split_last(dataset: Dataset, count: int) -> tuple[Subset, Subset]:
    """(every image but the last ``count`` by index, those ``count``)."""
    kept = len(dataset) - count
    return Subset(dataset, range(kept)), Subset(dataset, range(kept, len(dataset)))


def mod_crop(image: np.ndarray, multiple: int) -> np.ndarray:
    """Crop H and W down to a multiple of ``multiple`` (the published protocol's first step)."""
    height, width = image.shape[0], image.shape[1]
    return image[: height - height % multiple, : width - width % multiple]


def load_images(
    dataset: Dataset, *, minimum: int = 1, resize_to: int | None = None, source: str = "dataset"
) -> list[np.ndarray]:
    """Every image of a dataset as uint8 HWC RGB, checked once: an image too small names itself.

    ``resize_to`` first resizes each whole image to that square size (bilinear, antialiased),
    as the DLI course did with its 256x256 inputs.
    """
    images = []
    for index in range(len(dataset)):
        image = np.asarray(dataset[index])
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise DataError(
                f"{source}: {image_name(dataset, index)} is {image.dtype} "
                f"{image.shape}; datasets must give uint8 (H, W, 3) images."
            )
        if resize_to is not None:
            image = resize_square(image, resize_to)
        if min(image.shape[:2]) < minimum:
            raise DataError(
                f"{source}: {image_name(dataset, index)} is {image.shape[1]}x{image.shape[0]} "
                f"pixels, smaller than the {minimum}-pixel patch; lower data.patch or remove it."
            )
        images.append(image)
    if not images:
        raise DataError(f"{source}: the dataset has no images.")
    return images


def resize_square(image: np.ndarray, size: int) -> np.ndarray:
    """A uint8 image resized to size x size, bilinear with antialiasing (aspect not kept)."""
    from zoo import resize

    batch = jnp.asarray(uint8_to_float(image)[None])
    return float_to_uint8(resize.resize(batch, (size, size), "linear", antialias=True)[0])


@dataclass
class PatchSampler:
    """Random HR patches with flips and 90-degree turns, deterministic in (seed, step)."""

    images: list[np.ndarray]
    patch: int
    batch: int
    seed: int
    augment: bool = True

    def batch_at(self, step: int, rows: Sequence[int] | None = None) -> np.ndarray:
        """The uint8 batch [batch, patch, patch, 3] for ``step``, or only its ``rows``.

        Every slot's random numbers are drawn whichever rows are asked for, so a row is the same
        whether one process cuts the whole batch or several processes cut a share each."""
        rng = np.random.default_rng([self.seed, step])
        picks = rng.integers(0, len(self.images), size=self.batch)
        wanted = range(self.batch) if rows is None else rows
        position = {slot: i for i, slot in enumerate(wanted)}
        out = np.empty((len(position), self.patch, self.patch, 3), dtype=np.uint8)
        for slot, index in enumerate(picks):
            image = self.images[index]
            top = rng.integers(0, image.shape[0] - self.patch + 1)
            left = rng.integers(0, image.shape[1] - self.patch + 1)
            turns, flip = 0, 0
            if self.augment:
                turns = int(rng.integers(0, 4))
                flip = int(rng.integers(0, 2))
            if slot not in position:
                continue
            crop = image[top : top + self.patch, left : left + self.patch]
            if self.augment:
                crop = np.rot90(crop, k=turns)
                if flip:
                    crop = crop[:, ::-1]
            out[position[slot]] = crop
        return out


def eval_images(
    dataset: Dataset,
    scale: int,
    *,
    limit: int | None = None,
    crop: int | None = None,
    source: str = "eval dataset",
) -> tuple[list[str], list[np.ndarray]]:
    """The evaluation HR images, mod-cropped to the scale and optionally centre-cropped."""
    count = len(dataset) if limit is None else min(limit, len(dataset))
    names, images = [], []
    for index in range(count):
        image = np.asarray(dataset[index])
        if crop is not None:
            image = centre_crop(image, crop)
        image = mod_crop(image, scale)
        if min(image.shape[:2]) < 4 * scale:
            raise DataError(
                f"{source}: {image_name(dataset, index)} is too small to evaluate at "
                f"x{scale} ({image.shape[1]}x{image.shape[0]})."
            )
        names.append(image_name(dataset, index))
        images.append(image)
    if not images:
        raise DataError(f"{source}: the dataset has no images.")
    return names, images


def centre_crop(image: np.ndarray, size: int) -> np.ndarray:
    height, width = image.shape[:2]
    top, left = max(0, (height - size) // 2), max(0, (width - size) // 2)
    return image[top : top + size, left : left + size]
